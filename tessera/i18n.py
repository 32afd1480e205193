"""The languages Tessera's pages speak: gettext catalogs (tessera/locales/<code>/LC_MESSAGES/
messages.po, compiled to .mo with scripts/translations), chosen from what the reader asked.

Only HTML pages and the e-mails sent from them are translated; OAuth and JSON error bodies
(`error`, `error_description`) stay English, as INTERFACE.md says. Nothing here knows about
HTTP requests (tessera/web/locales.py reads them): the protocol layer marks its page words
with N_ and its refusals with R_ (tessera/reasons.py), and the web layer translates them.
"""

from __future__ import annotations

import functools
import gettext as gettext_module
import re
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations, Translations

from tessera.reasons import Reason

LOCALE_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
DEFAULT = "en"
_MAX_TAGS = 12  # of an Accept-Language header; more is not a browser's
_MAX_HEADER = 512
# A language tag's shape (RFC 5646, loosely; "_" as POSIX locales write it): anything else is
# not a language, whatever its first letters.
_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


@dataclass(frozen=True, slots=True)
class Language:
    code: str  # a BCP 47 primary language subtag, and the catalog's folder name
    name: str  # in the language itself, as the switch shows it
    rtl: bool = False

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"


# In the order the language switch lists them. A language is here only once its catalog
# covers the pages (docs/languages.md says which are complete).
LANGUAGES: dict[str, Language] = {
    language.code: language
    for language in (
        Language("en", "English"),
        Language("de", "Deutsch"),
        Language("ja", "日本語"),
        Language("ar", "العربية", rtl=True),
    )
}


def said(code: str, text: str) -> str:
    """`text` in language `code`: a Reason translated (its values as they are, nested
    Reasons translated too); any other str as it is, in the English it was written in. In a
    right-to-left language each value is isolated (U+2068 ... U+2069), so that a URI or a
    quoted name keeps its own direction inside the sentence."""
    if not isinstance(text, Reason) or code == DEFAULT:
        return str(text)
    translated = gettext(code, text.msgid)
    if not text.values:
        return translated
    rtl = LANGUAGES[code].rtl if code in LANGUAGES else False
    values = {
        name: said(code, value) if isinstance(value, Reason) else f"\u2068{value}\u2069" if rtl else value
        for name, value in text.values.items()
    }
    try:
        return translated % values
    except (KeyError, ValueError, TypeError):  # a catalog's mistake: the English, never a 500
        return str(text)


def supported(code: str | None) -> str | None:
    """The code of one of LANGUAGES for a tag such as "de", "de-CH" or "ja_JP"; None for
    anything else (unknown, malformed, too long)."""
    if not code or len(code) > 35 or not _TAG.fullmatch(code.strip()):
        return None
    primary = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None


def ranked_tags(header: str) -> list[str]:
    """The language tags of an Accept-Language header (RFC 9110 section 12.5.4), best first:
    by q-value, then by position; q=0 and "*" dropped, a malformed q drops its tag."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header[:_MAX_HEADER].split(",")[:_MAX_TAGS]):
        tag, _, params = item.partition(";")
        tag = tag.strip()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = -1.0
        if tag and tag != "*" and 0 < quality <= 1:
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


@functools.lru_cache(maxsize=256)
def negotiate(header: str) -> tuple[str, str | None]:
    """The language for an Accept-Language header, and the tag it came from (for a regional
    date format: "de-CH" gives German pages and Swiss dates); English, None when nothing
    matches. Cached: browsers send a handful of distinct headers."""
    for tag in ranked_tags(header):
        code = supported(tag)
        if code is not None:
            return code, tag
    return DEFAULT, None


def preferred(tags: str) -> tuple[str, str] | None:
    """The language for an OpenID Connect `ui_locales` value (OIDC Core 1.0 section 3.1.2.1:
    space-separated BCP 47 tags, best first) and the tag it came from: the first tag that
    names one of LANGUAGES ("de-CH" gives German), or None when none does."""
    for tag in tags[:_MAX_HEADER].split()[:_MAX_TAGS]:
        code = supported(tag)
        if code is not None:
            return code, tag
    return None


@functools.lru_cache(maxsize=64)
def babel_locale(code: str, tag: str | None = None) -> Locale:
    """Babel's locale for dates: the header's regional tag when Babel knows it and it is of
    the chosen language, else the language's own."""
    if tag is not None:
        try:
            locale = Locale.parse(tag.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            locale = None
        if locale is not None and locale.language == code:
            return locale
    return Locale.parse(code)


@functools.cache
def translations(code: str) -> gettext_module.NullTranslations:
    """The compiled catalog of a language, loaded once; English is the msgids themselves."""
    if code == DEFAULT or code not in LANGUAGES:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [code], DOMAIN)


def gettext(code: str, message: str) -> str:
    return translations(code).gettext(message)
