"""Everything an endpoint needs, built once in create_app and passed to each endpoint."""

from __future__ import annotations

from dataclasses import dataclass

from tessera.fetching.client_documents import MetadataDocumentResolver
from tessera.key_ring import KeyRing
from tessera.password_reset import PasswordResets
from tessera.protocol.grants.context import GrantContext
from tessera.settings import Settings
from tessera.sign_in import PasswordAuthenticator
from tessera.storage.stores import Stores
from tessera.throttling import Throttles
from tessera.web.pages import Templates


@dataclass(frozen=True)
class Services:
    settings: Settings
    stores: Stores
    grant_context: GrantContext
    authenticator: PasswordAuthenticator
    throttles: Throttles
    keys: KeyRing
    templates: Templates
    # Resolves client_ids that are metadata document URLs (tessera/fetching/client_documents.py).
    documents: MetadataDocumentResolver
    # Password reset by e-mail (tessera/password_reset.py, docs/password-reset.md).
    password_resets: PasswordResets

    def now(self) -> float:
        return self.settings.clock()
