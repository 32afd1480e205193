"""`tessera serve` and `tessera demo`."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import click
import uvicorn

from tessera import key_ring, mail_catcher
from tessera.cli import demo_seed, listening, where
from tessera.cli.context import (
    CliState,
    fail,
    migrate_schema,
    on_stores,
    require_current_schema,
    run,
    say_database,
)
from tessera.key_cipher import KeyCipher
from tessera.server_settings import ServerSettings, check_serving_secret_key, load_server_settings
from tessera.settings import SettingsError
from tessera.urls import SERVE_PORT
from tessera.web.connection_limits import protocol_factory

LOG_LEVELS = ("debug", "info", "warning", "error")


def log_config(level: str) -> dict[str, Any]:
    """Everything on stderr at `level`. uvicorn's access log stays off: Tessera's own
    (web/access_log.py) leaves out query strings, or redacts their secrets at debug."""
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "tessera": {"handlers": ["stderr"], "level": upper, "propagate": False},
        },
    }


def _uvicorn_config(host: str, port: int, workers: int, limits: ServerSettings, log_level: str) -> dict[str, Any]:
    return {
        "host": host,
        "port": port,
        "workers": workers,
        "factory": True,
        "loop": "uvloop",
        # httptools, with the header-size, header-count and read-time limits uvicorn lacks.
        "http": protocol_factory(limits),
        "timeout_keep_alive": limits.keep_alive_timeout,
        "limit_concurrency": limits.max_connections or None,
        "access_log": False,  # our own access log redacts query strings (web/access_log.py)
        "log_config": log_config(log_level),
        "server_header": False,
        "lifespan": "on",
    }


def _server_settings() -> ServerSettings:
    try:
        return load_server_settings()
    except SettingsError as problem:
        fail(str(problem))


log_level_option = click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    default="info",
    show_default=True,
    envvar="TESSERA_LOG_LEVEL",
    help="Log level of the server's log on stderr (env TESSERA_LOG_LEVEL).",
)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=SERVE_PORT, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--no-migrate", is_flag=True, help="Do not migrate the schema first.")
@log_level_option
@click.pass_obj
def serve(state: CliState, host: str, port: int, workers: int, no_migrate: bool, log_level: str) -> None:
    """Serve every account over HTTP (migrating the schema first)."""
    try:
        check_serving_secret_key(database_url=where.chosen_url(state.database_url, os.environ))
    except SettingsError as problem:
        fail(str(problem))
    limits = _server_settings()  # every setting checked before the database is named or touched
    listening.require_free(host, port, "--port")
    settings = state.settings(may_create=not no_migrate)
    if no_migrate:
        require_current_schema(settings)
    else:
        migrate_schema(settings)
    # A key that cannot open the stored signing keys is said now, not by every token later.
    on_stores(settings, lambda stores: key_ring.check_secret_key(stores.keys, KeyCipher(settings.secret_key)))
    say_database()
    # Worker processes build their settings from the environment: hand the URL down.
    os.environ["TESSERA_DATABASE_URL"] = settings.database_url
    uvicorn.run("tessera.asgi:app", **_uvicorn_config(host, port, workers, limits, log_level.lower()))


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=SERVE_PORT, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--samples-port",
    default=demo_seed.CALLBACK_PORT,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port on 127.0.0.1 of the sample apps (the demo client's callback).",
)
@log_level_option
@click.pass_obj
def demo(state: CliState, host: str, port: int, samples_port: int, log_level: str) -> None:
    """Seed a demo account, admin and clients, then serve it and the sample apps; prints how to try it."""
    if port == samples_port:
        fail(f"--port and --samples-port are both {port}: give the sample apps another port")
    listening.require_free(host, port, "--port")
    listening.require_free("127.0.0.1", samples_port, "--samples-port")
    settings = state.settings(may_create=True)
    limits = _server_settings()
    seeded = run(settings, lambda stores: demo_seed.seed(stores, settings))
    say_database()
    os.environ["TESSERA_DATABASE_URL"] = settings.database_url
    samples = demo_seed.sample_apps(settings, seeded, port, samples_port)
    click.echo(where.demo_lines(settings.database_url, demo_seed.SUBDOMAIN))
    click.echo(demo_seed.instructions(settings, seeded, port, samples_port, samples is not None))
    mail_catcher.start_for_demo(click.echo)
    config = _uvicorn_config(host, port, 1, limits, log_level.lower())
    asyncio.run(demo_seed.serve_with_samples(config, samples, samples_port))
