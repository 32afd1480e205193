"""Signing keys at rest: encrypted as JWE (RFC 7516, "dir" + A256GCM) under a key derived
from TESSERA_SECRET_KEY with HKDF-SHA256 (RFC 5869). Both from well-kept libraries
(joserfc, cryptography); nothing here is hand-made cryptography.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

_HEADER = {"alg": "dir", "enc": "A256GCM"}


class WrongSecretKey(Exception):
    """A sealed signing key that this secret key does not open."""

    def __init__(self) -> None:
        super().__init__(
            "the signing keys stored in the database cannot be decrypted with this secret key: use the "
            "TESSERA_SECRET_KEY (or, for SQLite, the .secret_key file) they were stored with"
        )


class KeyCipher:
    def __init__(self, secret_key: str) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"tessera signing keys v1").derive(
            secret_key.encode("utf-8")
        )
        self._key = OctKey.import_key(derived)

    def seal(self, plaintext: str) -> str:
        return jwe.encrypt_compact(_HEADER, plaintext.encode("utf-8"), self._key)

    def open(self, sealed: str) -> str:
        try:
            data = jwe.decrypt_compact(sealed, self._key).plaintext
        except JoseError:
            raise WrongSecretKey() from None
        assert data is not None
        return data.decode("utf-8")
