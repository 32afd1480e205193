"""`tessera serve` and `tessera demo`."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import click
import uvicorn

from tessera.cli import demo_seed
from tessera.cli.context import CliState, migrate_schema, run

LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        "tessera": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


def _uvicorn_config(host: str, port: int, workers: int) -> dict[str, Any]:
    return {
        "host": host,
        "port": port,
        "workers": workers,
        "factory": True,
        "loop": "uvloop",
        "http": "httptools",
        "access_log": False,  # our own access log leaves out query strings (web/access_log.py)
        "log_config": LOG_CONFIG,
        "server_header": False,
        "lifespan": "on",
    }


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--no-migrate", is_flag=True, help="Do not migrate the schema first.")
@click.pass_obj
def serve(state: CliState, host: str, port: int, workers: int, no_migrate: bool) -> None:
    """Serve every account over HTTP (migrating the schema first)."""
    settings = state.settings()
    if not no_migrate:
        migrate_schema(settings)
    # Worker processes build their settings from the environment: hand the URL down.
    os.environ["TESSERA_DATABASE_URL"] = settings.database_url
    uvicorn.run("tessera.asgi:app", **_uvicorn_config(host, port, workers))


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.pass_obj
def demo(state: CliState, host: str, port: int) -> None:
    """Seed a demo account, admin and client, then serve; prints how to try it."""
    settings = state.settings()
    seeded = run(settings, lambda stores: demo_seed.seed(stores, settings))
    os.environ["TESSERA_DATABASE_URL"] = settings.database_url
    click.echo(demo_seed.instructions(settings, seeded, port))
    asyncio.run(demo_seed.serve_with_callback(host, port, seeded, settings, _uvicorn_config(host, port, 1)))
