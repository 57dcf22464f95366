"""Crash test: kill the whole engine at hundreds of random points while signals flow and the venue
misbehaves, restart it each time, and check the books balance exactly at the end.

A kill is a cancellation delivered after a random number of scheduler steps (a trio instrument),
so it lands anywhere a task can stop: inside a store transaction, between a send and its reply,
between a commit and its acknowledgement. Replay a failure with HEXEXEC_CRASH_SEED=<seed>; explore
new ones with HEXEXEC_CRASH_SEED=random (trio's scheduling adds its own jitter either way).
"""

from __future__ import annotations

import os
import random
from collections import Counter
from decimal import Decimal

import trio
import trio.lowlevel

from adapters.paper import FaultRates, PaperFaults
from hexexec.domain.accounting import Position, apply_fill
from hexexec.domain.fills import booking_order
from hexexec.domain.order_status import OrderStatus
from hexexec.domain.records import SignalStatus
from tests.service.world import GROUP, STREAM, World, default_options, until

# A fixed seed by default, so CI replays the same campaign; HEXEXEC_CRASH_SEED=random explores.
_seed = os.environ.get("HEXEXEC_CRASH_SEED", "20261128")
SEED = random.randrange(1 << 30) if _seed == "random" else int(_seed)
KILLS = int(os.environ.get("HEXEXEC_CRASH_KILLS", "200"))
PRICES = {"BTC_JPY": Decimal("10000000"), "ETH_JPY": Decimal("500000"), "BTC": Decimal("10000000")}
SIZES = {"BTC_JPY": "0.01", "ETH_JPY": "0.1", "BTC": "0.001"}


class KillAfter(trio.abc.Instrument):
    """Cancel ``scope`` once ``steps`` task steps have run: a crash at an arbitrary point."""

    def __init__(self, steps: int, scope: trio.CancelScope, world: World, sites: Counter[str],
                 rng: random.Random | None = None) -> None:
        self.left = steps
        self.scope = scope
        self.world = world
        self.sites = sites
        self.rng = rng  # when given: also strike while a send is in flight, now and then

    def _sending(self) -> bool:
        return any(o.status is OrderStatus.SUBMITTING for o in self.world.orders())

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        self.left -= 1
        if self.rng is not None and self.left > 0 and self.rng.random() < 0.2 and self._sending():
            self.left = 0
        if self.left == 0:
            self.scope.cancel()
            # Where the kill landed, so the campaign can show it reached the dangerous places.
            self.sites["kills"] += 1
            self.sites["in a transaction"] += self.world.store.in_transaction
            self.sites["with a send in flight"] += self._sending()


def random_signal(world: World, rng: random.Random) -> None:
    symbol = rng.choice(sorted(PRICES))
    spot = symbol == "BTC"
    action = rng.choice(["enter_long", "exit_long"] if spot else
                        ["enter_long", "exit_long", "enter_short", "exit_short"])
    fields = {"exchange": "gmo", "symbol": symbol, "action": action}
    if action.startswith("enter") or rng.random() < 0.3:
        fields["size"] = SIZES[symbol]
    if rng.random() < 0.5:
        fields["order_type"] = "MARKET"
    else:
        offset = Decimal(rng.choice([-2, -1, 0, 1, 2])) / 1000
        fields["price_ref"] = str((world.venue.market_price(symbol) * (1 + offset)).quantize(1))
    if rng.random() < 0.05:
        fields["size"] = "-1"  # bad input now and then
    world.publish(**fields)


def move_prices(world: World, rng: random.Random) -> None:
    for symbol in PRICES:
        current = world.venue.market_price(symbol)
        world.venue.set_price(symbol, (current * Decimal(1 + rng.uniform(-0.003, 0.003))).quantize(1))


async def one_life(world: World, rng: random.Random, sites: Counter[str]) -> None:
    """Run the engine with signals and prices moving, until killed at a random step."""
    scope = trio.CancelScope()
    # One life in five aims at the most dangerous moment: an order between SUBMITTING and reply.
    aim = random.Random(rng.random()) if rng.random() < 0.2 else None
    instrument = KillAfter(rng.randint(1, 1500), scope, world, sites, aim)
    trio.lowlevel.add_instrument(instrument)
    try:
        with scope, trio.move_on_after(900):
            async with world.running():
                for _ in range(rng.randint(0, 4)):
                    await trio.sleep(rng.uniform(0, 3))
                    random_signal(world, rng)
                    move_prices(world, rng)
                await trio.sleep_forever()
    finally:
        if instrument.left > 0:
            trio.lowlevel.remove_instrument(instrument)


