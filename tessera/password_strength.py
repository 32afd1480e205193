"""Weak and common passwords refused wherever a password is set (NIST SP 800-63B section
5.1.1.2: compare new passwords against lists of commonly used and compromised values).

zxcvbn (Dropbox's estimator; the maintained Python port) does the judging: its lists hold
the 30,000 most common passwords of leaked corpora, English words, names and keyboard
patterns, and it sees through the usual disguises (`P@ssw0rd1`, `qwertyuiop`, `summer2024`,
the user's own email). A password it estimates at fewer than 10^6 guesses (score below 2:
the common passwords and their disguises, words, names, keyboard walks) is refused: past
that, an online guesser is stopped by the sign-in throttles long before, and an offline one
faces argon2id at 19 MiB per guess. A stricter bar (10^8) also refused passwords people
choose in good faith, which integrators' scripts and tests use, for little gain given the
throttles.

Only the first MAX_JUDGED characters are judged (zxcvbn's own limit: its matching grows
with the square of the length); a password that long and not weak in its first 72
characters is not a common one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from tessera.reasons import R_, Reason

MIN_SCORE = 2
MAX_JUDGED = 72

ADVICE = "pick a passphrase of three or four unrelated words, or let a password manager make one"
# Whole sentences, each with its advice, so that each can be translated as one.
COMMON = R_(
    "this password is one of the most common passwords; pick a passphrase of three or four "
    "unrelated words, or let a password manager make one"
)
DISGUISED = R_(
    "this password is a common password with small changes; pick a passphrase of three or four "
    "unrelated words, or let a password manager make one"
)
PERSONAL = R_(
    "this password is too easy to guess for someone who knows your name, e-mail or account; "
    "pick a passphrase of three or four unrelated words, or let a password manager make one"
)


def _guessable(reason: str) -> Reason:
    return R_(
        # TRANSLATORS: %(reason)s is zxcvbn's reason, in English (such as "this is a top-10
        # common password"); a translation may leave it out, as the password-reset page does.
        "this password is too easy to guess (%(reason)s); pick a passphrase of three or four "
        "unrelated words, or let a password manager make one",
        reason=reason,
    )


@lru_cache(maxsize=1)
def _estimator() -> Any:
    # Imported when first needed: its word lists take ~0.2 s to load, which CLI commands that
    # set no password need not pay.
    from zxcvbn import zxcvbn

    return zxcvbn


def _context_words(context: Iterable[str]) -> list[str]:
    """The email's parts, names and the account: what a guesser targeting this user tries first."""
    words: list[str] = []
    for item in context:
        if item:
            words.append(item.lower())
            words.extend(part for part in re.split(r"[^a-z0-9]+", item.lower()) if len(part) >= 3)
    return words


def weakness(password: str, context: Iterable[str] = ()) -> Reason | None:
    """Why the password is too easy to guess, with what to pick instead, or None."""
    judged = password[:MAX_JUDGED]
    result = _estimator()(judged, user_inputs=_context_words(context), max_length=MAX_JUDGED)
    if result["score"] >= MIN_SCORE:
        return None
    warning = str(result["feedback"].get("warning") or "")
    if "similar to a commonly used" in warning.lower():
        return DISGUISED
    if "common" in warning.lower():
        return COMMON
    if any(match.get("dictionary_name") == "user_inputs" for match in result.get("sequence", ())):
        return PERSONAL
    if warning:
        return _guessable(warning.rstrip(".").lower())
    return _guessable("it follows a pattern guessers try early")
