"""create_app(settings): the ASGI application, its routes, error handling and lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from tessera import gc_tuning, housekeeping, mail, metrics, paths
from tessera.fetching.client_documents import MetadataDocumentResolver
from tessera.key_ring import key_ring_for
from tessera.password_reset import PasswordResets
from tessera.protocol.grants.context import GrantContext
from tessera.reasons import N_
from tessera.settings import Settings
from tessera.sign_in import PasswordAuthenticator
from tessera.storage.database import Database, open_database
from tessera.storage.errors import StorageUnavailable
from tessera.storage.stores import Stores
from tessera.throttling import Throttles
from tessera.web import pages, responses
from tessera.web.access_log import AccessLog
from tessera.web.exact_path_router import ExactPathRouter
from tessera.web.fixed_paths import FixedPathsApp
from tessera.web.request_metrics import RequestMetrics
from tessera.web.route_table import CLIENT_ENDPOINTS, routes
from tessera.web.services import Services
from tessera.web.tenancy import NotAnAccount

log = logging.getLogger("tessera")


def build_services(settings: Settings, db: Database) -> Services:
    stores = Stores.over(db)
    throttles = Throttles(stores.throttles, settings)
    authenticator = PasswordAuthenticator(stores.users, throttles, stores.audit)
    keys = key_ring_for(stores, settings)
    documents = MetadataDocumentResolver(stores.clients, settings, throttles)
    grant_context = GrantContext(
        clients=stores.clients,
        users=stores.users,
        codes=stores.codes,
        device_codes=stores.device_codes,
        tokens=stores.tokens,
        authenticator=authenticator,
        keys=keys,
        code_lifetime=settings.authorization_code_lifetime,
        refresh_reuse_grace=settings.refresh_reuse_grace,
        resources=stores.resources,
        documents=documents,
        used_once=stores.used_once,
        clock=settings.clock,
    )
    return Services(
        settings=settings,
        stores=stores,
        grant_context=grant_context,
        authenticator=authenticator,
        throttles=throttles,
        keys=keys,
        templates=pages.Templates(),
        documents=documents,
        password_resets=PasswordResets(
            stores.password_resets,
            stores.users,
            stores.audit,
            throttles,
            mail.Mailer(settings),
            settings.password_reset_lifetime,
        ),
    )


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and not request.url.path.startswith(paths.API + "/")


def _error_handlers(services: Services) -> dict[type[Exception] | int, object]:
    async def not_an_account(request: Request, exc: Exception) -> Response:
        host = exc.host if isinstance(exc, NotAnAccount) else "?"
        text = N_("There is no account at %(host)s. Check the address; accounts live at SUBDOMAIN.%(domain)s.")
        values = {"host": host, "domain": services.settings.base_domain}
        if _wants_html(request):
            # The home page of this host is the same 404: the way out is the platform's.
            return pages.message(
                services.templates, request, N_("No such account"), text, 404, values=values, way_out=None
            )
        return responses.problem(404, "not_found", text % values)

    async def unavailable(request: Request, exc: Exception) -> Response:
        log.error("storage unavailable on %s %s: %s", request.method, request.url.path, exc)
        metrics.oauth_error("temporarily_unavailable")
        text = N_("The service could not reach its database. Please try again in a moment.")
        if _wants_html(request):
            page = pages.message(services.templates, request, N_("Temporarily unavailable"), text, 503)
            page.headers["Retry-After"] = "5"  # INTERFACE.md section 9, for browsers too
            return page
        return responses.json(
            {"error": "temporarily_unavailable", "error_description": text}, 503, {"Retry-After": "5"}
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        text = {
            404: N_("There is nothing at this address. Check it for typing mistakes."),
            405: N_("This address does not accept that method."),
        }.get(status, N_("The request could not be served."))
        response: Response
        if _wants_html(request):
            title = N_("Not found") if status == 404 else N_("Not allowed")
            response = pages.message(services.templates, request, title, text, status)
        else:
            response = responses.problem(status, "not_found" if status == 404 else "method_not_allowed", text)
        # RFC 9110 section 15.5.6: a 405 names the methods the resource supports (Allow),
        # which Starlette puts in the exception's headers.
        for name, value in (getattr(exc, "headers", None) or {}).items():
            response.headers[name] = value
        return response

    async def client_gone(request: Request, exc: Exception) -> Response:
        # The client closed the connection before sending its whole body: nobody is left to
        # answer, and it is not our fault. No traceback; the access log shows 499 (nginx's
        # "client closed request"), and the server never writes it to the closed socket.
        log.debug("client closed the connection mid-request on %s %s", request.method, request.url.path)
        return Response(status_code=499)

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        text = N_("Something went wrong on our side; it has been logged. Please try again.")
        if _wants_html(request):
            return pages.message(services.templates, request, N_("Something went wrong"), text, 500)
        return responses.json({"error": "server_error", "error_description": text}, 500)

    return {
        NotAnAccount: not_an_account,
        StorageUnavailable: unavailable,
        HTTPException: http_error,
        ClientDisconnect: client_gone,
        Exception: unexpected,
    }


def create_app(settings: Settings, db: Database | None = None) -> Starlette:
    """The application. Without `db` it opens the database itself and closes it at shutdown."""
    owned = db is None
    database = open_database(settings.database_url, settings.database_timeout) if db is None else db
    services = build_services(settings, database)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        gc_tuning.tune_for_serving()
        purging = None
        if settings.purge_interval > 0:
            purging = asyncio.create_task(housekeeping.run_forever(database, settings))
        try:
            yield
        finally:
            if purging is not None:
                purging.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await purging
            # E-mails under way get their chance to leave (each is bounded by its timeout).
            await services.password_resets.mailer.drain()
            if owned:
                await database.aclose()

    app = FixedPathsApp(CLIENT_ENDPOINTS, exception_handlers=_error_handlers(services))  # type: ignore[arg-type]
    app.router = ExactPathRouter(routes(services), lifespan=lifespan)
    app.state.services = services
    if settings.access_log:
        app.add_middleware(AccessLog)
    if settings.metrics:
        metrics.enable()
        metrics.watch_database(database)
        app.add_middleware(RequestMetrics)
    return app
