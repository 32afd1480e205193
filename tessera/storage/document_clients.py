"""Clients described by a metadata document (draft-ietf-oauth-client-id-metadata-document):
the client's identifier is the document's URL, and the client is saved in the account on
first use and updated when the document changes. Apart from clients.py because only the
fetching of documents (tessera/fetching/client_documents.py) writes these, under rules of
their own: the document decides a few fields only, and new redirect URIs withdraw consents.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tessera.model import Client
from tessera.storage import client_rows
from tessera.storage.client_rows import NewClient
from tessera.storage.schema import clients, grants

# What a metadata document decides about its client; the rest keeps Tessera's defaults.
DOCUMENT_FIELDS = ("name", "logo_url", "redirect_uris", "grant_types", "allowed_scopes")


def _document_values(new: NewClient) -> dict[str, Any]:
    return {
        "name": new.name,
        "logo_url": new.logo_url,
        "redirect_uris": "\n".join(new.redirect_uris),
        "grant_types": " ".join(new.grant_types),
        "allowed_scopes": " ".join(new.allowed_scopes),
    }


def save_document_client(conn: Connection, new: NewClient, now: float) -> tuple[Client, str]:
    """The account's client described by a metadata document (identifier = its URL),
    inserted, or updated to `new`'s metadata (new redirect URIs withdraw the consents given
    to it); with "created", "updated" or "" (unchanged, or the identifier belongs to a
    client made otherwise, which is left alone)."""
    assert new.account_id is not None and new.registration == "metadata_document"
    row = conn.execute(
        sa.select(clients).where(clients.c.account_id == new.account_id, clients.c.identifier == new.identifier)
    ).first()
    if row is None:
        return client_rows.insert(conn, new, now), "created"
    values = _document_values(new)
    if row.registration != "metadata_document" or all(getattr(row, k) == v for k, v in values.items()):
        return client_rows.client_of_row(row), ""
    if row.redirect_uris != values["redirect_uris"]:
        # New redirect URIs need the users' consent again (draft-ietf-oauth-client-id-
        # metadata-document-00 section 6.3): whoever now controls the document must not
        # collect codes silently on the strength of consents given to the old URIs.
        conn.execute(grants.delete().where(grants.c.client_id == row.id))
    updated = conn.execute(
        clients.update().where(clients.c.id == row.id).values(**values, updated_at=now).returning(*clients.c)
    ).one()
    return client_rows.client_of_row(updated), "updated"
