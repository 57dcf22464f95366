"""A store that is briefly unavailable (lost connection, server restart, lock timeout) stops
nothing: every unit of work is run again, and a run again after a commit whose reply was lost
changes nothing twice. And an order someone else claimed is resolved, never sent again."""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal

from hexexec.domain.order_status import OrderStatus
from hexexec.services.decide import Outcome, decide
from hexexec.services.engine import Engine
from hexexec.services.submit import _claim, submit_order
from hexexec.services.worker import load_rules
from tests.service.world import World, default_options, final, until

PRICE = Decimal("10000000")


async def test_outages_at_random_lose_nothing_and_double_nothing(autojump_clock):
    world = World(default_options())
    world.venue.set_price("BTC_JPY", PRICE)
    world.venue.set_price("ETH_JPY", PRICE / 20)
    rng = random.Random(20261206)
    # About one transaction in four fails: refused at the start, or committed with the reply lost.
    planned = [rng.choice(["refused", "lost_commit", "", "", "", "", "", ""]) for _ in range(600)]
    world.store.outages = list(planned)
    async with world.running():
        for n in range(30):
            symbol = "BTC_JPY" if n % 2 else "ETH_JPY"
            world.signal("enter_long" if n % 3 else "exit_long", symbol, size="0.01")
        await until(lambda: len(world.signals()) == 30 and world.pending() == 0
                    and final(world.orders()))
    met = Counter(planned[:len(planned) - len(world.store.outages)])
    assert met["refused"] >= 10 and met["lost_commit"] >= 10, met
    orders = world.orders()
    assert len({o.source for o in orders}) == len(orders)  # one order per signal
    owned = Counter(o.order_id for o in orders if o.order_id is not None)
    assert set(owned) == {o.order_id for o in world.venue.all_orders()}  # every venue order owned
    assert all(n == 1 for n in owned.values())  # once
    for symbol in ("BTC_JPY", "ETH_JPY"):
        venue = sum((p.quantity for p in world.venue.positions() if p.symbol == symbol), Decimal(0))
        assert world.position(symbol).quantity == venue


async def _one_decided_entry() -> tuple[World, Engine, str]:
    """A world with one entry decided (its order PENDING), nothing sent yet."""
    world = World(default_options())
    world.venue.set_price("BTC_JPY", PRICE)
    engine = await load_rules(world.engine())
    world.signal("enter_long", size="0.01")
    [message] = await engine.source.read(10)
    decided = await decide(engine, message)
    assert decided.outcome is Outcome.ACCEPTED and decided.client_order_id is not None
    return world, engine, decided.client_order_id


async def test_an_order_claimed_by_a_worker_that_died_mid_send_is_resolved_not_resent(
        autojump_clock):
    world, engine, cid = await _one_decided_entry()
    # The other worker: claims it, and its send reaches the venue just before it dies.
    claimed, mine = await _claim(engine, cid, "BTC_JPY")
    assert mine and claimed is not None
    venue_id = await engine.broker.place(claimed.intent)
    # This worker was handed the same order (a redelivery) and now has the symbol's lease.
    async with engine.store.lease(engine.send_lease("BTC_JPY")) as lease:
        result = await submit_order(engine, cid, "BTC_JPY", lease=lease)
    assert result is not None and result.order_id == venue_id
    assert result.status is OrderStatus.NEW
    assert [o.order_id for o in world.venue.all_orders()] == [venue_id]  # sent once, not twice


async def test_an_outage_during_a_claim_never_sends_twice(autojump_clock):
    """The claim committed but its reply was lost: the order is SUBMITTING and was never sent.
    Run again, the claim finds it claimed, so it is resolved (not placed → rejected) instead of
    sent blind: the protocol never sends an order whose claim it cannot prove its own."""
    world, engine, cid = await _one_decided_entry()
    world.store.outages = ["lost_commit"]
    async with engine.store.lease(engine.send_lease("BTC_JPY")) as lease:
        result = await submit_order(engine, cid, "BTC_JPY", lease=lease)
    assert result is not None and result.status is OrderStatus.REJECTED
    assert world.venue.all_orders() == []
