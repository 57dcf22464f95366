"""The whole engine trading through GmoBroker over real HTTP to the simulated GMO (DESIGN §3).

The core's tested memory adapters carry the signals and the books; the venue is the simulator,
reached only through the live adapter (signed, rate-limited HTTP) and the public ticker. Each
"life" of the worker opens its own broker, as a restarted process would; ending a life cancels
everything mid-flight, as a kill would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import trio

from adapters.gmo import GmoBroker, GmoMarketData, HttpTimeouts
from adapters.memory.signal_source import MemorySignalSource
from adapters.memory.store import MemoryStore
from adapters.memory.streams import MemoryStreams
from adapters.system.clock import SystemClock
from hexexec.domain.accounting import Position
from hexexec.domain.fills import Fill
from hexexec.domain.order_status import OrderStatus
from hexexec.domain.orders import Order, SettleType
from hexexec.domain.risk import RiskLimits
from hexexec.services.engine import Engine, EngineOptions
from hexexec.services.resolve import NOT_PLACED
from hexexec.services.worker import run_engine
from tests.integration.gmo.sim import DEFAULT_PRICES, SimHandle, running_sim

STREAM, GROUP = "signal:gmo", "execution"
SYMBOLS = ("BTC_JPY", "BTC", "ETH_JPY")
PRICE = DEFAULT_PRICES["BTC_JPY"]
TIMEOUTS = HttpTimeouts(connect_s=1.0, read_s=1.0, write_s=1.0, pool_s=1.0, total_s=1.5)
OPTIONS = EngineOptions(
    exchange_name="gmo", symbols=frozenset(SYMBOLS),
    limits=RiskLimits(max_position_size=Decimal("1"), base_equity=Decimal("100000000")),
    max_signal_age=timedelta(seconds=60), order_timeout=timedelta(seconds=5),
    market_order_timeout=timedelta(seconds=5), poll_interval_s=0.05, read_batch=10,
    resolve_checks=2, resolve_interval_s=0.3, backoff_max_s=0.3,
)


class GmoWorld:
    """Memory streams and store, the simulator, and workers started on demand."""

    def __init__(self, gmo: SimHandle) -> None:
        self.gmo = gmo
        self.store = MemoryStore()
        self.streams = MemoryStreams()
        self.streams.ensure_group(STREAM, GROUP)
        self.published = 0

    @asynccontextmanager
    async def running(self, options: EngineOptions = OPTIONS) -> AsyncIterator[Engine]:
        """One life of the worker: broker and market data opened, the engine ready (recovery
        done) on entry, everything cancelled on exit."""
        async with GmoBroker.open(self.gmo.base_url, self.gmo.key, self.gmo.secret,
                                  timeouts=TIMEOUTS) as broker, \
                GmoMarketData.open(self.gmo.base_url, SYMBOLS, refresh_s=0.2) as market:
            source = MemorySignalSource(self.streams, [STREAM], GROUP, "execution-1", block_s=0.05)
            engine = Engine(self.store, broker, source, SystemClock(), market, options)
            async with trio.open_nursery() as nursery:
                yield await nursery.start(run_engine, engine)
                nursery.cancel_scope.cancel()

    def signal(self, action: str, symbol: str = "BTC_JPY", **fields: str) -> str:
        body = {"exchange": "gmo", "symbol": symbol, "action": action, **fields}
        if "price_ref" not in fields:
            body["order_type"] = "MARKET"
        self.published += 1
        return self.streams.add(STREAM, body)

    def orders(self) -> list[Order]:
        return list(self.store.snapshot().orders)

    def position(self, symbol: str) -> Position:
        return self.store.snapshot().position("gmo", symbol)

    def our_fills(self) -> list[Fill]:
        return [f for f, _ in self.store.snapshot().fills]

    def settled(self) -> bool:
        """Every signal published is decided and acknowledged, every order has ended."""
        snapshot = self.store.snapshot()
        return (len(snapshot.signals) == self.published and self.pending() == 0
                and all(o.status.is_final for o in snapshot.orders))

    def pending(self) -> int:
        return len(self.streams.pending(STREAM, GROUP))


@asynccontextmanager
async def world(**sim: Any) -> AsyncIterator[GmoWorld]:
    async with running_sim(symbols=SYMBOLS, hold_s=5.0, **sim) as gmo:
        yield GmoWorld(gmo)


async def until(condition: Callable[[], object], within: float = 20.0) -> None:
    with trio.fail_after(within):
        while True:
            if condition():
                return
            await trio.sleep(0.02)


def venue_net(w: GmoWorld, symbol: str) -> Decimal:
    return sum((p.quantity for p in w.gmo.sim.venue.positions() if p.symbol == symbol), Decimal(0))


def cash_flow(fills: list[Fill]) -> Decimal:
    """What a flat book realized, from the venue's own fills: money in minus money out minus fees."""
    return sum((-f.side.sign * f.price * f.size - f.fee for f in fills), Decimal(0))


