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

import functools
import gettext as gettext_module
import re
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2.ext import Extension
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from tessera import i18n, paths
from tessera.reasons import N_
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
        extensions=["jinja2.ext.i18n", _SaidOnce],
    )
    # jinja2.ext.i18n's newstyle gettext, installed as this language's own functions.
    speaker = _Speaker(i18n.translations(code))
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.globals.update(gettext=speaker.gettext, _=speaker.gettext, ngettext=speaker.ngettext)
    # Every page links and posts to tessera/paths.py's names, never to a literal path.
    env.globals["paths"] = paths
    env.globals["language"] = i18n.LANGUAGES[code]
    # Names, addresses and hosts put into a sentence keep their own direction (an English
    # app name inside Arabic, an Arabic one inside English), and whatever direction marks a
    # name stored before they were refused (tessera/shown_text.py) stay inside it:
    # <bdi> isolates them, on every page.
    env.filters["bdi"] = _isolated
    # Why a field is refused (the console's forms): a reasons.Reason in this language, any
    # other message as the management checks wrote it.
    env.filters["reason"] = functools.partial(i18n.said, code)
    return env


def _isolated(value: object) -> Markup:
    return Markup("<bdi>%s</bdi>") % (value,)


class _SaidOnce(Extension):
    """Puts the translation of each `{{ _("...") }}` that has no placeholders into the
    template's source before it is compiled: every Environment speaks one language, so such
    a message's words never change, and the page renders them as text instead of calling
    gettext. A translation with template syntax in it, or a message with a "%", is left to
    the call (which renders it the same way: as markup, as newstyle gettext does)."""

    _CALL = re.compile(r"""\{\{-?\s*_\(\s*(?:"([^"\\%]*)"|'([^'\\%]*)')\s*\)\s*-?\}\}""")

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        said = cast(Callable[[str], str], self.environment.globals["gettext"])  # _Speaker.gettext

        def fold(match: re.Match[str]) -> str:
            translated = str(said(match.group(1) if match.group(1) is not None else match.group(2)))
            if any(mark in translated for mark in ("{{", "{%", "{#", "%}", "}}", "#}")):
                return match.group(0)
            return translated

        return self._CALL.sub(fold, source)


class _Speaker:
    """gettext and ngettext for one language's templates, behaving as jinja2.ext.i18n's
    newstyle ones do on autoescaped templates (the translation is markup, its %(name)s
    placeholders always filled with escaped values) without their lookups through the
    render context on every call; a page says the same few dozen messages every time, so
    each translation is looked up once (every Environment speaks one language)."""

    _MAX_REMEMBERED = 5000

    def __init__(self, catalog: gettext_module.NullTranslations) -> None:
        self._catalog = catalog
        self._said: dict[str, tuple[Markup, bool]] = {}

    def gettext(self, message: str, /, **values: object) -> Markup:
        said = self._said.get(message)
        if said is None:
            # The catalogs are part of Tessera, like the templates: their markup is trusted.
            translated = Markup(self._catalog.gettext(message))  # noqa: S704
            said = (translated, "%" in translated)
            if len(self._said) < self._MAX_REMEMBERED:
                self._said[message] = said
        text, has_placeholders = said
        return text % values if has_placeholders else text

    def ngettext(self, singular: str, plural: str, count: int, /, **values: object) -> Markup:
        values.setdefault("num", count)
        return Markup(self._catalog.ngettext(singular, plural, count)) % values  # noqa: S704


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
    html = template.render(script_nonce=nonce, language_switch=locales.switch(request, choice), **context)
    response = HTMLResponse(html, status_code=status, headers=security_headers(nonce))
    locales.mark(response, choice, secure=request.scope.get("scheme") == "https")
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
    reasons.N_ where they are written) translated here, then filled in with `values`."""
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
