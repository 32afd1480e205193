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
ASSETS = "/assets"
HEALTHZ = "/healthz"

# The REST API; every API path also answers with a ".json" suffix.
API = "/api/v2"
API_USERS = API + "/users"
API_USERS_ME = API_USERS + "/me"
API_CLIENTS = API + "/oauth/clients"
API_GLOBAL_CLIENTS = API + "/oauth/global_clients"
API_TOKENS = API + "/oauth/tokens"
API_TOKEN = API_TOKENS + "/{token_id}"
API_TICKETS = API + "/tickets"
API_TICKET = API_TICKETS + "/{ticket_id}"
