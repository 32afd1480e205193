"""HTML pages: Jinja2 templates rendered in the reader's language with the headers every
page must carry.

INTERFACE.md section 5: pages cannot be framed (X-Frame-Options and CSP frame-ancestors),
leak no Referer, and are never cached. Styles come from our own origin; no page runs a
script except the form_post response, which gets a per-response nonce.

Languages (tessera/i18n.py, tessera/web/locales.py): every template's words are gettext
messages (jinja2.ext.i18n, newstyle: `{{ _("Hello %(name)s", name=...) }}` escapes its
values). There is one Environment per language, built once at start-up, with that
language's catalog installed as its globals, rather than one Environment given gettext
with each render: a macro imported from another template (imported without context, so
cached) and every include then speak the page's language by construction; nothing is
added to a render's context; and the Environments are never changed after they are built,
so concurrent requests on threads or tasks share them safely. The cost is that a template
is compiled once per language, on first use.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from tessera import i18n, paths
from tessera.i18n import N_
from tessera.web import locales

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"

_CSP = "default-src 'none'; style-src 'self'; img-src 'self' https: data:; frame-ancestors 'none'; base-uri 'none'"


def environment(code: str = i18n.DEFAULT) -> Environment:
    """The templates in one language of i18n.LANGUAGES."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(i18n.translations(code), newstyle=True)  # type: ignore[attr-defined]
    # Every page links and posts to tessera/paths.py's names, never to a literal path.
    env.globals["paths"] = paths
    env.globals["language"] = i18n.LANGUAGES[code]
    # Names, addresses and hosts put into a sentence keep their own direction (an English
    # app name inside Arabic): <bdi> isolates them on right-to-left pages.
    env.filters["bdi"] = _isolated if i18n.LANGUAGES[code].rtl else _as_is
    return env


def _isolated(value: object) -> Markup:
    return Markup("<bdi>%s</bdi>") % (value,)


def _as_is(value: object) -> object:
    return value


class Templates:
    """The pages in every language: one Environment each (see the module's docstring)."""

    def __init__(self) -> None:
        self._environments = {code: environment(code) for code in i18n.LANGUAGES}

    def environment(self, code: str) -> Environment:
        return self._environments[code]


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


def render(
    templates: Templates,
    request: Request,
    name: str,
    status: int = 200,
    *,
    script: bool = False,
    **context: Any,
) -> HTMLResponse:
    """A page in the language the request chose (web/locales.py), with its language links."""
    choice = locales.choose(request)
    nonce = secrets.token_urlsafe(16) if script else None
    template = templates.environment(choice.code).get_template(name)
    html = template.render(script_nonce=nonce, language_links=locales.switch_links(request, choice.code), **context)
    response = HTMLResponse(html, status_code=status, headers=security_headers(nonce))
    locales.mark(response, choice, secure=request.url.scheme == "https")
    return response


def message(
    templates: Templates,
    request: Request,
    title: str,
    text: str,
    status: int,
    *,
    values: Mapping[str, object] | None = None,
    account_name: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page that only says something. `title` and `text` are messages (marked with
    i18n.N_ where they are written) translated here, then filled in with `values`."""
    choice = locales.choose(request)
    title, text = choice.gettext(title), choice.gettext(text)
    if values:
        title, text = title % values, text % values
    context.setdefault("status_is_error", status >= 400)
    return render(
        templates, request, "message.html", status, title=title, text=text, account_name=account_name, **context
    )


def unreadable_form(
    templates: Templates, request: Request, description: str, *, account_name: str | None = None
) -> HTMLResponse:
    """400: a posted form that could not be read. The reason, in the words of the OAuth
    error, is for developers and stays English."""
    return message(
        templates,
        request,
        N_("Invalid request"),
        N_("The form could not be read. Go back to the page and try again."),
        400,
        account_name=account_name,
        details=[("error_description", description)],
    )
