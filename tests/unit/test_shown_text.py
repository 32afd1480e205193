"""What names shown inside the pages' sentences may hold (tessera/shown_text.py)."""

from __future__ import annotations

import pytest

from tessera import shown_text


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Acme\u202eevil", "202E"),  # right-to-left override
        ("Acme\u2067x\u2069", "2067"),  # right-to-left isolate
        ("\u200fAcme", "200F"),  # right-to-left mark
        ("Ac\u200bme", "200B"),  # zero-width space
        ("\ufeffAcme", "FEFF"),  # byte order mark
        ("Acme\u2060", "2060"),  # word joiner
    ],
)
def test_direction_and_invisible_characters_are_refused_naming_the_first(text: str, code: str) -> None:
    reason = shown_text.hidden_problem("name", text)
    assert reason is not None and f"U+{code}" in reason


@pytest.mark.parametrize(
    "text",
    [
        "Acme Corp",
        "\u0645\u062a\u062c\u0631",  # Arabic: right-to-left by itself, no marks needed
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian with a zero-width non-joiner
        "\U0001f469\u200d\U0001f4bb Devs",  # an emoji sequence with a zero-width joiner
        "Caf\u00e9 \u6771\u4eac",
    ],
)
def test_names_in_any_script_pass(text: str) -> None:
    assert shown_text.hidden_problem("name", text) is None
    assert shown_text.blank_problem("name", text) is None


@pytest.mark.parametrize("text", ["\u200c", "\u3000", "\u200d\u200c", "\u00ad"])
def test_a_name_that_shows_nothing_is_refused(text: str) -> None:
    assert shown_text.blank_problem("name", text) is not None
