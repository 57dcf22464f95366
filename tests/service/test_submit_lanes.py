"""A symbol's lane sends what queues up behind an order under one taking of its lease, a run of
at most LEASE_RUN orders with a few in flight at once, then lets the lease go and takes it again
for the rest: every order is sent once — without the sweep's help — and a send that ends
ambiguous amid look-alikes of its own run is resolved to its own venue order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import trio

from hexexec.domain.errors import AmbiguousOutcome
from hexexec.domain.order_status import OrderStatus
from hexexec.services.submit import LEASE_RUN, SENDS_AT_ONCE
from tests.service.world import World, default_options, final, until

PRICE = Decimal("10000000")


async def test_a_backlog_longer_than_a_lease_run_is_all_sent_in_order(autojump_clock):
    n = LEASE_RUN * 2 + 5
    # No sweep: an order the lane dropped would stay PENDING for good.
    world = World(default_options(sweep_interval_s=0, read_batch=n), latency_s=0.05)
    world.venue.set_price("BTC_JPY", PRICE)
    async with world.running():
        for _ in range(n):
            world.signal("enter_long", size="0.01")
        await until(lambda: len(world.orders()) == n and final(world.orders()), within=120)
    assert [o.status for o in world.orders()] == [OrderStatus.FILLED] * n
    assert len(world.venue.all_orders()) == n
    assert {o.order_id for o in world.orders()} == {v.order_id for v in world.venue.all_orders()}


class LateLostReply:
    """The paper broker, but the first order reaches the venue a little after the others and its
    reply is lost at once, while every other reply takes ten seconds to come back: a resolution
    started at once would search while its run's look-alikes sit on the venue unrecorded."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.places = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def place(self, intent: Any) -> str:
        self.places += 1
        if self.places == 1:
            await trio.sleep(0.5)
            await self.inner.place(intent)
            raise AmbiguousOutcome("reply lost")
        order_id = await self.inner.place(intent)
        await trio.sleep(10)
        return order_id


async def test_a_lost_reply_amid_look_alikes_in_flight_is_resolved_to_its_own_order(
        autojump_clock):
    """Identical orders of one symbol in flight together, one reply lost: resolution waits until
    the run's other sends are recorded, so the lost reply adopts the one order nobody owns —
    every venue order owned once, none sent twice, none rejected as not placed."""
    n = SENDS_AT_ONCE
    world = World(default_options(sweep_interval_s=0, read_batch=n))
    world.venue.set_price("BTC_JPY", PRICE)
    world.broker = LateLostReply(world.broker)  # type: ignore[assignment]
    for _ in range(n):  # published before the start: read, decided and queued as one run
        world.signal("enter_long", size="0.01")
    async with world.running():
        await until(lambda: len(world.orders()) == n and final(world.orders()), within=300)
    assert [o.status for o in world.orders()] == [OrderStatus.FILLED] * n
    owned = [o.order_id for o in world.orders()]
    assert sorted(owned) == sorted(v.order_id for v in world.venue.all_orders())
    assert len(set(owned)) == n
