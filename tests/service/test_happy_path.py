"""Each action on a leverage and a spot symbol, end to end on the memory adapters and paper venue."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.prometheus.metrics import PrometheusMetrics
from hexexec.domain.accounting import PositionSide
from hexexec.domain.order_status import OrderStatus
from hexexec.domain.orders import SettleType, Side
from hexexec.domain.records import SignalStatus
from tests.service.world import World, default_options, until

PRICE = Decimal("10000000")


@pytest.mark.parametrize(
    ("enter", "exit_", "side", "pos_side"),
    [
        ("enter_long", "exit_long", Side.BUY, PositionSide.LONG),
        ("enter_short", "exit_short", Side.SELL, PositionSide.SHORT),
    ],
)
async def test_leverage_round_trip(autojump_clock, enter, exit_, side, pos_side):
    world = World(default_options())
    world.venue.set_price("BTC_JPY", PRICE)
    async with world.running():
        world.signal(enter, size="0.01")
        await until(lambda: world.position("BTC_JPY").size == Decimal("0.01"))
        [entry] = world.orders()
        assert entry.status is OrderStatus.FILLED
        assert entry.intent.side is side and entry.intent.settle_type is SettleType.OPEN
        assert world.position("BTC_JPY").side is pos_side

        world.venue.set_price("BTC_JPY", PRICE + 100_000 * side.sign)  # the trade wins
        world.signal(exit_)  # no size: the whole position
        await until(lambda: len(world.orders()) == 2 and all(o.status.is_final for o in world.orders()))
        exit_order = next(o for o in world.orders() if o.client_order_id != entry.client_order_id)
        assert exit_order.intent.settle_type is SettleType.CLOSE
        assert exit_order.intent.side is side.opposite
        assert exit_order.intent.size == Decimal("0.01")

    position = world.position("BTC_JPY")
    assert position.quantity == 0
    # Our realized PnL (before fees) equals the venue's lossGain on the closing fill.
    venue_fills = world.venue.all_fills()
    loss_gain = sum((f.loss_gain or 0 for f in venue_fills), Decimal(0))
    fees = sum((f.fee for f in venue_fills), Decimal(0))
    assert loss_gain > 0
    assert position.realized_pnl == loss_gain - fees
    assert {s.status for s in world.signals()} == {SignalStatus.ACCEPTED}
    assert world.pending() == 0


async def test_spot_buy_then_sell(autojump_clock):
    world = World(default_options())
    world.venue.set_price("BTC", PRICE)
    async with world.running():
        # A LIMIT buy above the market takes at once.
        world.signal("enter_long", symbol="BTC", size="0.001", price_ref=str(PRICE + 10_000))
        await until(lambda: world.position("BTC").size == Decimal("0.001"))
        world.signal("exit_long", symbol="BTC", size="0.001", order_type="MARKET")
        await until(lambda: world.position("BTC").quantity == 0)
        await until(lambda: all(o.status.is_final for o in world.orders()))
    entry, exit_order = sorted(world.orders(), key=lambda o: o.created_at)
    assert (entry.intent.side, exit_order.intent.side) == (Side.BUY, Side.SELL)
    assert entry.status is exit_order.status is OrderStatus.FILLED
    fills = world.venue.all_fills()
    assert len(fills) == 2
    # Spot fees are paid (taker): realized PnL is the price difference minus both fees.
    buy, sell = sorted(fills, key=lambda f: f.side is Side.SELL)
    expected = (sell.price - buy.price) * Decimal("0.001") - buy.fee - sell.fee
    assert world.position("BTC").realized_pnl == expected
    assert buy.fee > 0 and sell.fee > 0


async def test_short_on_spot_is_bad_input_and_worker_goes_on(autojump_clock):
    world = World(default_options())
    world.venue.set_price("BTC", PRICE)
    async with world.running():
        world.signal("enter_short", symbol="BTC", size="0.001")
        world.signal("enter_long", symbol="BTC", size="0.001")
        await until(lambda: world.position("BTC").size == Decimal("0.001"))
        await until(lambda: world.pending() == 0)
    [(_, dead)] = world.dlq()
    assert b"spot cannot be shorted" in dead[b"reason"]
    assert len(world.venue.all_orders()) == 1


async def test_each_step_to_the_venue_is_timed(autojump_clock):
    """decide reports its duration once per batch read (both signals are in one), lease, claim
    and record once per order sent (one lane per symbol)."""
    metrics = PrometheusMetrics()
    world = World(default_options(), latency_s=0.2, metrics=metrics)
    world.venue.set_price("BTC_JPY", PRICE)
    async with world.running():
        world.signal("enter_long", size="0.01")
        world.signal("enter_long", symbol="ETH_JPY", size="0.01")
        await until(lambda: len(world.orders()) == 2 and all(o.status.is_final for o in world.orders()))

    def seen(step: str, what: str) -> float:
        value = metrics.registry.get_sample_value(f"hexexec_step_duration_seconds_{what}",
                                                  {"step": step})
        return value or 0.0

    assert {step: seen(step, "count") for step in ("decide", "lease", "claim", "record")} == {
        "decide": 1, "lease": 2, "claim": 2, "record": 2}
    # The venue's answer takes 0.2 s of trio's clock; none of the store steps waits for it.
    assert seen("record", "sum") < 0.2 and seen("claim", "sum") < 0.2
    assert metrics.registry.get_sample_value("hexexec_submit_latency_seconds_sum") >= 0.4
