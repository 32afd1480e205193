"""DPoP proofs verified together (protocol/dpop/batch.py): the checks of the requests that
reach them in one turn of the event loop run one after the other at its end, each request
getting its own result or refusal."""

from __future__ import annotations

import asyncio

import pytest

from tessera.protocol.dpop.batch import VerifyTogether


def test_checks_of_one_turn_run_together_after_all_were_queued() -> None:
    together = VerifyTogether()
    events: list[str] = []

    async def request(name: str) -> str:
        events.append(f"{name} queued")

        def check() -> str:
            events.append(f"{name} checked")
            return name.upper()

        return await together.run(check)

    async def main() -> list[str]:
        return list(await asyncio.gather(request("a"), request("b"), request("c")))

    assert asyncio.run(main()) == ["A", "B", "C"]
    assert events == ["a queued", "b queued", "c queued", "a checked", "b checked", "c checked"]


def test_a_refusal_goes_to_its_own_request_only() -> None:
    together = VerifyTogether()

    def refused() -> str:
        raise ValueError("not this one")

    async def main() -> list[object]:
        return await asyncio.gather(
            together.run(lambda: "first"), together.run(refused), together.run(lambda: "third"), return_exceptions=True
        )

    first, second, third = asyncio.run(main())
    assert (first, third) == ("first", "third")
    assert isinstance(second, ValueError) and str(second) == "not this one"


def test_a_cancelled_request_is_not_checked() -> None:
    together = VerifyTogether()
    checked: list[str] = []

    def check(name: str) -> str:
        checked.append(name)
        return name

    async def main() -> str:
        gone = asyncio.ensure_future(together.run(lambda: check("gone")))
        kept = asyncio.ensure_future(together.run(lambda: check("kept")))
        await asyncio.sleep(0)  # both are waiting for the end of the turn
        gone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gone
        return await kept

    assert asyncio.run(main()) == "kept"
    assert checked == ["kept"]


def test_each_event_loop_gets_its_own_batches() -> None:
    """The CLI and tests run one loop after another: nothing is left waiting in between."""
    together = VerifyTogether()
    assert asyncio.run(together.run(lambda: 1)) == 1
    assert asyncio.run(together.run(lambda: 2)) == 2
