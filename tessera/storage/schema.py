"""Tables, as SQLAlchemy Core metadata. Alembic migrations (storage/migrations) create them;
this module is what queries are written against, and tests check the two agree.

Conventions: times are seconds since the epoch (double precision); scopes, grant types
and allowed scopes are space-separated; redirect URIs newline-separated (neither may
contain the separator); secrets are stored only as 32-byte SHA-256 digests. The shared
types are schema_types.py's; the tables of issued credentials (codes, tokens and the like)
are credential_tables.py's, named here too so that every table is found in this module.
"""

from __future__ import annotations

import sqlalchemy as sa

from tessera.storage.credential_tables import access_tokens as access_tokens
from tessera.storage.credential_tables import authorization_codes as authorization_codes
from tessera.storage.credential_tables import device_codes as device_codes
from tessera.storage.credential_tables import password_resets as password_resets
from tessera.storage.credential_tables import pushed_requests as pushed_requests
from tessera.storage.credential_tables import refresh_tokens as refresh_tokens
from tessera.storage.credential_tables import registration_tokens as registration_tokens
from tessera.storage.credential_tables import used_once as used_once
from tessera.storage.schema_types import Digest, Id, Time, fk
from tessera.storage.schema_types import metadata as metadata

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("subdomain", sa.String(63), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("registration_policy", sa.String(8), nullable=False, server_default="off"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", Id, primary_key=True),
    fk("accounts.id"),
    sa.Column("email", sa.String(254), nullable=False),  # stored lower-cased
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    # Set: the user may not sign in, and their sessions and tokens were ended (INTERFACE.md section 6).
    sa.Column("suspended_at", Time, nullable=True),
    sa.UniqueConstraint("account_id", "email"),
)

clients = sa.Table(
    "clients",
    metadata,
    sa.Column("id", Id, primary_key=True),
    fk("accounts.id", nullable=True),  # NULL: a global client
    sa.Column("identifier", sa.String(255), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("company", sa.String(255), nullable=False, default=""),
    sa.Column("logo_url", sa.String(2000), nullable=False, default=""),
    sa.Column("redirect_uris", sa.Text, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("grant_types", sa.String(255), nullable=False),
    sa.Column("allowed_scopes", sa.Text, nullable=False, default=""),
    sa.Column("access_token_lifetime", sa.Integer, nullable=True),  # NULL: never expires
    sa.Column("refresh_token_lifetime", sa.Integer, nullable=False),
    sa.Column("access_token_format", sa.String(16), nullable=False),
    # OIDC Dynamic Client Registration's id_token_signed_response_alg; also signs JWT access tokens.
    sa.Column("signing_alg", sa.String(8), nullable=False, server_default="ES256"),
    sa.Column("introspection", sa.Boolean, nullable=False, default=False),
    fk("users.id", nullable=True, ondelete="SET NULL"),
    sa.Column("secret_hash", Digest, nullable=True),
    sa.Column("secret_prefix", sa.String(16), nullable=False, default=""),
    # A regenerated secret may leave the previous one working for a while, so that an app
    # can roll its secret without downtime (generate_secret's previous_secret_expires_in).
    sa.Column("previous_secret_hash", Digest, nullable=True),
    sa.Column("previous_secret_expires_at", Time, nullable=True),
    # model.CLIENT_REGISTRATIONS: admin, dynamic (RFC 7591) or metadata_document.
    sa.Column("registration", sa.String(24), nullable=False, server_default="admin"),
    # High-assurance options (INTERFACE.md section 10): authorization requests only through
    # PAR (RFC 9126), tokens only DPoP-bound (RFC 9449), and the public JWK set a client
    # authenticating with private_key_jwt signs its assertions with (RFC 7523).
    sa.Column("require_par", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("require_dpop", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("jwks", sa.Text, nullable=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    # identifier first: lookups by client_id search an account's clients and the global ones.
    sa.UniqueConstraint("identifier", "account_id"),
    # NULLs are distinct in a unique constraint, so global identifiers need their own index.
    sa.Index(
        "uq_clients_global_identifier",
        "identifier",
        unique=True,
        sqlite_where=sa.text("account_id IS NULL"),
        postgresql_where=sa.text("account_id IS NULL"),
    ),
    # A deleted row's id is never given to a new one (migration 0018).
    sqlite_autoincrement=True,
)

grants = sa.Table(
    "grants",
    metadata,
    sa.Column("id", Id, primary_key=True),
    fk("accounts.id"),
    fk("users.id"),
    fk("clients.id"),
    sa.Column("scopes", sa.Text, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.UniqueConstraint("user_id", "client_id"),
)


# Protected resources an admin registered for the account (RFC 8707): tokens may be asked
# for them with the `resource` parameter. The account's own API needs no row.
resources = sa.Table(
    "resources",
    metadata,
    sa.Column("id", Id, primary_key=True),
    fk("accounts.id"),
    sa.Column("uri", sa.String(2000), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("scopes", sa.Text, nullable=False, server_default=""),  # "": any scope
    sa.Column("created_at", Time, nullable=False),
    sa.UniqueConstraint("account_id", "uri"),
    sqlite_autoincrement=True,
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("digest", Digest, nullable=False, unique=True),
    fk("accounts.id"),
    fk("users.id"),
    sa.Column("auth_time", Time, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False, index=True),
    # Last use, written at most once a minute per session (the idle timeout, web/sessions.py).
    sa.Column("last_seen_at", Time, nullable=False),
)

# A one-time message for the next console page of a session (a flash, or a client secret
# shown once), sealed under a key derived from the session's cookie (web/admin/notices.py).
console_notices = sa.Table(
    "console_notices",
    metadata,
    sa.Column("id", Id, primary_key=True),
    fk("sessions.id"),
    sa.Column("sealed", sa.Text, nullable=False),
    sa.Column("expires_at", Time, nullable=False, index=True),
    sa.Index("ix_console_notices_session_id", "session_id"),
)


# The registration of a client that registered itself (RFC 7592 section 3): the digest of
# its registration access token, which a PUT replaces, and the authentication method it chose.
client_registrations = sa.Table(
    "client_registrations",
    metadata,
    sa.Column("client_id", Id, sa.ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True),
    fk("accounts.id"),
    sa.Column("token_digest", Digest, nullable=False, unique=True),
    sa.Column("token_endpoint_auth_method", sa.String(32), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)


# Throttle counters (storage/throttles.py): one row per thing counted, e.g. the sign-in
# failures of one account's email, or of one source address, shared by every node.
throttles = sa.Table(
    "throttles",
    metadata,
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("key", sa.String(320), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("blocked_until", Time, nullable=False),
    sa.Column("resets_at", Time, nullable=False, index=True),
    # 1 when the statement that last touched the row let its attempt through, 0 when it refused it.
    sa.Column("admitted", sa.Integer, nullable=False),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("id", Id, primary_key=True),
    fk("accounts.id"),
    sa.Column("kid", sa.String(64), nullable=False, unique=True),
    sa.Column("alg", sa.String(8), nullable=False),
    sa.Column("public_jwk", sa.Text, nullable=False),
    sa.Column("private_jwe", sa.Text, nullable=False),  # the private JWK, encrypted under TESSERA_SECRET_KEY
    sa.Column("created_at", Time, nullable=False),
    sa.Column("activated_at", Time, nullable=True),  # NULL: the next key, published but not signing yet
    sa.Column("retired_at", Time, nullable=True),  # set: published until tokens it signed have expired
    # One signing key and one next key per account and algorithm.
    sa.Index(
        "uq_signing_keys_current",
        "account_id",
        "alg",
        unique=True,
        sqlite_where=sa.text("activated_at IS NOT NULL AND retired_at IS NULL"),
        postgresql_where=sa.text("activated_at IS NOT NULL AND retired_at IS NULL"),
    ),
    sa.Index(
        "uq_signing_keys_next",
        "account_id",
        "alg",
        unique=True,
        sqlite_where=sa.text("activated_at IS NULL"),
        postgresql_where=sa.text("activated_at IS NULL"),
    ),
)

# The small protected resource of INTERFACE.md section 4 (/api/v2/tickets): something for
# scopes to guard that reads and writes like an API a client would call.
tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("id", Id, primary_key=True),
    fk("accounts.id"),
    sa.Column("requester_id", Id, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("priority", sa.String(16), nullable=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Index("ix_tickets_account_id_id", "account_id", "id"),
    sqlite_autoincrement=True,
)

# Who changed what (INTERFACE.md section 6, "Audit log"): written in the same transaction as
# the change; never a secret, token, code or password, whole or in part.
audit_logs = sa.Table(
    "audit_logs",
    metadata,
    sa.Column("id", Id, primary_key=True),
    fk("accounts.id"),
    # No foreign key: an entry outlives the user or client it names.
    sa.Column("actor_id", Id, nullable=True),
    sa.Column("actor_name", sa.String(255), nullable=False),
    sa.Column("source_id", Id, nullable=True),
    sa.Column("source_type", sa.String(32), nullable=False),
    sa.Column("source_label", sa.String(255), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("change_description", sa.Text, nullable=False),
    sa.Column("ip_address", sa.String(64), nullable=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Index("ix_audit_logs_account_id_id", "account_id", "id"),
    sa.Index("ix_audit_logs_created_at", "created_at"),
)

# One row per change made to a table whose rows serving processes remember (accounts,
# clients, users, signing keys: storage/changes.py), written by triggers in the changing
# transaction, so that every process, the CLI's changes included, forgets what it
# remembered within changes.CHECK_EVERY. Rows are deleted after an hour (purge.py).
changes = sa.Table(
    "changes",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("at", Time, nullable=False),
)
