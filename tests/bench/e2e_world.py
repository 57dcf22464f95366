"""The end-to-end benchmark's world: the venue process, the services, and lives of the engine.

The engine is wired as ``hexexec.bootstrap`` wires a live worker (its ``open_store`` and
``open_source``, ``GmoBroker`` and ``GmoMarketData`` over HTTP, the settings' engine options),
with two differences a benchmark needs: the metrics port counts (so the benchmark knows when
signals are decided and orders filled without querying anything), and the client's rate limits
can be lifted. Each life opens its own broker, market data and signal source, as a restarted
process would; the store outlives them, as in bootstrap.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psycopg
import trio
from psycopg import sql

from adapters.gmo import GmoBroker, GmoMarketData, HttpTimeouts, RateLimits
from adapters.postgres import PostgresStore
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.system.clock import SystemClock
from hexexec.bootstrap import open_source
from hexexec.config import Settings
from hexexec.services.engine import Engine
from hexexec.services.worker import run_engine

LIFTED = RateLimits(get_per_s=None, post_per_s=None, public_per_s=None)
GMO_LIMITS = RateLimits()  # GMO's tier 1: 20 GET/s and 20 POST/s
WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)  # not updated_at


class CountingMetrics:
    """The Metrics port as counters, with waiting on a condition over them."""

    def __init__(self) -> None:
        self.decided: Counter[str] = Counter()
        self.status: Counter[str] = Counter()
        self.submit_s: list[float] = []
        self.steps: dict[str, list[float]] = {}  # recent durations of each step, seconds
        self._waiters: list[tuple[Callable[[], bool], trio.Event]] = []

    def _changed(self) -> None:
        for check, event in self._waiters:
            if check():
                event.set()

    async def until(self, check: Callable[[], bool], within: float) -> bool:
        """Wait until ``check()`` holds (False if ``within`` seconds pass first)."""
        if check():
            return True
        event = trio.Event()
        self._waiters.append((check, event))
        try:
            with trio.move_on_after(within):
                await event.wait()
        finally:
            self._waiters.remove((check, event))
        return event.is_set()

    def signal_decided(self, outcome: str, rules: tuple[str, ...] = ()) -> None:
        self.decided[outcome] += 1
        self._changed()

    def order_status(self, status: str) -> None:
        self.status[status] += 1
        self._changed()

    def submit_latency(self, seconds: float) -> None:
        self.submit_s.append(seconds)
        del self.submit_s[:-1000]  # only recent ones: flat memory

    def step_duration(self, step: str, seconds: float) -> None:
        recent = self.steps.setdefault(step, [])
        recent.append(seconds)
        del recent[:-1000]

    def signal_received(self, stream: str) -> None: ...
    def dead_lettered(self, stream: str) -> None: ...
    def venue_unavailable(self, unavailable: bool) -> None: ...
    def position_drift(self, symbol: str, drift: float) -> None: ...
    def ready(self, ready: bool) -> None: ...


class StoreCounter:
    """Counts what the PostgreSQL store does: transactions, those that wrote, hops to a
    connection's worker thread (one or more statements each; the first takes the connection and
    the locks, the last commits), send leases (each taken and given back on a connection of its
    own: two hops or more). Wraps the classes' methods in place."""

    def __init__(self) -> None:
        self.transactions = 0
        self.writing = 0
        self.statements = 0
        self.leases = 0
        self._wrote: set[int] = set()
        counter = self
        transaction = PostgresStore.transaction

        @asynccontextmanager
        async def counted_transaction(self: PostgresStore, lock: str | None = None,
                                      locks: Any = ()) -> AsyncIterator[PostgresUnitOfWork]:
            async with transaction(self, lock, locks=locks) as uow:
                yield uow
            counter.transactions += 1
            if id(uow) in counter._wrote:
                counter._wrote.discard(id(uow))
                counter.writing += 1

        PostgresStore.transaction = counted_transaction  # type: ignore[method-assign]
        lease = PostgresStore.lease

        def counted_lease(self: PostgresStore, name: str) -> AbstractAsyncContextManager[None]:
            counter.leases += 1
            return lease(self, name)

        PostgresStore.lease = counted_lease  # type: ignore[method-assign]
        for name in ("fetchone", "fetchall", "execute"):
            setattr(PostgresUnitOfWork, name, self._note_writes(getattr(PostgresUnitOfWork, name)))
        later = PostgresUnitOfWork.later

        async def noted_later(uow: PostgresUnitOfWork, work: Callable[..., Any]) -> None:
            self._wrote.add(id(uow))  # only writes are kept for later
            await later(uow, work)

        PostgresUnitOfWork.later = noted_later  # type: ignore[method-assign]
        hop = PostgresUnitOfWork._hop

        async def counted_hop(uow: PostgresUnitOfWork, pending: Any, fn: Callable[..., Any]
                              ) -> Any:
            # One hop to the connection's thread: one or more statements, the commit included.
            self.statements += 1
            return await hop(uow, pending, fn)

        PostgresUnitOfWork._hop = counted_hop  # type: ignore[method-assign]

    def _note_writes(self, method: Callable[..., Any]) -> Callable[..., Any]:
        writes: dict[str, bool] = {}  # the queries are a few constant strings

        async def noted(uow: PostgresUnitOfWork, query: str, params: Any = None) -> Any:
            wrote = writes.get(query)
            if wrote is None:
                wrote = writes[query] = WRITES.search(query) is not None
            if wrote:
                self._wrote.add(id(uow))
            return await method(uow, query, params)

        return noted

    def snapshot(self) -> tuple[int, int, int, int]:
        return self.transactions, self.writing, self.statements, self.leases


