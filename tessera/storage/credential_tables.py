"""The tables of issued credentials: authorization and device codes, access and refresh
tokens, initial access tokens, pushed requests, password-reset links and values presented
once. Each secret is stored only as its SHA-256 digest; each row carries when it expires,
so the purge can find it. Part of schema.py's tables (imported from there).
"""

from __future__ import annotations

import sqlalchemy as sa

from tessera.storage.schema_types import Digest, Id, Time, fk, metadata

authorization_codes = sa.Table(
    "authorization_codes",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("digest", Digest, nullable=False, unique=True),
    fk("accounts.id"),
    fk("clients.id"),
    fk("users.id"),
    sa.Column("redirect_uri", sa.String(2000), nullable=False),
    sa.Column("scopes", sa.Text, nullable=False),
    sa.Column("code_challenge", sa.String(128), nullable=False),
    sa.Column("nonce", sa.String(512), nullable=False),
    sa.Column("family", sa.String(32), nullable=False),
    sa.Column("auth_time", Time, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False, index=True),
    sa.Column("used_at", Time, nullable=True),
    # The resources asked for (RFC 8707), space-separated; "": the account's API.
    sa.Column("audience", sa.Text, nullable=False, server_default=""),
    # RFC 9449 section 10: the DPoP key (its JWK thumbprint) the code is bound to, or NULL.
    sa.Column("dpop_jkt", sa.String(64), nullable=True),
)

# Device authorizations (RFC 8628, storage/device_codes.py): the device code is stored as
# its digest only; the user code, which a person types, normalised (8 letters, no dash).
device_codes = sa.Table(
    "device_codes",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("digest", Digest, nullable=False, unique=True),
    sa.Column("user_code", sa.String(8), nullable=False, unique=True),
    fk("accounts.id"),
    fk("clients.id"),
    sa.Column("scopes", sa.Text, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False, index=True),
    sa.Column("interval", sa.Integer, nullable=False),
    sa.Column("last_polled_at", Time, nullable=True),
    # 1 when the poll that last touched the row came sooner than the interval allowed
    # (slow_down): RETURNING reports what that very UPDATE decided.
    sa.Column("slow_down", sa.Integer, nullable=False, server_default="0"),
    sa.Column("status", sa.String(8), nullable=False),
    fk("users.id", nullable=True),
    sa.Column("auth_time", Time, nullable=True),
    sa.Column("used_at", Time, nullable=True),
)

access_tokens = sa.Table(
    "access_tokens",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("digest", Digest, nullable=False, unique=True),
    sa.Column("token_prefix", sa.String(16), nullable=False),
    fk("accounts.id"),
    fk("clients.id"),
    fk("users.id"),
    sa.Column("scopes", sa.Text, nullable=False),
    sa.Column("family", sa.String(32), nullable=False, index=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=True, index=True),
    sa.Column("used_at", Time, nullable=True),
    sa.Column("revoked_at", Time, nullable=True),
    # The resources the token is for (RFC 8707, its aud), space-separated; "": the account's API.
    sa.Column("audience", sa.Text, nullable=False, server_default=""),
    # RFC 9449 section 6: the JWK thumbprint of the DPoP key it is bound to; NULL: a bearer token.
    sa.Column("jkt", sa.String(64), nullable=True),
    sa.Index("ix_access_tokens_user_client", "user_id", "client_id"),
    # The purge finds revoked rows by this; only revoked rows are in it.
    sa.Index(
        "ix_access_tokens_revoked_at",
        "revoked_at",
        sqlite_where=sa.text("revoked_at IS NOT NULL"),
        postgresql_where=sa.text("revoked_at IS NOT NULL"),
    ),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("digest", Digest, nullable=False, unique=True),
    fk("accounts.id"),
    fk("clients.id"),
    fk("users.id"),
    sa.Column("access_token_id", Id, sa.ForeignKey("access_tokens.id", ondelete="SET NULL"), nullable=True, index=True),
    sa.Column("scopes", sa.Text, nullable=False),
    sa.Column("family", sa.String(32), nullable=False, index=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False, index=True),
    sa.Column("used_at", Time, nullable=True),
    sa.Column("revoked_at", Time, nullable=True),
    # The resources a refresh may ask for (RFC 8707 section 2.2); "": the account's API.
    sa.Column("audience", sa.Text, nullable=False, server_default=""),
    # RFC 9449 section 5.1: a public client's refresh token is bound to its DPoP key; NULL: unbound.
    sa.Column("jkt", sa.String(64), nullable=True),
    sa.Index("ix_refresh_tokens_user_client", "user_id", "client_id"),
    # The purge finds revoked rows by this; only revoked rows are in it.
    sa.Index(
        "ix_refresh_tokens_revoked_at",
        "revoked_at",
        sqlite_where=sa.text("revoked_at IS NOT NULL"),
        postgresql_where=sa.text("revoked_at IS NOT NULL"),
    ),
)

# Values that may be presented once (storage/used_once.py): DPoP proof `jti`s (RFC 9449
# section 11.1), client assertion `jti`s (RFC 7523 section 3), each kept until it could no
# longer be accepted anyway, shared by every node.
used_once = sa.Table(
    "used_once",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("digest", Digest, primary_key=True),
    sa.Column("expires_at", Time, nullable=False, index=True),
)

# Pushed authorization requests (RFC 9126, storage/pushed_requests.py): the request_uri is
# kept as its digest only. A claim (the first use at the authorization endpoint) sets used_at
# and the digest of the flow secret that carries the request through sign-in and consent;
# completed_at is set when the authorization response went back to the client.
pushed_requests = sa.Table(
    "pushed_requests",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("digest", Digest, nullable=False, unique=True),
    fk("accounts.id"),
    fk("clients.id"),
    sa.Column("parameters", sa.Text, nullable=False),  # the authorization request, a JSON object
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False, index=True),
    sa.Column("used_at", Time, nullable=True),
    sa.Column("flow_digest", Digest, nullable=True),
    sa.Column("completed_at", Time, nullable=True),
)

# Password resets by e-mail (storage/password_resets.py): the link's 256-bit token is kept
# as its digest only. used_at is set when it is spent: by setting a password, or by another
# reset of the same user, so that at most one link of a user ever works.
password_resets = sa.Table(
    "password_resets",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("digest", Digest, nullable=False, unique=True),
    fk("accounts.id"),
    fk("users.id"),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False, index=True),
    sa.Column("used_at", Time, nullable=True),
)

# Initial access tokens (RFC 7591 section 3): made by an admin, good for one registration
# before expires_at; client_id records the client registered with it.
registration_tokens = sa.Table(
    "registration_tokens",
    metadata,
    sa.Column("id", Id, primary_key=True),
    fk("accounts.id"),
    sa.Column("digest", Digest, nullable=False, unique=True),
    sa.Column("token_prefix", sa.String(16), nullable=False),
    # No foreign key: the token outlives the admin who made it, as audit entries do.
    sa.Column("created_by_id", Id, nullable=True),
    sa.Column("created_by_name", sa.String(255), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False),
    sa.Column("used_at", Time, nullable=True),
    sa.Column("client_id", Id, nullable=True),
    sa.Index("ix_registration_tokens_account_id_id", "account_id", "id"),
    sqlite_autoincrement=True,
)
