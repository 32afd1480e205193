"""The ASGI entry point uvicorn workers import: settings from the environment."""

from __future__ import annotations

from starlette.applications import Starlette

from tessera.app import create_app
from tessera.settings import load_settings


def app() -> Starlette:
    return create_app(load_settings())
