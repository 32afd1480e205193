"""UserInfo claims: OpenID Connect Core 1.0 sections 5.1, 5.3 and 5.4.

`sub` is the user's numeric id as a string: stable, never reassigned, and local to the
account (pairwise subjects are not offered). Emails are not verified by Tessera, so
email_verified is false rather than a claim we cannot stand behind.
"""

from __future__ import annotations

from typing import Any

from tessera.model import User


def subject(user: User) -> str:
    return str(user.id)


def scoped_claims(user: User, scopes: tuple[str, ...]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if "profile" in scopes:
        body["name"] = user.name
        body["preferred_username"] = user.email
        body["updated_at"] = int(user.updated_at)
    if "email" in scopes:
        body["email"] = user.email
        body["email_verified"] = False
    return body


def claims(user: User, scopes: tuple[str, ...]) -> dict[str, Any]:
    return {"sub": subject(user), **scoped_claims(user, scopes)}
