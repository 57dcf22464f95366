"""A symbol's lane sends what queues up behind an order under one taking of its lease, a run of
at most LEASE_RUN orders, then lets the lease go and takes it again for the rest: every order is
sent, in order, once — without the sweep's help."""

from __future__ import annotations

from decimal import Decimal

from hexexec.domain.order_status import OrderStatus
from hexexec.services.submit import LEASE_RUN
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
    sent = sorted(world.venue.all_orders(), key=lambda o: o.timestamp)
    assert len(sent) == n
    by_venue_id = {o.order_id: o for o in world.orders()}
    # Sent in the order they were decided (the stream's order).
    assert [by_venue_id[v.order_id].created_at for v in sent] == sorted(
        o.created_at for o in world.orders())
