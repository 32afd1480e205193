"""HTML pages: Jinja2 templates rendered with the headers every page must carry.

INTERFACE.md section 5: pages cannot be framed (X-Frame-Options and CSP frame-ancestors),
leak no Referer, and are never cached. Styles come from our own origin; no page runs a
script except the form_post response, which gets a per-response nonce.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from tessera import paths

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"

_CSP = "default-src 'none'; style-src 'self'; img-src 'self' https: data:; frame-ancestors 'none'; base-uri 'none'"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    # Every page links and posts to tessera/paths.py's names, never to a literal path.
    env.globals["paths"] = paths
    return env


def security_headers(script_nonce: str | None = None) -> dict[str, str]:
    csp = _CSP if script_nonce is None else f"{_CSP}; script-src 'nonce-{script_nonce}'"
    return {
        "Content-Security-Policy": csp,
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "X-Content-Type-Options": "nosniff",
    }


def redirect_headers() -> dict[str, str]:
    """A redirect that may carry a code or token must not be cached or leak a Referer."""
    return {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def render(env: Environment, name: str, status: int = 200, *, script: bool = False, **context: Any) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16) if script else None
    html = env.get_template(name).render(script_nonce=nonce, **context)
    return HTMLResponse(html, status_code=status, headers=security_headers(nonce))


def message(
    env: Environment, title: str, text: str, status: int, *, account_name: str | None = None, **context: Any
) -> HTMLResponse:
    context.setdefault("status_is_error", status >= 400)
    return render(env, "message.html", status, title=title, text=text, account_name=account_name, **context)
