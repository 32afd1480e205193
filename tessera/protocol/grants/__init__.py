"""Token endpoint grants: RFC 6749 sections 4.1.3, 4.3.2, 4.4.2, 6; RFC 8628 section 3.4.

GRANTS maps the grant_type parameter to the name a client must be allowed (as stored
with the client) and the module that handles it. A literal table: what exists is what
is written here. Discovery lists
the grants in this order (protocol/discovery.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tessera.protocol.grants import authorization_code, client_credentials, device_code, password, refresh_token
from tessera.protocol.grants.context import GrantContext, TokenRequest

Handler = Callable[[TokenRequest, GrantContext], Awaitable[dict[str, object]]]

# The name is the grant a client must be allowed, or None when the handler decides
# (refresh tokens also go to clients granted offline_access).
GRANTS: dict[str, tuple[str | None, Handler]] = {
    "authorization_code": ("authorization_code", authorization_code.handle),
    "refresh_token": (None, refresh_token.handle),
    "client_credentials": ("client_credentials", client_credentials.handle),
    "password": ("password", password.handle),
    # RFC 8628 section 3.4: the device polls with this URN; clients are allowed "device_code".
    "urn:ietf:params:oauth:grant-type:device_code": ("device_code", device_code.handle),
}
