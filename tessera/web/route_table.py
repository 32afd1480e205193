"""The route table: every path Tessera serves, in one place (INTERFACE.md section 4)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from tessera import paths
from tessera.web.admin import apps as admin_apps
from tessera.web.admin import audit as admin_audit
from tessera.web.admin import clients as admin_clients
from tessera.web.admin import registration as admin_registration
from tessera.web.admin import resources as admin_resources
from tessera.web.admin import tokens as admin_tokens
from tessera.web.admin import users as admin_users
from tessera.web.api import audit_logs, clients, global_clients, openapi, resources, tickets, tokens, users
from tessera.web.api.admin import admin_only
from tessera.web.api.authentication import Handler
from tessera.web.api.authentication import endpoint as api
from tessera.web.cors import (
    allow_any_origin,
    allow_any_origin_with_a_bearer_token,
    preflight,
    public_document_preflight,
)
from tessera.web.endpoints import (
    authorize,
    authorized_apps,
    device,
    device_authorization,
    discovery,
    health,
    home,
    introspect,
    login,
    logout,
    metrics,
    par,
    password_reset,
    registration,
    resource_metadata,
    revoke,
    token,
    userinfo,
)
from tessera.web.pages import STATIC
from tessera.web.services import Services


def _api_paths(path: str) -> tuple[str, str]:
    """Every /api/v2 path works with and without the .json suffix (suffixed first, so that
    `/tokens/5.json` is not read as the token id "5.json")."""
    return path + ".json", path


# Administration (INTERFACE.md section 6): admins of the account only (web/api/admin.py).
ADMINISTRATION: tuple[tuple[str, Handler, str, str], ...] = (
    (paths.API_USERS, users.list_users, "users:read", "GET"),
    (paths.API_USERS, users.create_user, "users:write", "POST"),
    (paths.API_USER, users.show_user, "users:read", "GET"),
    (paths.API_USER, users.update_user, "users:write", "PUT"),
    (paths.API_USER_PASSWORD, users.set_password, "users:write", "PUT"),
    (paths.API_CLIENTS, clients.list_clients, "clients:read", "GET"),
    (paths.API_CLIENTS, clients.create_client, "clients:write", "POST"),
    (paths.API_CLIENT, clients.show_client, "clients:read", "GET"),
    (paths.API_CLIENT, clients.update_client, "clients:write", "PUT"),
    (paths.API_CLIENT, clients.delete_client, "clients:write", "DELETE"),
    (paths.API_CLIENT_SECRET, clients.generate_secret, "clients:write", "PUT"),
    (paths.API_GLOBAL_CLIENTS, global_clients.list_global_clients, "clients:read", "GET"),
    (paths.API_GLOBAL_CLIENT, global_clients.show_global_client, "clients:read", "GET"),
    (paths.API_GLOBAL_CLIENT, global_clients.revoke_global_client, "clients:write", "DELETE"),
    (paths.API_RESOURCES, resources.list_resources, "clients:read", "GET"),
    (paths.API_RESOURCES, resources.create_resource, "clients:write", "POST"),
    (paths.API_RESOURCE, resources.show_resource, "clients:read", "GET"),
    (paths.API_RESOURCE, resources.delete_resource, "clients:write", "DELETE"),
    (paths.API_AUDIT_LOGS, audit_logs.list_audit_logs, "auditlogs:read", "GET"),
    (paths.API_AUDIT_LOG, audit_logs.show_audit_log, "auditlogs:read", "GET"),
)


# The endpoints clients call with their credentials (web/endpoints/client_requests.py):
# served without Starlette's middleware and router layers (web/fixed_paths.py; what that
# saves, and why the API and pages are not among them, is in docs/benchmarks.md).
CLIENT_ENDPOINTS = frozenset({paths.TOKEN, paths.INTROSPECT, paths.REVOKE, paths.PAR, paths.DEVICE_AUTHORIZATION})


def routes(services: Services) -> list[BaseRoute]:
    """A flat table; web/exact_path_router.py finds the parameterless ones by dictionary lookup."""

    def bind(fn: Callable[[Services, Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        return partial(fn, services)

    api_v2: list[BaseRoute] = [
        # Public, like discovery: the OpenAPI document of every route below.
        Route(path, allow_any_origin(bind(openapi.openapi)), methods=["GET"])
        for path in _api_paths(paths.API_OPENAPI)
    ]
    for path in _api_paths(paths.API_USERS_ME):
        me = allow_any_origin_with_a_bearer_token(bind(api(users.me, scope="users:read")))
        api_v2.append(Route(path, me, methods=["GET"]))
        api_v2.append(Route(path, preflight("GET"), methods=["OPTIONS"]))
    for bare, handler, scope, method in ADMINISTRATION:
        for path in _api_paths(bare):
            api_v2.append(
                Route(path, bind(api(admin_only(handler), scope=scope, administration=True)), methods=[method])
            )
    for path in _api_paths(paths.API_TOKENS):
        api_v2.append(Route(path, bind(api(tokens.list_tokens, scope="users:read")), methods=["GET"]))
        # INTERFACE.md section 4: "reading needs read (or users:read), creating and deleting write".
        api_v2.append(Route(path, bind(api(tokens.create_token, scope="write")), methods=["POST"]))
    for path in _api_paths(paths.API_TOKEN):
        api_v2.append(Route(path, bind(api(tokens.show_token, scope="users:read")), methods=["GET"]))
        api_v2.append(Route(path, bind(api(tokens.revoke_token, scope="write")), methods=["DELETE"]))
    for path in _api_paths(paths.API_TICKETS):
        api_v2.append(Route(path, bind(api(tickets.list_tickets, scope="tickets:read")), methods=["GET"]))
        api_v2.append(Route(path, bind(api(tickets.create_ticket, scope="tickets:write")), methods=["POST"]))
    for path in _api_paths(paths.API_TICKET):
        api_v2.append(Route(path, bind(api(tickets.show_ticket, scope="tickets:read")), methods=["GET"]))
        api_v2.append(Route(path, bind(api(tickets.update_ticket, scope="tickets:write")), methods=["PUT"]))
        api_v2.append(Route(path, bind(api(tickets.delete_ticket, scope="tickets:write")), methods=["DELETE"]))
    # The admin console (INTERFACE.md section 6): HTML pages, Post/Redirect/Get.
    console: list[BaseRoute] = [
        Route(paths.ADMIN, bind(admin_clients.index), methods=["GET"]),
        Route(paths.ADMIN_CLIENTS, bind(admin_clients.index), methods=["GET"]),
        Route(paths.ADMIN_CLIENTS, bind(admin_clients.create), methods=["POST"]),
        Route(paths.ADMIN_CLIENTS + "/new", bind(admin_clients.new), methods=["GET"]),
        Route(paths.ADMIN_CLIENTS + "/{client_id:int}", bind(admin_clients.edit), methods=["GET"]),
        Route(paths.ADMIN_CLIENTS + "/{client_id:int}", bind(admin_clients.update), methods=["POST"]),
        Route(paths.ADMIN_CLIENTS + "/{client_id:int}/delete", bind(admin_clients.confirm_delete), methods=["GET"]),
        Route(paths.ADMIN_CLIENTS + "/{client_id:int}/delete", bind(admin_clients.delete), methods=["POST"]),
        Route(paths.ADMIN_CLIENTS + "/{client_id:int}/secret", bind(admin_clients.regenerate), methods=["POST"]),
        Route(paths.ADMIN_APPS, bind(admin_apps.index), methods=["GET"]),
        Route(paths.ADMIN_APPS + "/{client_id:int}/revoke", bind(admin_apps.confirm_revoke), methods=["GET"]),
        Route(paths.ADMIN_APPS + "/{client_id:int}/revoke", bind(admin_apps.revoke), methods=["POST"]),
        Route(paths.ADMIN_USERS, bind(admin_users.index), methods=["GET"]),
        Route(paths.ADMIN_USERS, bind(admin_users.create), methods=["POST"]),
        Route(paths.ADMIN_USERS + "/new", bind(admin_users.new), methods=["GET"]),
        Route(paths.ADMIN_USERS + "/{user_id:int}", bind(admin_users.edit), methods=["GET"]),
        Route(paths.ADMIN_USERS + "/{user_id:int}", bind(admin_users.update), methods=["POST"]),
        Route(paths.ADMIN_USERS + "/{user_id:int}/suspend", bind(admin_users.confirm_suspend), methods=["GET"]),
        Route(paths.ADMIN_TOKENS, bind(admin_tokens.index), methods=["GET"]),
        Route(paths.ADMIN_TOKENS + "/{token_id:int}/revoke", bind(admin_tokens.confirm_revoke), methods=["GET"]),
        Route(paths.ADMIN_TOKENS + "/{token_id:int}/revoke", bind(admin_tokens.revoke), methods=["POST"]),
        Route(paths.ADMIN_AUDIT, bind(admin_audit.index), methods=["GET"]),
        Route(paths.ADMIN_RESOURCES, bind(admin_resources.index), methods=["GET"]),
        Route(paths.ADMIN_RESOURCES, bind(admin_resources.create), methods=["POST"]),
        Route(paths.ADMIN_RESOURCES + "/new", bind(admin_resources.new), methods=["GET"]),
        Route(
            paths.ADMIN_RESOURCES + "/{resource_id:int}/delete", bind(admin_resources.confirm_delete), methods=["GET"]
        ),
        Route(paths.ADMIN_RESOURCES + "/{resource_id:int}/delete", bind(admin_resources.delete), methods=["POST"]),
        Route(paths.ADMIN_REGISTRATION, bind(admin_registration.index), methods=["GET"]),
        Route(paths.ADMIN_REGISTRATION + "/policy", bind(admin_registration.set_policy), methods=["POST"]),
        Route(paths.ADMIN_REGISTRATION + "/tokens", bind(admin_registration.create_token), methods=["POST"]),
        Route(
            paths.ADMIN_REGISTRATION + "/tokens/{token_id:int}/revoke",
            bind(admin_registration.confirm_revoke_token),
            methods=["GET"],
        ),
        Route(
            paths.ADMIN_REGISTRATION + "/tokens/{token_id:int}/revoke",
            bind(admin_registration.revoke_token),
            methods=["POST"],
        ),
    ]
    return [
        # JSON endpoints that browser apps may call from any origin (web/cors.py).
        Route(paths.TOKEN, allow_any_origin(bind(token.token)), methods=["POST"]),
        Route(paths.DEVICE_AUTHORIZATION, allow_any_origin(bind(device_authorization.device_code)), methods=["POST"]),
        Route(paths.INTROSPECT, allow_any_origin(bind(introspect.introspect)), methods=["POST"]),
        Route(paths.REVOKE, allow_any_origin(bind(revoke.revoke)), methods=["POST"]),
        Route(paths.PAR, allow_any_origin(bind(par.par)), methods=["POST"]),
        Route(paths.USERINFO, allow_any_origin(bind(userinfo.userinfo_endpoint)), methods=["GET", "POST"]),
        Route(paths.JWKS, allow_any_origin(bind(discovery.jwks)), methods=["GET"]),
        # A preflight names the methods its path takes (Fetch's Access-Control-Allow-Methods).
        *[
            Route(path, preflight("POST"), methods=["OPTIONS"])
            for path in (paths.TOKEN, paths.DEVICE_AUTHORIZATION, paths.REVOKE, paths.INTROSPECT)
        ],
        Route(paths.USERINFO, preflight("GET, POST"), methods=["OPTIONS"]),
        # Dynamic client registration (RFC 7591, RFC 7592): agents in browsers register too.
        Route(paths.REGISTER, allow_any_origin(bind(registration.register)), methods=["POST"]),
        Route(paths.REGISTER, preflight("POST"), methods=["OPTIONS"]),
        Route(paths.PAR, preflight("POST"), methods=["OPTIONS"]),
        Route(paths.REGISTRATION, allow_any_origin(bind(registration.read)), methods=["GET"]),
        Route(paths.REGISTRATION, allow_any_origin(bind(registration.replace)), methods=["PUT"]),
        Route(paths.REGISTRATION, allow_any_origin(bind(registration.delete)), methods=["DELETE"]),
        Route(paths.REGISTRATION, preflight("GET, PUT, DELETE"), methods=["OPTIONS"]),
        Route(paths.AUTHORIZE, bind(authorize.new), methods=["GET", "POST"]),
        Route(paths.AUTHORIZE_DECISION, bind(authorize.decide), methods=["POST"]),
        *api_v2,
        Route(paths.HEALTHZ, health.healthz, methods=["GET"]),
        Route(paths.READYZ, health.readiness(lambda: services.stores.db), methods=["GET"]),
        Route(paths.HOME, bind(home.home), methods=["GET"]),
        Route(paths.LOGIN, bind(login.show), methods=["GET"]),
        Route(paths.LOGIN, bind(login.submit), methods=["POST"]),
        Route(paths.LOGOUT, bind(logout.logout), methods=["GET", "POST"]),
        Route(paths.PASSWORD_FORGOT, bind(password_reset.forgot), methods=["GET"]),
        Route(paths.PASSWORD_FORGOT, bind(password_reset.forgot_submit), methods=["POST"]),
        Route(paths.PASSWORD_RESET, bind(password_reset.reset), methods=["GET"]),
        Route(paths.PASSWORD_RESET, bind(password_reset.reset_submit), methods=["POST"]),
        Route(paths.PASSWORD_RESET_DONE, bind(password_reset.done), methods=["GET"]),
        Route(paths.AUTHORIZED_APPS, bind(authorized_apps.show), methods=["GET"]),
        # The device grant's verification URI (RFC 8628 section 3.3): HTML pages, no CORS.
        Route(paths.DEVICE, bind(device.show), methods=["GET"]),
        Route(paths.DEVICE, bind(device.check), methods=["POST"]),
        Route(paths.DEVICE_DECISION, bind(device.decide), methods=["POST"]),
        Route(paths.DEVICE_DECISION, bind(device.outcome), methods=["GET"]),
        Route(paths.AUTHORIZED_APPS_REVOKE, bind(authorized_apps.confirm_revoke), methods=["GET"]),
        Route(paths.AUTHORIZED_APPS_REVOKE, bind(authorized_apps.revoke), methods=["POST"]),
        Route(paths.OPENID_CONFIGURATION, allow_any_origin(bind(discovery.configuration)), methods=["GET"]),
        Route(
            paths.AUTHORIZATION_SERVER_METADATA,
            allow_any_origin(bind(discovery.configuration)),
            methods=["GET"],
        ),
        # RFC 9728 section 3.1: the API's metadata, and the same at the bare well-known path.
        *[
            Route(path, allow_any_origin(bind(resource_metadata.api_metadata)), methods=["GET"])
            for path in (paths.API_RESOURCE_METADATA, paths.PROTECTED_RESOURCE_METADATA)
        ],
        # Browser apps (MCP clients among them) read these with headers of their own.
        *[
            Route(path, public_document_preflight(), methods=["OPTIONS"])
            for path in (
                paths.OPENID_CONFIGURATION,
                paths.AUTHORIZATION_SERVER_METADATA,
                paths.API_RESOURCE_METADATA,
                paths.PROTECTED_RESOURCE_METADATA,
                paths.JWKS,
            )
        ],
        *console,
        Mount(paths.ASSETS, app=StaticFiles(directory=STATIC), name="assets"),
        Route(paths.METRICS, bind(metrics.metrics_endpoint), methods=["GET"]),
    ]
