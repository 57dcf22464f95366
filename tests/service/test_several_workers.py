"""Several workers in one consumer group on one store (DESIGN §3): no duplicates, limits hold
under races, and a worker that dies leaves its entries and orders to the others."""

from __future__ import annotations

import random
from collections import Counter
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal

import trio

from adapters.paper import FaultRates, PaperFaults
from hexexec.domain.risk import RiskLimits
from hexexec.services.worker import run_engine
from tests.service.test_crash_campaign import KillAfter, check_books
from tests.service.world import STREAM, World, default_options, until

SYMBOLS = ("BTC_JPY", "ETH_JPY", "BTC")
PRICES = {"BTC_JPY": Decimal("10000000"), "ETH_JPY": Decimal("500000"), "BTC": Decimal("10000000")}


def several_worlds_options(**overrides):
    limits = RiskLimits(max_position_size=Decimal("0.05"), base_equity=Decimal("100000000"))
    return default_options(limits=limits, symbols=SYMBOLS, sweep_interval_s=5.0,
                           orphan_after=timedelta(seconds=10), **overrides)


@asynccontextmanager
async def worker(world: World, consumer: str, nursery: trio.Nursery):
    """One worker: its own source (consumer name) and janitor, the shared store and venue."""
    source = world.source(consumer)
    scope = trio.CancelScope()

    async def life(task_status=trio.TASK_STATUS_IGNORED):
        with scope:
            async with trio.open_nursery() as inner:
                await inner.start(source.run_janitor, 5.0, 1.0)
                await inner.start(run_engine, world.engine(source))
                task_status.started()

    await nursery.start(life)
    yield scope
    scope.cancel()


async def test_three_workers_never_double_and_never_exceed_the_limit(autojump_clock):
    world = World(several_worlds_options(), latency_s=0.3)
    for symbol, price in PRICES.items():
        world.venue.set_price(symbol, price)
    async with trio.open_nursery() as nursery:
        async with worker(world, "w1", nursery), worker(world, "w2", nursery), \
                worker(world, "w3", nursery):
            for n in range(90):  # far more entries than the limit allows: the workers race
                symbol = SYMBOLS[n % 3]
                world.signal("enter_long", symbol, size="0.01" if symbol != "BTC" else "0.001")
            await until(lambda: len(world.signals()) == 90 and world.pending() == 0)
            await until(lambda: all(o.status.is_final for o in world.orders()))
        nursery.cancel_scope.cancel()
    for symbol in SYMBOLS:
        assert world.position(symbol).size <= Decimal("0.05")
    assert world.position("BTC_JPY").size == world.position("ETH_JPY").size == Decimal("0.05")
    assert Counter(r.status.value for r in world.signals())["REJECTED"] == 90 - len(world.orders())
    accepted = world.orders()
    assert len({o.source for o in accepted}) == len(accepted)
    assert len(world.venue.all_orders()) == len(accepted)
    check_books(world, [i for i, _ in world.streams.entries(STREAM)])


async def test_a_worker_killed_mid_flight_leaves_its_work_to_the_others(autojump_clock):
    """No worker is started after the kill: the survivors alone must finish the dead one's work
    (its pending entries through the janitor, its orders through the sweep)."""
    for seed in range(8):
        await _kill_one_of_three(seed)


async def _kill_one_of_three(seed: int) -> None:
    rng = random.Random(seed)
    world = World(several_worlds_options(), latency_s=0.5, seed=seed)
    world.faults = world.broker.faults = PaperFaults(seed=seed, rates=FaultRates(
        lost_reply=0.1, timeout=0.05))
    for symbol, price in PRICES.items():
        world.venue.set_price(symbol, price)
    async with trio.open_nursery() as nursery:
        async with worker(world, "w2", nursery), worker(world, "w3", nursery), \
                worker(world, "w1", nursery) as doomed:
            for _ in range(40):
                symbol = rng.choice(SYMBOLS)
                action = rng.choice(["enter_long", "enter_long", "exit_long"])
                world.signal(action, symbol, size="0.01" if symbol != "BTC" else "0.001")
            # w1 dies at a random step: mid-decision, mid-send, holding entries and orders.
            instrument = KillAfter(rng.randint(20, 600), doomed, world, Counter(),
                                   random.Random(seed))
            trio.lowlevel.add_instrument(instrument)
            with trio.move_on_after(30):
                await trio.sleep_forever()
            if instrument.left > 0:
                trio.lowlevel.remove_instrument(instrument)
            world.broker.faults = PaperFaults()
            published = [i for i, _ in world.streams.entries(STREAM)]
            await until(lambda: len(world.signals()) == len(published) and world.pending() == 0,
                        within=3600)
            await until(lambda: all(o.status.is_final for o in world.orders()), within=3600)
        nursery.cancel_scope.cancel()
    check_books(world, published)
