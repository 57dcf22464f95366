"""Graceful stop (DESIGN §2) and the position drift check (DESIGN §5)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import trio

from hexexec.domain.accounting import Position
from hexexec.domain.trading_state import TradingState
from hexexec.services.worker import run_engine
from tests.service.world import World, default_options, until

PRICE = Decimal("10000000")


async def test_stop_finishes_in_flight_work_and_loses_nothing(autojump_clock):
    world = World(default_options(), latency_s=0.5)
    world.venue.set_price("BTC_JPY", PRICE)
    for _ in range(30):
        world.signal("enter_long", size="0.01")
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        await nursery.start(lambda task_status: run_engine(world.engine(), stop=stop,
                                                           task_status=task_status))
        await until(lambda: len(world.venue.all_orders()) >= 5, step=0.05)
        stop.set()  # run_engine returns by itself within the grace: no cancel from outside
        stopped_at = trio.current_time()
    took = trio.current_time() - stopped_at
    assert took <= world.options.shutdown_grace_s + 1.5  # grace, plus one read's block time
    assert len(world.venue.all_orders()) < 30  # the stop really cut the run short
    async with world.running():
        await until(lambda: len(world.signals()) == 30 and world.pending() == 0)
        await until(lambda: all(o.status.is_final for o in world.orders()))
    assert len(world.venue.all_orders()) == len(world.orders()) == 30
    assert world.position("BTC_JPY").size == Decimal("0.30")


async def test_lasting_drift_reduces_trading(autojump_clock):
    world = World(default_options(drift_interval_s=10, drift_checks=3))
    world.venue.set_price("BTC_JPY", PRICE)
    async with world.running():
        world.signal("enter_long", size="0.01")
        await until(lambda: world.position("BTC_JPY").size == Decimal("0.01"))
        await trio.sleep(60)  # books agree: nothing happens
        assert world.store.snapshot().risk_state.state is TradingState.ACTIVE
        # Our books lose track of a fill (say, a manual trade on the account): drift.
        async with world.store.transaction() as uow:
            position = await uow.positions.get("gmo", "BTC_JPY")
            await uow.positions.put(replace(position, quantity=Decimal("0.02")))
        await until(lambda: world.store.snapshot().risk_state.state is TradingState.REDUCING)
    state = world.store.snapshot().risk_state
    assert "drift on BTC_JPY" in state.reason and state.set_by == "risk"


async def test_a_brief_difference_is_not_drift(autojump_clock):
    world = World(default_options(drift_interval_s=10, drift_checks=3))
    world.venue.set_price("BTC_JPY", PRICE)
    async with world.running():
        async with world.store.transaction() as uow:
            await uow.positions.put(Position("gmo", "BTC_JPY", quantity=Decimal("0.01"),
                                             average_price=PRICE))
        await trio.sleep(15)  # one check sees it
        async with world.store.transaction() as uow:
            await uow.positions.put(Position("gmo", "BTC_JPY"))
        await trio.sleep(60)
    assert world.store.snapshot().risk_state.state is TradingState.ACTIVE
