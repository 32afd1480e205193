"""The translations (docs/languages.md) keep up with the code: every message the code and
templates use is in every catalog, German and Japanese translate every one, placeholders
match, and each committed .mo is compiled from its .po (scripts/translations check)."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

from tessera import i18n

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "translations"


def test_every_catalog_is_up_to_date_and_german_and_japanese_are_complete() -> None:
    script: dict[str, Any] = runpy.run_path(str(SCRIPT))
    assert set(script["COMPLETE"]) >= {"de", "ja"}
    assert script["problems"]() == []


def test_every_language_offered_has_a_compiled_catalog() -> None:
    for code in i18n.LANGUAGES:
        if code != i18n.DEFAULT:
            assert (i18n.LOCALE_DIR / code / "LC_MESSAGES" / "messages.mo").exists(), code
            assert i18n.translations(code).gettext("Sign in") != "Sign in", code
