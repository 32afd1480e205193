"""The ASGI entry point uvicorn workers import: settings from the environment."""

from __future__ import annotations

from starlette.applications import Starlette

from tessera.app import create_app
from tessera.settings import load_settings
from tessera.web.access_log import redact_uvicorn_access_log


def app() -> Starlette:
    # Called in each worker after uvicorn has configured logging, however it was started.
    redact_uvicorn_access_log()
    return create_app(load_settings())
