"""DESIGN §4: the drawdown and consecutive-loss breakers trip, hold across a restart, and release
on resume (or, for losses, when the cooldown ends)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import trio

from hexexec.domain.records import SignalStatus
from hexexec.domain.risk import RiskLimits
from hexexec.domain.trading_state import TradingState
from hexexec.services.operations import halt, resume
from tests.service.world import World, default_options, until

PRICE = Decimal("10000000")


def last_status(world: World) -> SignalStatus:
    return max(world.signals(), key=lambda r: r.source.message_id).status


async def decided(world: World, count: int) -> None:
    await until(lambda: len(world.signals()) == count and world.pending() == 0)


def rejected_by(world: World) -> tuple[str, ...]:
    last = max(world.store.snapshot().decisions, key=lambda d: d.source.message_id)
    return last.rejected_by


async def test_drawdown_trips_holds_across_restart_and_releases_on_resume(autojump_clock):
    limits = RiskLimits(max_position_size=Decimal("1"), base_equity=Decimal("1000000"),
                        max_drawdown_pct=Decimal("1"))
    world = World(default_options(limits=limits))
    world.venue.set_price("BTC_JPY", PRICE)
    async with world.running():
        world.signal("enter_long", size="0.01")  # 100,000 JPY of BTC on 1,000,000 of equity
        await until(lambda: world.position("BTC_JPY").size == Decimal("0.01"))
        world.venue.set_price("BTC_JPY", PRICE * Decimal("0.8"))  # −20,000: a 2 % drawdown
        world.signal("enter_long", size="0.01")
        await decided(world, 2)
        assert last_status(world) is SignalStatus.REJECTED
        assert "max_drawdown" in rejected_by(world)
        assert world.store.snapshot().risk_state.state is TradingState.REDUCING

    async with world.running():  # the breaker is persisted: still tripped after a restart
        world.signal("enter_long", size="0.01")
        await decided(world, 3)
        assert last_status(world) is SignalStatus.REJECTED
        assert "trading_state" in rejected_by(world)
        world.signal("exit_long")  # exits are still allowed while REDUCING
        await decided(world, 4)
        assert last_status(world) is SignalStatus.ACCEPTED
        await until(lambda: world.position("BTC_JPY").quantity == 0)

        await resume(world.store, world.clock, reason="reviewed", by="test")
        world.signal("enter_long", size="0.01")
        await decided(world, 5)
        assert last_status(world) is SignalStatus.ACCEPTED
    assert world.store.snapshot().risk_state.state is TradingState.ACTIVE


async def _losing_round_trip(world: World, n: int) -> None:
    world.venue.set_price("BTC_JPY", PRICE)
    world.signal("enter_long", size="0.01")
    await until(lambda: world.position("BTC_JPY").size == Decimal("0.01"))
    world.venue.set_price("BTC_JPY", PRICE - 10_000)
    world.signal("exit_long")
    await until(lambda: world.position("BTC_JPY").quantity == 0)
    await until(lambda: len(world.store.snapshot().trips) == n)


async def test_consecutive_losses_pause_entries_across_restart_until_cooldown(autojump_clock):
    limits = RiskLimits(max_position_size=Decimal("1"), base_equity=Decimal("100000000"),
                        max_consecutive_losses=2, loss_cooldown=timedelta(minutes=30))
    world = World(default_options(limits=limits))
    async with world.running():
        await _losing_round_trip(world, 1)
        await _losing_round_trip(world, 2)
        world.signal("enter_long", size="0.01")
        await decided(world, 5)
        assert last_status(world) is SignalStatus.REJECTED
        assert rejected_by(world) == ("consecutive_losses",)

    async with world.running():
        world.signal("enter_long", size="0.01")
        await decided(world, 6)
        assert rejected_by(world) == ("consecutive_losses",)
        await trio.sleep(31 * 60)  # the cooldown passes
        world.signal("enter_long", size="0.01")
        await decided(world, 7)
        assert last_status(world) is SignalStatus.ACCEPTED


async def test_resume_releases_the_loss_pause_at_once(autojump_clock):
    limits = RiskLimits(max_position_size=Decimal("1"), base_equity=Decimal("100000000"),
                        max_consecutive_losses=2, loss_cooldown=timedelta(hours=24))
    world = World(default_options(limits=limits))
    async with world.running():
        await _losing_round_trip(world, 1)
        await _losing_round_trip(world, 2)
        world.signal("enter_long", size="0.01")
        await decided(world, 5)
        assert rejected_by(world) == ("consecutive_losses",)
        await resume(world.store, world.clock, reason="new day", by="test")
        world.signal("enter_long", size="0.01")
        await decided(world, 6)
        assert last_status(world) is SignalStatus.ACCEPTED


async def test_halt_stops_everything_including_exits_until_resumed(autojump_clock):
    world = World(default_options())
    world.venue.set_price("BTC_JPY", PRICE)
    async with world.running():
        world.signal("enter_long", size="0.01")
        await until(lambda: world.position("BTC_JPY").size == Decimal("0.01"))
        await halt(world.store, world.clock, reason="operator", by="test")
        world.signal("exit_long")
        await decided(world, 2)
        assert rejected_by(world) == ("trading_state",)
        await resume(world.store, world.clock, reason="ok", by="test")
        world.signal("exit_long")
        await decided(world, 3)
        await until(lambda: world.position("BTC_JPY").quantity == 0)
