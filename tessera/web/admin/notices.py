"""What the next console page shows once: a flash message after an action, and a client
secret just generated (DESIGN.md: "a secret shown once travels to the next page as a
one-time value in the server-side session, never in a URL").

The notice is stored against the session and claimed by the first page that reads it, so
a reload shows it no more. It is sealed (JWE "dir" + A256GCM) under a key derived with
HKDF-SHA256 from TESSERA_SECRET_KEY and the session cookie's secret, of which the database
holds only a digest: a database dump alone does not reveal a secret (INTERFACE.md section 5).
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from tessera.web.services import Services
from tessera.web.sessions import CurrentSession

_HEADER = {"alg": "dir", "enc": "A256GCM"}
LIFETIME = 600  # an action's notice waits this long for its page


@dataclass(frozen=True, slots=True)
class Notice:
    message: str
    tone: str = "success"  # success | error
    secret: str | None = None  # a client secret, shown once beside client `client_id`
    client_id: int | None = None


def _key(services: Services, current: CurrentSession) -> OctKey:
    derived = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=current.cookie.encode("utf-8"),
        info=b"tessera console notices v1",
    ).derive(services.settings.secret_key.encode("utf-8"))
    return OctKey.import_key(derived)


async def leave(services: Services, current: CurrentSession, notice: Notice) -> None:
    body = orjson.dumps(
        {"message": notice.message, "tone": notice.tone, "secret": notice.secret, "client_id": notice.client_id}
    )
    sealed = jwe.encrypt_compact(_HEADER, body, _key(services, current))
    now = services.now()
    await services.stores.console_notices.put(current.session.id, sealed, now, now + LIFETIME)


async def take(services: Services, current: CurrentSession) -> Notice | None:
    sealed = await services.stores.console_notices.take(current.session.id, services.now())
    if sealed is None:
        return None
    try:
        data = orjson.loads(jwe.decrypt_compact(sealed, _key(services, current)).plaintext or b"")
    except (JoseError, ValueError):
        return None  # sealed under another secret key: nothing to show
    return Notice(
        message=str(data.get("message", "")),
        tone=str(data.get("tone", "success")),
        secret=data.get("secret"),
        client_id=data.get("client_id"),
    )
