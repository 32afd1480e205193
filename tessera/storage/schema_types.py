"""What every table shares: the column types, the constraint naming convention and the
foreign-key column helper, with the one MetaData all tables belong to (schema.py).
"""

from __future__ import annotations

import sqlalchemy as sa

# SQLite's rowid alias needs INTEGER PRIMARY KEY exactly; PostgreSQL gets BIGINT identities.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.Float(precision=53)
Digest = sa.LargeBinary(32)

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def fk(target: str, nullable: bool = False, ondelete: str = "CASCADE") -> sa.Column:  # type: ignore[type-arg]
    """The column `<table>_id` referring to `target` ("table.id")."""
    name = target.split(".")[0].rstrip("s") + "_id"
    return sa.Column(name, Id, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable)
