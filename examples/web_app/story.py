"""What the pages show: each thing the app did, as a step with plain words and the data.

Kept apart from the OAuth calls (oauth.py) and the routes (app.py) so that each reads on
its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# What to do about each error an authorization server may send back to the redirect URI
# (RFC 6749 section 4.1.2.1, OpenID Connect Core 3.1.2.6).
ADVICE = {
    "access_denied": "You (or the user) clicked Deny, so nothing was granted. Nothing is broken: sign in again and click Allow to continue.",
    "invalid_scope": "The app asked for a scope this client may not have. Fix the scope the app requests, or the client's allowed scopes in the admin console.",
    "invalid_request": "The authorization request was malformed. The description says which parameter to fix.",
    "unauthorized_client": "This client may not use the authorization code grant. Give it that grant type in the admin console.",
    "unsupported_response_type": "The app must send response_type=code.",
    "login_required": "The app asked for prompt=none but nobody is signed in at Tessera. Sign in without prompt=none.",
    "consent_required": "The app asked for prompt=none but the user has not allowed it yet. Ask again without prompt=none.",
    "interaction_required": "Tessera needs the user on a page, which prompt=none forbids. Ask again without prompt=none.",
    "server_error": "Tessera had a problem. Try again; if it persists, its log says more.",
    "temporarily_unavailable": "Tessera is busy or starting. Try again in a moment.",
}
UNKNOWN_ADVICE = "Read the description, fix what it names, and sign in again."


@dataclass(frozen=True)
class Field:
    label: str
    value: str
    copy: str = ""  # what the Copy button puts on the clipboard; none when empty
    note: str = ""  # e.g. "matches what this app sent"
    ok: bool | None = None  # a check that passed (True) or failed (False)


@dataclass(frozen=True)
class Block:
    """A block of code or JSON, with a Copy button."""

    label: str
    text: str
    copy: str = ""


@dataclass
class Step:
    title: str
    explanation: str
    status: str = "ok"  # ok, error or info
    fields: list[Field] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    advice: str = ""
    fields_folded: str = ""  # when set, the fields sit in a closed <details> with this summary


def masked(token: str) -> str:
    """Enough of a token to tell two apart, not enough to use it. (Tessera's tokens share
    their last characters, a checksum of sorts: the start is what differs.)"""
    if len(token) <= 24:
        return token[:4] + "…"
    return f"{token[:14]}…"


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) if not isinstance(value, str) else value


def curl_api(url: str, access_token: str, shown: str) -> Block:
    command = 'curl -s -H "Authorization: Bearer {}" {}'
    return Block("The same call with curl", command.format(shown, url), command.format(access_token, url))
