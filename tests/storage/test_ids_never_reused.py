"""A deleted row's id is never given to a new row (migration 0018): an audit entry, a
console link or an integration that kept "client #11" must never name another client.
PostgreSQL's identity columns never reuse a value; SQLite needs AUTOINCREMENT, which
migration 0018 adds by rebuilding the tables, keeping every row and every reference."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from tessera.storage import migrate, schema
from tessera.storage.engine import create_engine

REUSED_TABLES = ("clients", "resources", "tickets", "registration_tokens")


def _parents(conn: Connection) -> tuple[int, int]:
    """An account and its admin; their ids."""
    account = conn.execute(
        schema.accounts.insert().values(subdomain="acme", name="Acme", created_at=0).returning(schema.accounts.c.id)
    ).scalar_one()
    user = conn.execute(
        schema.users.insert()
        .values(
            account_id=account,
            email="a@acme.test",
            name="A",
            role="admin",
            password_hash="x",
            created_at=0,
            updated_at=0,
        )
        .returning(schema.users.c.id)
    ).scalar_one()
    return account, user


def _row(table: str, account: int, user: int, n: int) -> dict[str, Any]:
    """The columns a row of `table` needs; `n` keeps unique columns apart."""
    if table == "clients":
        return {
            "account_id": account,
            "identifier": f"app-{n}",
            "name": f"App {n}",
            "redirect_uris": "https://app.test/cb",
            "kind": "confidential",
            "grant_types": "authorization_code",
            "refresh_token_lifetime": 3600,
            "access_token_format": "opaque",
            "created_at": 0,
            "updated_at": 0,
        }
    if table == "resources":
        return {"account_id": account, "uri": f"https://api{n}.test", "name": f"API {n}", "created_at": 0}
    if table == "tickets":
        return {
            "account_id": account,
            "requester_id": user,
            "subject": f"s{n}",
            "description": "d",
            "status": "open",
            "created_at": 0,
            "updated_at": 0,
        }
    return {
        "account_id": account,
        "digest": bytes([n]) * 32,
        "token_prefix": "tok",
        "created_by_name": "A",
        "created_at": 0,
        "expires_at": 1,
    }


def _insert(conn: Connection, table: str, values: dict[str, Any]) -> int:
    target = schema.metadata.tables[table]
    return int(conn.execute(target.insert().values(**values).returning(target.c.id)).scalar_one())


def _delete(conn: Connection, table: str, row_id: int) -> None:
    target = schema.metadata.tables[table]
    conn.execute(target.delete().where(target.c.id == row_id))


@pytest.mark.parametrize("table", REUSED_TABLES)
def test_the_newest_rows_id_is_not_given_again_after_it_is_deleted(empty_url: str, table: str) -> None:
    migrate.upgrade(empty_url)
    engine = create_engine(empty_url)
    try:
        with engine.begin() as conn:
            account, user = _parents(conn)
            first = _insert(conn, table, _row(table, account, user, 1))
            newest = _insert(conn, table, _row(table, account, user, 2))
            _delete(conn, table, newest)
            after = _insert(conn, table, _row(table, account, user, 3))
    finally:
        engine.dispose()
    assert first < newest < after


def _sqlite_rows(path: Path, sql: str) -> list[Any]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_migration_0018_keeps_every_row_and_every_reference(tmp_path: Path) -> None:
    """The rebuild runs with foreign keys off: with them on, dropping the old clients table
    would have deleted every token, grant and code of every client (ON DELETE CASCADE)."""
    path = tmp_path / "tessera.db"
    url = f"sqlite:///{path}"
    command.upgrade(migrate.alembic_config(url), "0017")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            account, user = _parents(conn)
            ids = {
                table: [_insert(conn, table, _row(table, account, user, n)) for n in (1, 2, 3)]
                for table in REUSED_TABLES
            }
            global_client = _insert(conn, "clients", {**_row("clients", account, user, 4), "account_id": None})
            client = ids["clients"][1]
            conn.execute(
                schema.access_tokens.insert().values(
                    digest=b"t" * 32,
                    token_prefix="t",
                    account_id=account,
                    client_id=client,
                    user_id=user,
                    scopes="read",
                    family="f",
                    created_at=0,
                )
            )
            conn.execute(
                schema.grants.insert().values(
                    account_id=account, user_id=user, client_id=client, scopes="read", created_at=0, updated_at=0
                )
            )
            # A row deleted before the migration: the rebuilt table keeps the others.
            _delete(conn, "clients", ids["clients"][2])
    finally:
        engine.dispose()

    migrate.upgrade(url)

    assert migrate._revision(url) == migrate.HEAD
    for table in REUSED_TABLES:
        (sql,) = _sqlite_rows(path, f"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'")[0]
        assert "AUTOINCREMENT" in sql, table
    assert _sqlite_rows(path, "SELECT id FROM clients ORDER BY id") == [
        (ids["clients"][0],),
        (client,),
        (global_client,),
    ]
    for table in ("resources", "tickets", "registration_tokens"):
        assert [r[0] for r in _sqlite_rows(path, f"SELECT id FROM {table} ORDER BY id")] == ids[table]
    assert _sqlite_rows(path, "SELECT client_id FROM access_tokens") == [(client,)]
    assert _sqlite_rows(path, "SELECT client_id FROM grants") == [(client,)]
    assert _sqlite_rows(path, "PRAGMA foreign_key_check") == []
    # The indexes come back with the tables, the partial one with its condition.
    (partial,) = _sqlite_rows(path, "SELECT sql FROM sqlite_master WHERE name = 'uq_clients_global_identifier'")[0]
    assert "WHERE account_id IS NULL" in partial
    # The rebuilt table keeps its own references, and the tables that refer to it theirs.
    assert sorted(r[2] for r in _sqlite_rows(path, "PRAGMA foreign_key_list('clients')")) == ["accounts", "users"]
    assert "clients" in {r[2] for r in _sqlite_rows(path, "PRAGMA foreign_key_list('access_tokens')")}

    # Schema and metadata agree (the same check as test_contract.py, on a migrated file).
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []
            newest = _insert(conn, "clients", _row("clients", account, user, 5))
            _delete(conn, "clients", newest)
            assert _insert(conn, "clients", _row("clients", account, user, 6)) > newest
    finally:
        engine.dispose()


def test_migration_0018_goes_back_down_keeping_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "tessera.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            account, user = _parents(conn)
            client = _insert(conn, "clients", _row("clients", account, user, 1))
    finally:
        engine.dispose()
    command.downgrade(migrate.alembic_config(url), "0017")
    (sql,) = _sqlite_rows(path, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'clients'")[0]
    assert "AUTOINCREMENT" not in sql
    assert _sqlite_rows(path, "SELECT id FROM clients") == [(client,)]
    assert _sqlite_rows(path, "SELECT count(*) FROM users") == [(1,)]
