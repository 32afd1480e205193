"""Every path Tessera serves on an account host, named once (INTERFACE.md section 4).

The route table, discovery, the templates (as `paths` in every page's context), redirects
and the CLI's demo read these names; a path changes here or nowhere.
"""

from __future__ import annotations

# The authorization endpoint (RFC 6749 section 3.1) and its consent form.
AUTHORIZE = "/oauth/authorizations/new"
AUTHORIZE_DECISION = "/oauth/authorizations"

# Endpoints clients call with their credentials or tokens.
TOKEN = "/oauth/tokens"
REVOKE = "/oauth/revoke"
INTROSPECT = "/oauth/introspect"
USERINFO = "/oauth/userinfo"
JWKS = "/oauth/jwks"
# The device authorization grant (RFC 8628): the device asks here for its codes...
DEVICE_AUTHORIZATION = "/oauth/device/code"
# Pushed authorization requests (RFC 9126 section 2).
PAR = "/oauth/par"
# Dynamic client registration (RFC 7591 section 3) and each registration (RFC 7592 section 2).
REGISTER = "/oauth/register"
REGISTRATION = REGISTER + "/{client_id}"

# Discovery (RFC 8414 section 3, OIDC Discovery 1.0 section 4).
OPENID_CONFIGURATION = "/.well-known/openid-configuration"
AUTHORIZATION_SERVER_METADATA = "/.well-known/oauth-authorization-server"

# Browser pages; the login form's cookie is scoped to ACCESS.
HOME = "/"
ACCESS = "/access"
LOGIN = ACCESS + "/login"
LOGOUT = ACCESS + "/logout"
AUTHORIZED_APPS = ACCESS + "/apps"
AUTHORIZED_APPS_REVOKE = AUTHORIZED_APPS + "/revoke"
# Password reset by e-mail: ask for a link, then set a new password with it.
PASSWORD_FORGOT = ACCESS + "/password/forgot"
PASSWORD_RESET = ACCESS + "/password/reset"
# Where setting it lands (Post/Redirect/Get): reloading says the same, without the token.
PASSWORD_RESET_DONE = PASSWORD_RESET + "/done"
# ...and the user enters the user code here (the verification URI), then allows or denies.
DEVICE = "/device"
DEVICE_DECISION = DEVICE + "/decision"
ASSETS = "/assets"
HEALTHZ = "/healthz"
READYZ = "/readyz"
# Prometheus metrics on the platform host, when TESSERA_METRICS=1 (INTERFACE.md section 9).
METRICS = "/metrics"

# The admin console (INTERFACE.md section 6).
ADMIN = "/admin"
ADMIN_CLIENTS = ADMIN + "/clients"
ADMIN_APPS = ADMIN + "/apps"
ADMIN_USERS = ADMIN + "/users"
ADMIN_TOKENS = ADMIN + "/tokens"
ADMIN_AUDIT = ADMIN + "/audit"
ADMIN_REGISTRATION = ADMIN + "/registration"

# The REST API; every API path also answers with a ".json" suffix.
API = "/api/v2"
API_USERS = API + "/users"
API_USERS_ME = API_USERS + "/me"
API_USER = API_USERS + "/{user_id}"
API_USER_PASSWORD = API_USER + "/password"
API_CLIENTS = API + "/oauth/clients"
API_CLIENT = API_CLIENTS + "/{client_id}"
API_CLIENT_SECRET = API_CLIENT + "/generate_secret"
API_GLOBAL_CLIENTS = API + "/oauth/global_clients"
API_GLOBAL_CLIENT = API_GLOBAL_CLIENTS + "/{client_id}"
API_AUDIT_LOGS = API + "/audit_logs"
API_AUDIT_LOG = API_AUDIT_LOGS + "/{audit_log_id}"
API_OPENAPI = API + "/openapi"
API_TOKENS = API + "/oauth/tokens"
API_TOKEN = API_TOKENS + "/{token_id}"
API_RESOURCES = API + "/oauth/resources"
API_RESOURCE = API_RESOURCES + "/{resource_id}"
API_TICKETS = API + "/tickets"
API_TICKET = API_TICKETS + "/{ticket_id}"

# Protected-resource metadata (RFC 9728 section 3.1): the well-known prefix, and the
# account's API's document, whose path is the prefix followed by the API's path.
PROTECTED_RESOURCE_METADATA = "/.well-known/oauth-protected-resource"
API_RESOURCE_METADATA = PROTECTED_RESOURCE_METADATA + API

# The console's page of registered resources (RFC 8707).
ADMIN_RESOURCES = ADMIN + "/resources"
