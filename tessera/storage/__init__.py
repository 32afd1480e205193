"""Persistence: SQLAlchemy Core tables, Alembic migrations, one module per aggregate.

No SQLAlchemy row leaves this package: every function returns model dataclasses.
"""
