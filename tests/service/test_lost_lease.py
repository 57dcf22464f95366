"""A send lease lost without its holder knowing (its PostgreSQL session died; another worker
may hold it now and have look-alike orders in flight): resolution concludes nothing under it —
neither adopting a venue order nor rejecting as not placed — and resolves the order once the
lease is taken again."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from hexexec.domain.errors import AmbiguousOutcome, StoreUnavailable
from hexexec.domain.order_status import OrderStatus
from hexexec.services.resolve import resolve_order
from hexexec.services.submit import _claim
from tests.service.test_store_outage import _one_decided_entry
from tests.service.world import World, default_options, final, until

PRICE = Decimal("10000000")


async def test_resolution_under_a_lost_lease_concludes_nothing(autojump_clock):
    world, engine, cid = await _one_decided_entry()
    claimed, mine = await _claim(engine, cid, "BTC_JPY")
    assert mine and claimed is not None
    venue_id = await engine.broker.place(claimed.intent)  # reached the venue; the reply is lost
    name = engine.send_lease("BTC_JPY")
    async with engine.store.lease(name) as lease:
        world.store.lose_lease(name)  # its session died: free for anyone, and we are not told
        with pytest.raises(StoreUnavailable, match="lost"):
            await resolve_order(engine, claimed, lease)
    [stored] = world.orders()
    assert stored.status is OrderStatus.SUBMITTING and stored.order_id is None  # still open
    async with engine.store.lease(name) as lease:  # taken again: now it can be concluded
        resolved = await resolve_order(engine, claimed, lease)
    assert resolved.status is OrderStatus.NEW and resolved.order_id == venue_id


async def test_a_lost_lease_does_not_reject_an_order_as_not_placed(autojump_clock):
    world, engine, cid = await _one_decided_entry()
    claimed, mine = await _claim(engine, cid, "BTC_JPY")  # claimed, never sent
    assert mine and claimed is not None
    name = engine.send_lease("BTC_JPY")
    async with engine.store.lease(name) as lease:
        world.store.lose_lease(name)
        with pytest.raises(StoreUnavailable):
            await resolve_order(engine, claimed, lease)
    [stored] = world.orders()
    assert stored.status is OrderStatus.SUBMITTING
    async with engine.store.lease(name) as lease:
        resolved = await resolve_order(engine, claimed, lease)
    assert resolved.status is OrderStatus.REJECTED and world.venue.all_orders() == []


class LeaseLostMidResolution:
    """The paper broker; every reply but the first is lost, and the first venue search of a
    resolution happens just as the lane's lease is lost (its session died)."""

    def __init__(self, inner: Any, world: World, name: str) -> None:
        self.inner, self.world, self.name = inner, world, name
        self.places = self.searches = 0

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.inner, attr)

    async def place(self, intent: Any) -> str:
        self.places += 1
        order_id = await self.inner.place(intent)
        if self.places >= 2:
            raise AmbiguousOutcome("reply lost")
        return str(order_id)

    async def active_orders(self, symbol: str) -> Any:
        self.searches += 1
        if self.searches == 1:
            self.world.store.lose_lease(self.name)
        return await self.inner.active_orders(symbol)


async def test_a_lane_whose_lease_was_lost_resolves_its_send_under_the_lease_taken_again(
        autojump_clock):
    """No sweep: only the lane itself can resolve the orders of its run whose replies were lost —
    the attempt that found its lease lost hands them to the next one, which takes the lease
    again and adopts each (three of the four; at least two of them are not the run's first,
    which the next attempt would have met again anyway)."""
    world = World(default_options(sweep_interval_s=0, read_batch=4))
    world.venue.set_price("BTC_JPY", PRICE)
    broker = LeaseLostMidResolution(world.broker, world, "send:gmo:BTC_JPY")
    world.broker = broker  # type: ignore[assignment]
    for _ in range(4):  # published before the start: read, decided and queued as one run
        world.signal("enter_long", size="0.01")
    async with world.running():
        await until(lambda: len(world.orders()) == 4 and final(world.orders()), within=300)
    assert broker.searches >= 2  # searched again under the new lease
    assert [o.status for o in world.orders()] == [OrderStatus.FILLED] * 4
    owned = sorted(o.order_id or "" for o in world.orders())
    assert owned == sorted(v.order_id for v in world.venue.all_orders())
