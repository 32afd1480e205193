"""The schedule of a throttle (docs/reliability.md, "Throttles"): a limit of failures that
cost nothing, then a wait that doubles with each further failure, up to the window.

Backoff rather than a lock: whoever fails `limit` times does not shut the door for the
window; they make the next attempt wait `first_wait` seconds, the one after twice that,
and so on. An attacker who keeps a victim's email throttled must keep failing, slower and
slower, while a per-address limit throttles the attacker's own address.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rule:
    kind: str  # what is counted, and against what: "sign_in_email", "client_auth_address", ...
    limit: int  # failures counted before any wait
    window: int  # seconds a run of failures is remembered after the last one counted
    first_wait: int  # seconds to wait after the limit-th failure

    def wait_after(self, failures: int) -> int:
        """Seconds before the next attempt is let through, once `failures` have been counted."""
        if failures < self.limit:
            return 0
        doublings = min(failures - self.limit, 32)
        return int(min(self.first_wait * 2**doublings, self.window))

    def schedule(self) -> list[tuple[int, int]]:
        """(failures, wait) for every count from the limit until the wait reaches the window."""
        steps: list[tuple[int, int]] = []
        failures = self.limit
        while True:
            wait = self.wait_after(failures)
            steps.append((failures, wait))
            if wait >= self.window:
                return steps
            failures += 1
