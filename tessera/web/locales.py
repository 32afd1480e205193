"""Which language a page is in, from the request: the reader's explicit choice (a `lang`
query parameter on a page GET, remembered in the `tessera_lang` cookie), then that cookie,
then, on the pages of an authorization request, the app's `ui_locales` (OpenID Connect
Core 1.0 section 3.1.2.1), then Accept-Language (RFC 9110 section 12.5.4, by q-value;
"de-CH" falls back to German), then English. A value that is not one of tessera/i18n.py's
LANGUAGES is ignored, never echoed.

`ui_locales` is the app's hint for one flow, not the reader's choice, so it is never
remembered. It travels with the request: in the authorization request's query; to the
sign-in page as its own `ui_locales` parameter (beside `return_to`) and in the sign-in
form's hidden field; in the consent form's fields; for a pushed request (RFC 9126), in
the stored parameters, which the endpoint hands to `hint`.
"""

from __future__ import annotations

import gettext as gettext_module
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from babel import Locale
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response

from tessera import i18n, paths
from tessera.reasons import N_

COOKIE = "tessera_lang"
PARAMETER = "lang"
UI_LOCALES = "ui_locales"  # OIDC Core 1.0 section 3.1.2.1
# The GET pages whose own query may carry ui_locales: the authorization request's (its
# error pages and the platform host's account chooser among them) and the sign-in page's.
_HINTED = frozenset({paths.AUTHORIZE, paths.LOGIN})
_HINT = "tessera.ui_locales"  # the request scope's key for a hint an endpoint found elsewhere
_CHOSEN = "tessera.language"  # the request scope's key for the choice made (choose)
_COOKIE_AGE = 365 * 24 * 3600
# The GET pages whose query says what the page shows (an authorization request, the code
# typed so far, a reset link's token, the console's filters): their language links keep it.
# Any other page's links carry `lang` alone, so that no page repeats parameters it does not
# use (a logout's state, an error page's bad parameters).
_QUERY_KEPT = frozenset(
    {
        paths.AUTHORIZE,
        paths.LOGIN,
        paths.DEVICE,
        paths.PASSWORD_FORGOT,
        paths.PASSWORD_RESET,
        paths.AUTHORIZED_APPS_REVOKE,
    }
)
# Pages answering a POST whose path also serves a GET of the same page; the language links
# of a page at any other POST-only path go to the account's home page.
_GET_TOO = frozenset({paths.LOGIN, paths.DEVICE, paths.PASSWORD_FORGOT})


@dataclass(frozen=True, slots=True)
class Choice:
    code: str  # one of i18n.LANGUAGES
    locale: Locale  # Babel's, for dates (may carry the reader's region)
    remember: bool  # chosen with ?lang= just now: set the cookie

    @property
    def language(self) -> i18n.Language:
        return i18n.LANGUAGES[self.code]

    @property
    def translations(self) -> gettext_module.NullTranslations:
        return i18n.translations(self.code)

    def gettext(self, message: str) -> str:
        return i18n.translations(self.code).gettext(message)

    def duration(self, seconds: int) -> str:
        """How long to wait, as a page says it: whole minutes past 90 seconds."""
        catalog = i18n.translations(self.code)
        if seconds > 90:
            minutes = (seconds + 59) // 60
            return catalog.ngettext("%(num)d minute", "%(num)d minutes", minutes) % {"num": minutes}
        return catalog.ngettext("%(num)d second", "%(num)d seconds", seconds) % {"num": seconds}


def choose(request: Request) -> Choice:
    """The page's language, chosen once per request: the endpoint that translates a message
    and the page that renders it ask alike."""
    chosen: Choice | None = request.scope.get(_CHOSEN)
    if chosen is None:
        chosen = request.scope[_CHOSEN] = _choose(request)
    return chosen


