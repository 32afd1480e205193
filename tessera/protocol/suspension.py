"""Suspended users at the token endpoint (INTERFACE.md section 6, "Users": a suspended user
"cannot sign in, and their tokens and sessions stop working at once").

Suspending revokes the user's tokens; these checks refuse whatever the suspension missed,
so that no grant issues a token that acts for a suspended user.
"""

from __future__ import annotations

from tessera.protocol.errors import InvalidGrant, OAuthError
from tessera.protocol.ports import UserStore


async def refuse_suspended(
    users: UserStore, account_id: int, user_id: int, error: type[OAuthError] = InvalidGrant
) -> None:
    user = await users.get(account_id, user_id)
    if user is not None and user.is_suspended:
        raise error(
            f"the user this grant acts for ({user.email}) is suspended; an admin of the account can restore them"
        )
