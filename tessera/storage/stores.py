"""Every store over one Database, built once at start-up and passed down."""

from __future__ import annotations

from dataclasses import dataclass

from tessera.storage.accounts import SqlAccountStore
from tessera.storage.audit import SqlAuditStore
from tessera.storage.clients import SqlClientStore
from tessera.storage.codes import SqlCodeStore
from tessera.storage.consents import SqlConsentStore
from tessera.storage.console_notices import SqlConsoleNoticeStore
from tessera.storage.database import Database
from tessera.storage.device_codes import SqlDeviceCodeStore
from tessera.storage.keys import SqlKeyStore
from tessera.storage.password_resets import SqlPasswordResetStore
from tessera.storage.pushed_requests import SqlPushedRequestStore
from tessera.storage.registrations import SqlRegistrationStore
from tessera.storage.resources import SqlResourceStore
from tessera.storage.sessions import SqlSessionStore
from tessera.storage.throttles import SqlThrottleStore
from tessera.storage.tickets import SqlTicketStore
from tessera.storage.tokens import SqlTokenStore
from tessera.storage.used_once import SqlUsedOnceStore
from tessera.storage.users import SqlUserStore


@dataclass(frozen=True)
class Stores:
    db: Database
    accounts: SqlAccountStore
    users: SqlUserStore
    clients: SqlClientStore
    consents: SqlConsentStore
    codes: SqlCodeStore
    device_codes: SqlDeviceCodeStore
    tokens: SqlTokenStore
    sessions: SqlSessionStore
    throttles: SqlThrottleStore
    keys: SqlKeyStore
    tickets: SqlTicketStore
    audit: SqlAuditStore
    console_notices: SqlConsoleNoticeStore
    resources: SqlResourceStore
    registrations: SqlRegistrationStore
    used_once: SqlUsedOnceStore
    pushed_requests: SqlPushedRequestStore
    password_resets: SqlPasswordResetStore

    @classmethod
    def over(cls, db: Database) -> Stores:
        tokens = SqlTokenStore(db)
        clients = SqlClientStore(db, tokens)
        users = SqlUserStore(db, tokens)
        return cls(
            db=db,
            accounts=SqlAccountStore(db),
            users=users,
            clients=clients,
            consents=SqlConsentStore(db, tokens),
            codes=SqlCodeStore(db),
            device_codes=SqlDeviceCodeStore(db),
            tokens=tokens,
            sessions=SqlSessionStore(db),
            throttles=SqlThrottleStore(db),
            keys=SqlKeyStore(db),
            tickets=SqlTicketStore(db),
            audit=SqlAuditStore(db),
            console_notices=SqlConsoleNoticeStore(db),
            resources=SqlResourceStore(db),
            registrations=SqlRegistrationStore(db, clients),
            used_once=SqlUsedOnceStore(db),
            pushed_requests=SqlPushedRequestStore(db),
            password_resets=SqlPasswordResetStore(db, users),
        )
