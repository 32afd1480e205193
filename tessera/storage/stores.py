"""Every store over one Database, built once at start-up and passed down."""

from __future__ import annotations

from dataclasses import dataclass

from tessera.storage.accounts import AccountStore
from tessera.storage.clients import ClientStore
from tessera.storage.codes import CodeStore
from tessera.storage.database import Database
from tessera.storage.grants import GrantStore
from tessera.storage.keys import KeyStore
from tessera.storage.login_failures import LoginFailureStore
from tessera.storage.sessions import SessionStore
from tessera.storage.tickets import TicketStore
from tessera.storage.tokens import TokenStore
from tessera.storage.users import UserStore


@dataclass(frozen=True)
class Stores:
    db: Database
    accounts: AccountStore
    users: UserStore
    clients: ClientStore
    grants: GrantStore
    codes: CodeStore
    tokens: TokenStore
    sessions: SessionStore
    login_failures: LoginFailureStore
    keys: KeyStore
    tickets: TicketStore

    @classmethod
    def over(cls, db: Database) -> Stores:
        tokens = TokenStore(db)
        return cls(
            db=db,
            accounts=AccountStore(db),
            users=UserStore(db),
            clients=ClientStore(db),
            grants=GrantStore(db, tokens),
            codes=CodeStore(db),
            tokens=tokens,
            sessions=SessionStore(db),
            login_failures=LoginFailureStore(db),
            keys=KeyStore(db),
            tickets=TicketStore(db),
        )
