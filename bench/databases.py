"""Fresh databases for benchmark runs: a SQLite file in the run's folder, or a PostgreSQL
database of its own on the server TESSERA_BENCH_POSTGRES_URL names, dropped afterwards."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import psycopg

POSTGRES_ADMIN = os.environ.get("TESSERA_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def fresh_database(engine: str, folder: Path, prefix: str = "tessera_bench") -> str:
    if engine == "sqlite":
        return f"sqlite:///{folder / 'bench.db'}"
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return "postgresql+psycopg://" + POSTGRES_ADMIN.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str) -> None:
    """Drops a database fresh_database made on PostgreSQL (a SQLite file goes with its folder)."""
    if url.startswith("postgresql"):
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
