"""DESIGN §3: redeliveries place nothing, ambiguous sends are resolved and never resent,
stale signals expire, maintenance loses nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

import trio

from hexexec.domain.order_status import OrderStatus
from hexexec.domain.records import SignalStatus
from hexexec.domain.signal import MessageRef
from hexexec.services.resolve import NOT_PLACED
from tests.service.world import START, World, default_options, until

PRICE = Decimal("10000000")


class AckLosingSource:
    """A source whose acknowledgements never arrive: the worker dies right after each commit."""

    def __init__(self, inner):
        self.inner = inner

    async def read(self, max_count: int):
        return await self.inner.read(max_count)

    async def ack(self, refs: Sequence[MessageRef]) -> None:
        await trio.lowlevel.checkpoint()

    async def dead_letter(self, message, reason: str) -> None:
        await self.inner.dead_letter(message, reason)


async def test_redelivered_signal_places_nothing(autojump_clock):
    world = World(default_options())
    world.venue.set_price("BTC_JPY", PRICE)
    async with world.running(AckLosingSource(world.source())):
        world.signal("enter_long", size="0.01")
        await until(lambda: world.position("BTC_JPY").size == Decimal("0.01"))
    assert world.pending() == 1  # decided and traded, but never acknowledged

    async with world.running():  # restart: the entry is redelivered to the same consumer
        await until(lambda: world.pending() == 0)
        await trio.sleep(5)
    assert len(world.venue.all_orders()) == 1
    assert len(world.orders()) == 1
    assert len(world.store.snapshot().decisions) == 1
    assert world.position("BTC_JPY").size == Decimal("0.01")


async def test_redelivered_pending_order_is_sent_once(autojump_clock):
    """A worker that died after deciding but before sending: the order is sent once, later."""
    world = World(default_options())
    world.venue.set_price("BTC_JPY", PRICE)
    async with world.running(AckLosingSource(world.source())):
        world.venue.set_maintenance(True)  # nothing can be sent: the order stays PENDING
        world.signal("enter_long", size="0.01")
        await until(lambda: world.orders() != [])
    assert world.orders()[0].status is OrderStatus.PENDING
    world.venue.set_maintenance(False)
    async with world.running():
        await until(lambda: world.orders()[0].status is OrderStatus.FILLED)
        await until(lambda: world.pending() == 0)
        await trio.sleep(5)
    assert len(world.venue.all_orders()) == 1


async def test_lost_reply_after_the_venue_took_the_order_is_adopted(autojump_clock):
    world = World(default_options())
    world.venue.set_price("BTC_JPY", PRICE)
    world.faults.lose_next_reply("place")
    async with world.running():
        world.signal("enter_long", size="0.01", price_ref=str(PRICE - 10_000))
        await until(lambda: world.orders() and world.orders()[0].order_id is not None)
        await trio.sleep(10)
    [venue_order] = world.venue.all_orders()
    [order] = world.orders()
    assert world.faults.pending == 0  # the fault did fire
    assert order.order_id == venue_order.order_id
    assert order.status is OrderStatus.NEW


async def test_request_lost_before_the_venue_is_rejected_as_not_placed(autojump_clock):
    world = World(default_options())
    world.venue.set_price("BTC_JPY", PRICE)
    world.faults.timeout_next_place()
    async with world.running():
        world.signal("enter_long", size="0.01", price_ref=str(PRICE - 10_000))
        await until(lambda: world.orders() and world.orders()[0].status.is_final)
        await trio.sleep(30)
    [order] = world.orders()
    assert order.status is OrderStatus.REJECTED and order.reason == NOT_PLACED
    assert world.venue.all_orders() == []  # and it was never sent again


async def _kill_while_submitting(world: World, *, venue_saw_it: bool) -> None:
    async with world.running():
        world.signal("enter_long", size="0.01", price_ref=str(PRICE - 10_000))
        await until(lambda: world.orders() and world.orders()[0].status is OrderStatus.SUBMITTING,
                    step=0.01)
        if venue_saw_it:
            await until(lambda: len(world.venue.all_orders()) == 1, step=0.01)
        # leaving the block cancels everything: the worker dies mid-send
    assert world.orders()[0].status is OrderStatus.SUBMITTING


async def test_killed_mid_send_after_the_venue_took_it_then_restarted(autojump_clock):
    world = World(default_options(), latency_s=2.0)
    world.venue.set_price("BTC_JPY", PRICE)
    await _kill_while_submitting(world, venue_saw_it=True)
    async with world.running():  # recovery runs before intake
        pass
    [order], [venue_order] = world.orders(), world.venue.all_orders()
    assert order.status is OrderStatus.NEW and order.order_id == venue_order.order_id


async def test_killed_mid_send_before_the_venue_saw_it_then_restarted(autojump_clock):
    world = World(default_options(), latency_s=2.0)
    world.venue.set_price("BTC_JPY", PRICE)
    await _kill_while_submitting(world, venue_saw_it=False)
    async with world.running():
        await trio.sleep(10)
    [order] = world.orders()
    assert order.status is OrderStatus.REJECTED and order.reason == NOT_PLACED
    assert world.venue.all_orders() == []


async def test_stale_signal_is_recorded_expired_and_not_traded(autojump_clock):
    world = World(default_options(max_signal_age=timedelta(seconds=60)))
    world.venue.set_price("BTC_JPY", PRICE)
    async with world.running():
        old = (START - timedelta(minutes=5)).isoformat()
        world.signal("enter_long", size="0.01", timestamp=old)
        await until(lambda: world.signals() != [] and world.pending() == 0)
    [record] = world.signals()
    assert record.status is SignalStatus.EXPIRED and "old" in (record.reason or "")
    assert world.orders() == [] and world.venue.all_orders() == []


async def test_signal_that_waits_out_a_long_maintenance_expires_unsent(autojump_clock):
    world = World(default_options(max_signal_age=timedelta(seconds=60)))
    world.venue.set_price("BTC_JPY", PRICE)
    async with world.running():
        world.venue.set_maintenance(True)
        world.signal("enter_long", size="0.01")
        await trio.sleep(90)
        world.venue.set_maintenance(False)
        await until(lambda: world.orders()[0].status.is_final)
    [order] = world.orders()
    assert order.status is OrderStatus.EXPIRED
    assert world.signals()[0].status is SignalStatus.EXPIRED
    assert world.venue.all_orders() == []


async def test_short_maintenance_loses_nothing_and_trading_resumes(autojump_clock):
    world = World(default_options(max_signal_age=timedelta(seconds=60)))
    world.venue.set_price("BTC_JPY", PRICE)
    async with world.running():
        world.venue.set_maintenance(True)
        for _ in range(3):
            world.signal("enter_long", size="0.01")
        await trio.sleep(20)
        assert world.venue.all_orders() == []
        world.venue.set_maintenance(False)
        await until(lambda: world.position("BTC_JPY").size == Decimal("0.03"))
    assert [o.status for o in world.orders()] == [OrderStatus.FILLED] * 3
    assert len(world.venue.all_orders()) == 3


async def test_worker_started_during_maintenance_waits_then_trades(autojump_clock):
    world = World(default_options())
    world.venue.set_price("BTC_JPY", PRICE)
    world.venue.set_maintenance(True)
    world.signal("enter_long", size="0.01")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_end_maintenance_later, world)
        async with world.running():  # ready only once the venue answered
            await until(lambda: world.position("BTC_JPY").size == Decimal("0.01"))
    assert len(world.venue.all_orders()) == 1


async def _end_maintenance_later(world: World) -> None:
    await trio.sleep(45)
    world.venue.set_maintenance(False)