async def test_crash_campaign(autojump_clock):
    print(f"crash campaign seed {SEED} ({KILLS} kills); replay with HEXEXEC_CRASH_SEED={SEED}")
    rng = random.Random(SEED)
    world = World(default_options(symbols=tuple(PRICES)), latency_s=1.0, seed=SEED)
    world.faults = world.broker.faults = PaperFaults(seed=SEED, rates=FaultRates(
        reject=0.03, timeout=0.05, lost_reply=0.05, unavailable=0.05, query_error=0.05))
    for symbol, price in PRICES.items():
        world.venue.set_price(symbol, price)

    sites: Counter[str] = Counter()
    for _ in range(KILLS):
        random_signal(world, rng)
        await one_life(world, rng, sites)
    print("crash campaign kill sites:", dict(sites))
    assert sites["kills"] >= KILLS * 0.9  # most lives end by a kill, not by the 900 s guard
    assert sites["in a transaction"] > 0 and sites["with a send in flight"] > 0

    # A last, calm life: no more faults, run until every signal is decided and every order ended.
    world.broker.faults = PaperFaults()
    published = [i for i, _ in world.streams.entries(STREAM)]
    async with world.running():
        await until(lambda: len(world.signals()) == len(published) and world.pending() == 0,
                    within=3600)
        await until(lambda: all(o.status.is_final for o in world.orders()), within=3600)
    check_books(world, published)


def check_books(world: World, published: list[str]) -> None:
    snap = world.store.snapshot()
    # Every entry accounted for exactly once, acknowledged, nothing left pending.
    signals = {r.source.message_id: r for r in snap.signals}
    assert sorted(signals) == sorted(published)
    assert world.streams.pending(STREAM, GROUP) == [] and world.streams.lag(STREAM, GROUP) == 0
    dlq_ids = Counter(dict(f)[b"source_id"].decode() for _, f in world.streams.entries(STREAM + ":dlq"))
    invalid = {i for i, r in signals.items() if r.status is SignalStatus.INVALID}
    assert set(dlq_ids) == invalid and all(n == 1 for n in dlq_ids.values())
    decisions = Counter(d.source.message_id for d in snap.decisions)
    assert all(n == 1 for n in decisions.values())

    # One order per accepted signal, none for the others.
    orders_by_signal = Counter(o.source.message_id for o in snap.orders)
    accepted = {i for i, r in signals.items() if r.status is SignalStatus.ACCEPTED}
    expired_at_send = {o.source.message_id for o in snap.orders if o.status is OrderStatus.EXPIRED
                       and o.order_id is None}
    assert set(orders_by_signal) == accepted | expired_at_send
    assert all(n == 1 for n in orders_by_signal.values())

    # Every venue order owned by exactly one row, every row sent by at most one venue order.
    venue_orders = {o.order_id: o for o in world.venue.all_orders()}
    owners = Counter(o.order_id for o in snap.orders if o.order_id is not None)
    assert set(owners) == set(venue_orders), "a venue order without its row, or a row without one"
    assert all(n == 1 for n in owners.values())
    for order in snap.orders:
        assert order.status.is_final
        if order.order_id is None:
            assert order.status in (OrderStatus.REJECTED, OrderStatus.EXPIRED)
        else:
            assert order.filled_size == venue_orders[order.order_id].executed_size

    # Positions equal the fills: ours replayed, and the venue's.
    pnl_gaps: list[Decimal] = []
    venue_fills = {f.execution_id: f for f in world.venue.all_fills()}
    our_fills = [f for f, _ in snap.fills]
    assert set(venue_fills) == {f.execution_id for f in our_fills}
    for fill, client_order_id in snap.fills:
        owner = next(o for o in snap.orders if o.client_order_id == client_order_id)
        assert owner.order_id == fill.order_id
    for symbol in PRICES:
        replayed = Position("gmo", symbol)
        # In the venue's order, however late a fill was booked: the bookkeeping rebuilds then.
        for fill in sorted((f for f in our_fills if f.symbol == symbol), key=booking_order):
            replayed = apply_fill(replayed, fill).position
        stored = snap.position("gmo", symbol)
        assert (stored.quantity, stored.realized_pnl) == (replayed.quantity, replayed.realized_pnl)
        venue_qty = sum((p.quantity for p in world.venue.positions() if p.symbol == symbol), Decimal(0))
        assert stored.quantity == venue_qty
        if symbol.endswith("_JPY"):  # leverage: our realized PnL is the venue's lossGain
            fills = [f for f in venue_fills.values() if f.symbol == symbol]
            venue_realized = sum((f.loss_gain or 0 for f in fills), Decimal(0))
            fees = sum((f.fee for f in fills), Decimal(0))
            drift_pnl = stored.realized_pnl + fees - venue_realized
            pnl_gaps.append(abs(drift_pnl))
    assert pnl_gaps and all(gap == 0 for gap in pnl_gaps), pnl_gaps
    print("crash campaign:", Counter(r.status.value for r in snap.signals),
          Counter(o.status.value for o in snap.orders), f"{len(venue_orders)} venue orders")