@pytest.mark.parametrize(("symbol", "enter", "exit_", "win"), [
    ("BTC_JPY", "enter_long", "exit_long", 150_000),
    ("ETH_JPY", "enter_short", "exit_short", -20_000),
    ("BTC", "enter_long", "exit_long", 150_000),
])
async def test_a_round_trip_books_what_the_venue_did(symbol: str, enter: str, exit_: str,
                                                      win: int) -> None:
    async with world() as w:
        market = DEFAULT_PRICES[symbol]
        size = "0.02" if symbol != "ETH_JPY" else "0.3"
        async with w.running():
            w.signal(enter, symbol, size=size, price_ref=str(market - 1000 * (win > 0 or -1)))
            await until(lambda: w.orders() and w.orders()[0].status is OrderStatus.NEW)
            w.gmo.sim.set_price(symbol, market - 5000 * (win > 0 or -1))  # the limit is crossed
            await until(lambda: w.position(symbol).size == Decimal(size))
            w.gmo.sim.set_price(symbol, market + win)
            w.signal(exit_, symbol)  # no size: the whole position
            await until(w.settled)
        ours = w.position(symbol)
        venue_fills = w.gmo.sim.venue.all_fills()
        assert [o.status for o in w.orders()] == [OrderStatus.FILLED] * 2
        assert ours.quantity == venue_net(w, symbol) == 0
        assert {f.execution_id for f in w.our_fills()} == {f.execution_id for f in venue_fills}
        assert ours.realized_pnl == cash_flow(venue_fills) > 0
        closing = [f for f in w.our_fills() if f.loss_gain is not None]
        if symbol.endswith("_JPY"):  # GMO's own lossGain, as our accounting has it
            assert closing and sum(f.loss_gain for f in closing) == ours.realized_pnl + ours.fees
            exit_order = w.gmo.sim.venue.all_orders()[-1]
            assert exit_order.settle_type is SettleType.CLOSE  # sent as closeBulkOrder
        else:
            assert closing == []


@pytest.mark.parametrize("price_ref", [None, str(PRICE - 20_000)])
async def test_a_reply_dropped_after_the_venue_took_the_order_is_adopted_never_resent(
    price_ref: str | None,
) -> None:
    async with world() as w:
        w.gmo.sim.drop_next_reply("/v1/order", mode="hold")
        async with w.running():
            w.signal("enter_long", size="0.01", **({"price_ref": price_ref} if price_ref else {}))
            await until(lambda: w.orders() and w.orders()[0].order_id is not None)
            await trio.sleep(1.0)  # time enough for a wrongful second send
        [order], [venue_order] = w.orders(), w.gmo.sim.venue.all_orders()
        assert order.order_id == venue_order.order_id
        assert order.status is (OrderStatus.FILLED if price_ref is None else OrderStatus.NEW)
        assert w.position("BTC_JPY").quantity == venue_net(w, "BTC_JPY")


async def test_a_request_lost_before_the_venue_saw_it_is_rejected_as_not_placed() -> None:
    async with world() as w:
        w.gmo.sim.timeout_next("/v1/order")
        async with w.running():
            w.signal("enter_long", size="0.01")
            await until(w.settled)
            await trio.sleep(1.0)
        [order] = w.orders()
        assert order.status is OrderStatus.REJECTED and order.reason == NOT_PLACED
        assert w.gmo.sim.venue.all_orders() == []


@pytest.mark.parametrize("venue_took_it", [True, False])
async def test_a_worker_killed_mid_send_then_restarted_resolves_the_order(
    venue_took_it: bool,
) -> None:
    async with world() as w:
        if venue_took_it:
            w.gmo.sim.drop_next_reply("/v1/order", mode="hold")  # acted; the reply never comes
        else:
            w.gmo.sim.timeout_next("/v1/order")  # held unseen
        async with w.running():
            w.signal("enter_long", size="0.01", price_ref=str(PRICE - 20_000))
            await until(lambda: w.orders() and w.orders()[0].status is OrderStatus.SUBMITTING
                        and w.gmo.sim.holds.count == 1)
        # killed while waiting for the reply
        assert w.orders()[0].status is OrderStatus.SUBMITTING
        assert len(w.gmo.sim.venue.all_orders()) == (1 if venue_took_it else 0)
        async with w.running():  # recovery runs before the engine is ready
            pass
        [order] = w.orders()
        if venue_took_it:
            [venue_order] = w.gmo.sim.venue.all_orders()
            assert order.status is OrderStatus.NEW and order.order_id == venue_order.order_id
        else:
            assert order.status is OrderStatus.REJECTED and order.reason == NOT_PLACED
            assert w.gmo.sim.venue.all_orders() == []


async def test_maintenance_in_the_middle_of_a_run_loses_nothing_and_trading_resumes() -> None:
    async with world() as w:
        async with w.running():
            w.signal("enter_long", size="0.01", price_ref=str(PRICE - 20_000))  # rests
            await until(lambda: w.orders() and w.orders()[0].status is OrderStatus.NEW)
            w.gmo.sim.set_maintenance(True)
            for symbol, size in (("BTC_JPY", "0.01"), ("BTC", "0.001"), ("ETH_JPY", "0.1")):
                w.signal("enter_long", symbol, size=size)
            await until(lambda: len(w.orders()) == 4)
            await trio.sleep(1.0)  # the worker keeps calling and backing off meanwhile
            assert len(w.gmo.sim.venue.all_orders()) == 1
            assert [o.status for o in w.orders()[1:]] == [OrderStatus.PENDING] * 3
            w.gmo.sim.set_price("BTC_JPY", PRICE - 30_000)  # fills the resting order ...
            w.gmo.sim.set_maintenance(False)  # ... which the venue shows once it is back
            await until(w.settled)
        assert [o.status for o in w.orders()] == [OrderStatus.FILLED] * 4
        assert len(w.gmo.sim.venue.all_orders()) == 4
        for symbol in SYMBOLS:
            assert w.position(symbol).quantity == venue_net(w, symbol) > 0
