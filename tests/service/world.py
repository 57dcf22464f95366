"""A whole trading world in memory for service tests: streams, store, a paper venue, one clock.

Everything shares a wall clock driven by trio's clock, so under ``autojump_clock`` order
deadlines, signal ages and venue timestamps all move with virtual time.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import trio

from adapters.memory.signal_source import MemorySignalSource
from adapters.memory.store import MemoryStore
from adapters.memory.streams import MemoryStreams
from adapters.paper import PaperBroker, PaperFaults, PaperMarketData, PaperVenue, VenueSettings
from adapters.system.clock import TrioWallClock
from hexexec.domain.risk import RiskLimits
from hexexec.services.engine import Engine, EngineOptions, NullMetrics
from hexexec.services.worker import run_engine
from ports.metrics import Metrics

START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
STREAM = "signal:gmo"
GROUP = "execution"
SYMBOLS = ("BTC_JPY", "BTC", "ETH_JPY")


def default_options(**overrides: Any) -> EngineOptions:
    limits = overrides.pop("limits", None) or RiskLimits(
        max_position_size=Decimal("1"), base_equity=Decimal("10000000"))
    opts = EngineOptions(
        exchange_name="gmo",
        symbols=frozenset(overrides.pop("symbols", SYMBOLS)),
        limits=limits,
        max_signal_age=timedelta(seconds=60),
        order_timeout=timedelta(seconds=30),
        market_order_timeout=timedelta(seconds=30),
        poll_interval_s=1.0,
        read_batch=20,
        resolve_checks=2,
        resolve_interval_s=2.0,
        backoff_max_s=5.0,
    )
    return replace(opts, **overrides)


@dataclass
class World:
    options: EngineOptions
    venue_settings: VenueSettings = field(default_factory=VenueSettings)
    latency_s: float = 0.0
    seed: int = 0
    metrics: Metrics = field(default_factory=NullMetrics)

    def __post_init__(self) -> None:
        self.clock = TrioWallClock(START)
        self.streams = MemoryStreams(clock=self.clock.now)
        self.store = MemoryStore()
        self.venue = PaperVenue.for_symbols(SYMBOLS, settings=self.venue_settings, now=self.clock.now)
        self.faults = PaperFaults(seed=self.seed)
        self.broker = PaperBroker(self.venue, latency_s=self.latency_s, faults=self.faults)
        self.market = PaperMarketData(self.venue)
        self.streams.ensure_group(STREAM, GROUP)

    def source(self, consumer: str = "execution-1") -> MemorySignalSource:
        """A new source instance: what a restarted worker opens."""
        return MemorySignalSource(self.streams, [STREAM], GROUP, consumer, block_s=1.0)

    def engine(self, source: Any = None) -> Engine:
        return Engine(
            store=self.store, broker=self.broker, source=source or self.source(),
            clock=self.clock, market_data=self.market, options=self.options,
            metrics=self.metrics,
        )

    def publish(self, **fields: str) -> str:
        return self.streams.add(STREAM, fields)

    def signal(self, action: str, symbol: str = "BTC_JPY", **fields: str) -> str:
        """Publish a well-formed signal (MARKET unless a price_ref is given)."""
        body = {"exchange": "gmo", "symbol": symbol, "action": action}
        if "price_ref" not in fields:
            body["order_type"] = "MARKET"
        body.update(fields)
        return self.publish(**body)

    @asynccontextmanager
    async def running(self, source: Any = None) -> AsyncIterator[Engine]:
        """Run the whole engine until the block ends (then cancel it, as a crash would)."""
        async with trio.open_nursery() as nursery:
            engine = await nursery.start(run_engine, self.engine(source))
            yield engine
            nursery.cancel_scope.cancel()

    # -- looking at the results ---------------------------------------------------------------

    def orders(self) -> list[Any]:
        return list(self.store.snapshot().orders)

    def signals(self) -> list[Any]:
        return list(self.store.snapshot().signals)

    def position(self, symbol: str) -> Any:
        return self.store.snapshot().position("gmo", symbol)

    def dlq(self) -> list[tuple[str, dict[bytes, bytes]]]:
        return [(i, dict(f)) for i, f in self.streams.entries(STREAM + ":dlq")]

    def pending(self) -> int:
        return len(self.streams.pending(STREAM, GROUP))


async def until(
    condition: Callable[[], bool | Awaitable[bool]], *, within: float = 600, step: float = 0.25
) -> None:
    """Wait (in trio time) until ``condition`` holds; fail after ``within`` seconds."""
    with trio.fail_after(within):
        while True:
            result = condition()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return
            await trio.sleep(step)


def final(orders: Iterable[Any]) -> bool:
    return all(o.status.is_final for o in orders)