def _choose(request: Request) -> Choice:
    header = request.headers.get("accept-language", "")
    negotiated, tag = i18n.negotiate(header[:512])
    if request.method == "GET":
        asked = i18n.supported(request.query_params.get(PARAMETER))
        if asked is not None:
            return Choice(asked, i18n.babel_locale(asked, tag if asked == negotiated else None), True)
    remembered = i18n.supported(request.cookies.get(COOKIE))
    if remembered is not None:
        return Choice(remembered, i18n.babel_locale(remembered, tag if remembered == negotiated else None), False)
    hinted = _hinted(request)
    if hinted is not None:
        code, hinted_tag = hinted
        return Choice(code, i18n.babel_locale(code, hinted_tag), False)
    return Choice(negotiated, i18n.babel_locale(negotiated, tag), False)


def hint(request: Request, ui_locales: str | None) -> None:
    """The app's `ui_locales` for the pages this request renders, where the request's own
    query does not hold it: a POST's form, or a pushed authorization request's parameters."""
    request.scope[_HINT] = ui_locales or ""
    request.scope.pop(_CHOSEN, None)  # a choice made before the hint is made again


def _hinted(request: Request) -> tuple[str, str] | None:
    value = request.scope.get(_HINT)
    if value is None and request.method == "GET" and request.scope["path"] in _HINTED:
        value = request.query_params.get(UI_LOCALES)
    return i18n.preferred(value) if value else None


def _link_start(request: Request) -> str:
    """This page's address up to the value of `lang`: the same path with `lang` (and the
    query, on the pages of _QUERY_KEPT), or after a POST the path when it serves GET."""
    path: str = request.scope["path"]
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        path = paths.HOME  # never a link to another host ("//elsewhere.example/...")
    path = quote(path, safe=_PATH_SAFE)
    query = ""
    if request.method != "GET":
        if path not in _GET_TOO:
            path = paths.HOME
    elif path in _QUERY_KEPT or path.startswith(paths.ADMIN + "/"):
        query = _without_lang(request)
    return path + "?" + (query + "&" if query else "") + PARAMETER + "="


def _without_lang(request: Request) -> str:
    """The request's query less its `lang`: as sent when it is plain printable ASCII (the
    sign-in page's return_to is long, and re-encoding it costs more than the rest of the
    switch), re-encoded otherwise."""
    raw = request.scope.get("query_string", b"").decode("latin-1")
    if raw.isascii() and raw.isprintable() and " " not in raw:
        return "&".join(part for part in raw.split("&") if part and part.partition("=")[0] != PARAMETER)
    return urlencode([(name, value) for name, value in request.query_params.multi_items() if name != PARAMETER])


def switch(request: Request, choice: Choice) -> Markup:
    """The language switch of a page: a labelled list of links, the current one marked with
    aria-current. Written here rather than looped over in the template: it is on every page,
    the sign-in page among them, and this costs a fraction of the loop."""
    start = str(escape(_link_start(request)))
    items = "".join(
        f'<li><a href="{start}{code}"{attributes}{_CURRENT if code == choice.code else ""}>{name}</a></li>'
        for code, attributes, name in _LINK_PARTS
    )
    label = escape(choice.gettext(N_("Language")))
    # Every part is escaped above or is a constant of LANGUAGES.
    return Markup(f'<nav class="languages" aria-label="{label}"><ul>{items}</ul></nav>')  # noqa: S704


# Each language's link but its href, written once: code, attributes, name (HTML-escaped).
_LINK_PARTS = tuple(
    (code, f' lang="{code}" hreflang="{code}"', str(escape(language.name))) for code, language in i18n.LANGUAGES.items()
)
_CURRENT = ' aria-current="true"'
# What a path may hold as it is (RFC 3986 pchar and "/"); the rest is percent-encoded again.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def mark(response: Response, choice: Choice, *, secure: bool) -> None:
    """The language a page is in, that it depends on Accept-Language, and the cookie when the
    reader just chose one."""
    response.headers["Content-Language"] = choice.code
    response.headers["Vary"] = "Accept-Language, Cookie"
    if choice.remember:
        response.set_cookie(
            COOKIE, choice.code, max_age=_COOKIE_AGE, path="/", samesite="lax", httponly=True, secure=secure
        )
