"""The Store's leases, on every backend: exclusive per name, held across awaits, given back on
exit, on error and on cancellation."""

from __future__ import annotations

import pytest
import trio


async def test_a_lease_is_exclusive_per_name_and_held_across_awaits(store):
    inside: list[str] = []
    overlaps: list[tuple[str, ...]] = []

    async def holder(tag: str, name: str) -> None:
        async with store.lease(name):
            inside.append(tag)
            overlaps.append(tuple(inside))
            await trio.sleep(0.05)  # a network call would sit here
            inside.remove(tag)

    async with trio.open_nursery() as nursery:
        for tag in ("a", "b", "c"):
            nursery.start_soon(holder, tag, "send:gmo:BTC_JPY")
    assert all(len(seen) == 1 for seen in overlaps) and len(overlaps) == 3

    overlaps.clear()
    async with trio.open_nursery() as nursery:  # different names do not wait on each other
        nursery.start_soon(holder, "x", "send:gmo:BTC_JPY")
        nursery.start_soon(holder, "y", "send:gmo:ETH_JPY")
    assert max(len(seen) for seen in overlaps) == 2


async def test_a_lease_is_given_back_on_error_and_on_cancel(store):
    with pytest.raises(RuntimeError):
        async with store.lease("L"):
            raise RuntimeError("boom")
    with trio.move_on_after(0.05):
        async with store.lease("L"):
            await trio.sleep_forever()

    async def waits() -> None:
        async with store.lease("L"):
            pass

    async def gives_up() -> None:
        with trio.move_on_after(0.1) as waited:  # a waiter cancelled while waiting...
            await waits()
        assert waited.cancelled_caught

    async with store.lease("L"), trio.open_nursery() as nursery:
        nursery.start_soon(gives_up)
    with trio.fail_after(5):  # ...leaves nothing behind: the lease is free
        await waits()


async def test_a_lease_in_hand_checks_as_held(store):
    async with store.lease("send:gmo:BTC_JPY") as lease:
        await lease.check()
        await trio.sleep(0.01)
        await lease.check()
