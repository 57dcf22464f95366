"""Partial fills, LIMIT deadlines with cancel, and fills that arrive after the cancel."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import trio

from adapters.paper import VenueSettings
from hexexec.domain.order_status import OrderStatus
from tests.service.world import World, default_options, until

PRICE = Decimal("10000000")


async def test_partial_fills_accumulate_until_filled(autojump_clock):
    world = World(default_options(order_timeout=timedelta(minutes=10)),
                  venue_settings=VenueSettings(max_fill_fraction=Decimal("0.25")))
    world.venue.set_price("BTC_JPY", PRICE)
    async with world.running():
        world.signal("enter_long", size="0.04", price_ref=str(PRICE - 1000))
        await until(lambda: len(world.venue.active_orders("BTC_JPY")) == 1)
        seen: list[Decimal] = []
        for step in range(1, 5):
            world.venue.set_price("BTC_JPY", PRICE - 1000 - step)  # trades through the limit
            await until(lambda step=step: world.position("BTC_JPY").size == Decimal("0.01") * step)
            [order] = world.orders()
            seen.append(order.filled_size)
            expected = OrderStatus.FILLED if step == 4 else OrderStatus.PARTIALLY_FILLED
            await until(lambda expected=expected: world.orders()[0].status is expected)
    assert seen == [Decimal("0.01"), Decimal("0.02"), Decimal("0.03"), Decimal("0.04")]
    [order] = world.orders()
    assert order.average_price == PRICE - 1000
    assert len(world.venue.fills(order.order_id)) == 4
    assert world.store.snapshot().fills_of(order.client_order_id) == tuple(
        sorted(world.venue.fills(order.order_id), key=lambda f: (f.timestamp, f.execution_id)))


async def test_limit_order_is_cancelled_at_its_deadline(autojump_clock):
    world = World(default_options(order_timeout=timedelta(seconds=30)))
    world.venue.set_price("BTC_JPY", PRICE)
    async with world.running():
        world.signal("enter_long", size="0.01", price_ref=str(PRICE - 50_000))
        await until(lambda: len(world.venue.active_orders("BTC_JPY")) == 1)
        placed_at = trio.current_time()
        await until(lambda: world.orders()[0].status is OrderStatus.CANCELED)
        waited = trio.current_time() - placed_at
    [order] = world.orders()
    assert 29 <= waited <= 40  # deadline, plus at most a poll or two
    assert order.cancel_requested_at is not None
    assert order.filled_size == 0 and world.position("BTC_JPY").quantity == 0


async def test_fill_after_the_cancel_request_is_still_counted(autojump_clock):
    # The venue takes 5 s to finish a cancel; meanwhile the price trades through the limit.
    world = World(default_options(order_timeout=timedelta(seconds=30)),
                  venue_settings=VenueSettings(cancel_delay=timedelta(seconds=5)))
    world.venue.set_price("BTC_JPY", PRICE)
    async with world.running():
        world.signal("enter_long", size="0.01", price_ref=str(PRICE - 50_000))
        await until(lambda: world.orders() and world.orders()[0].cancel_requested_at is not None)
        world.venue.set_price("BTC_JPY", PRICE - 60_000)  # late fill while CANCELLING
        await until(lambda: world.orders()[0].status.is_final)
        await trio.sleep(10)  # and it stays that way
    [order] = world.orders()
    assert order.filled_size == Decimal("0.01")
    assert world.position("BTC_JPY").quantity == Decimal("0.01")
    assert world.venue.orders([order.order_id])[0].executed_size == Decimal("0.01")


async def test_partial_fill_then_cancel_keeps_the_filled_part(autojump_clock):
    world = World(default_options(order_timeout=timedelta(seconds=30)),
                  venue_settings=VenueSettings(max_fill_fraction=Decimal("0.5")))
    world.venue.set_price("BTC_JPY", PRICE)
    async with world.running():
        world.signal("enter_long", size="0.02", price_ref=str(PRICE - 1000))
        await until(lambda: len(world.venue.active_orders("BTC_JPY")) == 1)
        world.venue.set_price("BTC_JPY", PRICE - 2000)
        await until(lambda: world.orders()[0].status is OrderStatus.PARTIALLY_FILLED)
        await until(lambda: world.orders()[0].status is OrderStatus.CANCELED)
    [order] = world.orders()
    assert order.filled_size == Decimal("0.01")
    assert world.position("BTC_JPY").quantity == Decimal("0.01")
    # Room under the max position is freed once the order ended: a new entry may use it.
    async with world.store.transaction() as uow:
        assert await uow.orders.open_for_symbol("gmo", "BTC_JPY") == []
