"""SQLite never gives a deleted row's id to a new one: clients, resources, tickets and
initial access tokens get AUTOINCREMENT

Without it SQLite numbers a new row one past the largest id in the table, so deleting the
newest client and creating another gave the new one the old id: an audit entry or an
integration that kept "client #11" then named a different client. PostgreSQL's identity
columns never reuse a value, so this changes SQLite only.

SQLite cannot add AUTOINCREMENT to a table; the table is rebuilt (Alembic's batch mode:
a copy with the new definition, the rows copied, the old table dropped, the copy renamed).
Foreign key enforcement is off while that runs, or dropping the old table would delete
every row that refers to it (ON DELETE CASCADE): tokens, grants, codes. All of it is one
transaction, checked with foreign_key_check before it commits.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 23:50:00
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# Tables whose rows are deleted and whose ids are shown (APIs, console, CLI, audit log).
# Users and accounts are suspended, never deleted; tokens are left as they are, since
# AUTOINCREMENT would add a write to every token issued (docs/architecture.md).
TABLES = ("clients", "resources", "tickets", "registration_tokens")


def _rebuild(autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    # PRAGMA foreign_keys is a no-op inside a transaction: set it before BEGIN. The
    # connection runs without an implicit transaction (engine.py), so none is open here.
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        bind.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            for table in TABLES:
                with op.batch_alter_table(
                    table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
                ):
                    pass
            broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"rebuilding {', '.join(TABLES)} left rows without their parent: {broken[:5]}")
        except BaseException:
            bind.exec_driver_sql("ROLLBACK")
            raise
        bind.exec_driver_sql("COMMIT")
    finally:
        bind.exec_driver_sql("PRAGMA foreign_keys=ON")


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