@dataclass
class VenueProcess:
    """The simulated GMO in its own process (e2e_venue.py), driven over HTTP."""

    process: trio.Process
    base_url: str
    http: httpx.AsyncClient

    async def control(self, path: str, body: dict[str, Any]) -> None:
        reply = await self.http.post(self.base_url + path, json=body)
        reply.raise_for_status()

    async def arrivals(self, since: int = 0) -> tuple[int, list[float], int]:
        """(orders so far, arrival times from the ``since``-th on, ERR-5003 refusals so far)."""
        reply = (await self.http.get(self.base_url + "/bench/arrivals",
                                     params={"since": since})).json()
        return reply["count"], reply["times"], reply["refused"]

    async def cpu_s(self) -> float:
        return float((await self.http.get(self.base_url + "/bench/cpu")).json()["cpu_s"])


@asynccontextmanager
async def venue_process(prices: dict[str, Decimal]) -> AsyncIterator[VenueProcess]:
    script = Path(__file__).with_name("e2e_venue.py")
    args = [sys.executable, str(script), *(f"{s}={p}" for s, p in prices.items())]
    async with trio.open_nursery() as nursery:
        process: trio.Process = await nursery.start(partial(
            trio.run_process, args, stdout=subprocess.PIPE, check=False))
        assert process.stdout is not None
        try:
            with trio.fail_after(30):
                line = b""
                while not line.endswith(b"\n"):
                    chunk = await process.stdout.receive_some(1)
                    if not chunk:
                        raise RuntimeError("the venue process ended before listening")
                    line += chunk
            base_url = line.decode().split()[-1]
            async with httpx.AsyncClient(timeout=10.0, trust_env=False) as http:
                yield VenueProcess(process, base_url, http)
        finally:
            process.terminate()
            with trio.move_on_after(5):
                await process.wait()
            process.kill()


@dataclass
class Life:
    engine: Engine
    broker: GmoBroker
    market: GmoMarketData

    @property
    def rate_limited(self) -> int:
        """ERR-5003 answers our clients have seen in this life."""
        return self.broker.client.rate_limited + self.market.client.rate_limited


def timeouts(settings: Settings) -> HttpTimeouts:
    """As bootstrap gives the GMO adapter."""
    t = settings.http_timeout_s
    return HttpTimeouts(connect_s=min(3.0, t), read_s=t, write_s=t, pool_s=t, total_s=t * 1.5)


@asynccontextmanager
async def engine_life(settings: Settings, store: PostgresStore, metrics: CountingMetrics,
                      rates: RateLimits) -> AsyncIterator[Life]:
    """One life of the worker on the live adapters: ready (recovery done, intake reading) on
    entry, cancelled on exit (the benchmark exits only once everything has settled)."""
    assert settings.api_key is not None and settings.api_secret is not None
    http = timeouts(settings)
    async with GmoBroker.open(settings.rest_base_url, settings.api_key.get_secret_value(),
                              settings.api_secret, timeouts=http, rates=rates) as broker, \
            GmoMarketData.open(settings.rest_base_url, settings.symbols, timeouts=http,
                               rates=rates) as market, \
            open_source(settings, settings.redis_url or "") as source, \
            trio.open_nursery() as nursery:
        await nursery.start(source.run_janitor)
        engine = Engine(store=store, broker=broker, source=source, clock=SystemClock(),
                        market_data=market, options=settings.engine_options(), metrics=metrics)
        ready = await nursery.start(partial(run_engine, engine))
        yield Life(ready, broker, market)
        nursery.cancel_scope.cancel()


def signal_fields(symbol: str, price: Decimal, size: str) -> dict[str, str]:
    """An entry small enough to fit any limit, priced 0.1% through the market so it fills as it
    arrives (a taker, with the venue's slippage, capped at its limit)."""
    limit = (price * Decimal("1.001")).quantize(Decimal(1))
    return {"exchange": "gmo", "symbol": symbol, "action": "enter_long", "size": size,
            "order_type": "LIMIT", "price_ref": str(limit), "strategy": "bench-e2e"}


def vacuum_schema(database_url: str, schema: str) -> None:
    """Blocking: VACUUM (ANALYZE) every table of ``schema`` — what autovacuum would do, for a
    server where it is off (the orders' updates leave four dead rows per order behind)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))]
        for table in tables:
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(schema, table)))


def monotonic() -> float:
    """The one clock of the latency figure: CLOCK_MONOTONIC, shared with the venue process."""
    return time.monotonic()
