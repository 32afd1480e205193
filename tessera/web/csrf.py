"""CSRF tokens for forms and for session-authenticated API writes.

Tokens are HMACs under TESSERA_SECRET_KEY of a secret the browser holds in an HttpOnly
cookie, so no state is stored for them and a cross-site page can neither read nor
compute them. Signed-in forms (and the API's authenticity_token) bind to the session
cookie; the login form, shown before any session exists, binds to a separate cookie.
"""

from __future__ import annotations

import hashlib
import hmac


def token(secret_key: str, purpose: str, cookie_value: str) -> str:
    mac = hmac.new(secret_key.encode(), f"{purpose}\x00{cookie_value}".encode(), hashlib.sha256)
    return mac.hexdigest()


def valid(secret_key: str, purpose: str, cookie_value: str | None, presented: str | None) -> bool:
    if not cookie_value or not presented:
        return False
    # Compared as bytes: hmac.compare_digest refuses a str holding anything but ASCII, and a
    # presented token is whatever the request carried (a form field, a header).
    expected = token(secret_key, purpose, cookie_value).encode()
    return hmac.compare_digest(expected, presented.encode("utf-8", "surrogatepass"))
