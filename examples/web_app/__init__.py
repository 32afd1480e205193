"""A server-side web app that signs its users in with Tessera (Authlib, Starlette).

Authorization code flow with PKCE, state, nonce and the RFC 9207 `iss` check; the ID
token checked; refresh with rotation; the account's API called; revocation. Its pages say
what happened at each step. `tessera demo` serves it as the demo client's callback;
`python -m examples.web_app --help` runs it against any account.
"""

from .app import create_app
from .oauth import Settings

__all__ = ["Settings", "create_app"]
