"""End-to-end benchmark (DESIGN §11): Redis in, PostgreSQL as the record, GMO over loopback HTTP.

Run it (not collected by pytest; ``just bench``)::

    .venv/bin/python tests/bench/bench_e2e.py [--quick] [--signals 100000] [--max-minutes 10]
    .venv/bin/python tests/bench/bench_e2e.py --profile out.pstats   # cProfile of a 0 ms burst
    .venv/bin/python tests/bench/bench_e2e.py --quick --signals 20000 --census  # what grows

The machine's Redis (REDIS_URL, default redis://127.0.0.1:6379/0: a stream of its own, deleted at
the end) and PostgreSQL (DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/test: a schema
of its own, dropped at the end); the simulated GMO in a process of its own (e2e_venue.py), reached
over loopback HTTP by the live GMO adapter; the engine wired as bootstrap wires a live worker.
Ten symbols (five leverage, five spot); every signal an entry small enough for any limit, priced
0.1% through the market so it fills on arrival; risk limits set out of reach (MAX_POSITION_SIZE
huge) so every signal becomes an order. The drift check is off (it would see the in-flight
difference of a burst as drift). One table is printed, each figure beside its floor measured in
the same run, in this order of phases:

1. floors: XADD/PING, INSERT+COMMIT, GET /public/v1/status (venue at 0 ms and at 50 ms);
2. a few signals each alone until booked: transactions, writing ones and statements per signal;
3. latency from just before XADD to the order reaching the venue (the venue's stopwatch, on
   CLOCK_MONOTONIC, which both processes share), one signal at a time;
4. bursts over ten symbols, venue at 0 ms then 50 ms, every rate limit lifted;
5. a burst with GMO's limits on both sides (20 POST/s, 20 GET/s): the POST rate reached as % of
   the limit, and ERR-5003 seen by our clients and counted by the venue;
6. resident memory before and after ``--signals`` more signals (0 ms, limits lifted), fed with a
   bounded backlog; cut at ``--max-minutes`` (and said so) if the rate cannot reach them in time;
7. the 0 ms burst again with a second worker (``hexexec run``, a process of its own) in the
   consumer group beside the in-process engine (e2e_workers.py).

For each burst, the CPU each process spent per signal (the engine, the venue, PostgreSQL's
processes, Redis) and how busy the whole machine was: what a signal costs beyond the engine, and
whether the engine or the machine is what runs out.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import sys
import tracemalloc
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TypeVar

import redis
import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from adapters.gmo import RateLimits
from adapters.paper.http.settings import DEFAULT_KEY, DEFAULT_SECRET
from adapters.postgres import PostgresStore
from adapters.system.malloc import limit_malloc_arenas
from hexexec.config import Settings, load_settings
from hexexec.logs import configure_logging
from tests.bench import e2e_phases as phases
from tests.bench.e2e_floors import (
    Sample,
    commit_floor,
    http_floor,
    machine,
    redis_floor,
    rss_mib,
)
from tests.bench.e2e_table import Floors, Results, report
from tests.bench.e2e_workers import second_worker, shared_burst
from tests.bench.e2e_world import (
    GMO_LIMITS,
    LIFTED,
    CountingMetrics,
    Life,
    StoreCounter,
    VenueProcess,
    engine_life,
    vacuum_schema,
    venue_process,
)
from tests.contract.harnesses.postgres import drop_schema, new_schema_name

PRICES = {s: Decimal(p) for s, p in {
    "BTC_JPY": "10000000", "ETH_JPY": "400000", "BCH_JPY": "60000", "LTC_JPY": "12000",
    "SOL_JPY": "20000", "BTC": "10000000", "ETH": "400000", "BCH": "60000", "LTC": "12000",
    "SOL": "20000"}.items()}
SIZES = {s: "0.001" if s.endswith("_JPY") else "0.0001" for s in PRICES}
T = TypeVar("T")


@dataclass(frozen=True)
class Plan:
    isolated: int
    latency: int
    burst: int
    burst50: int
    limited: int
    memory: int
    max_minutes: float
    floor_n: int
    trace_memory: bool = False
    census: bool = False


def settings_env(redis_url: str, database_url: str, base_url: str, stream: str,
                 schema: str) -> dict[str, str]:
    """The worker's settings, as a worker process would read them from its environment."""
    return {
        "REDIS_URL": redis_url, "DATABASE_URL": database_url, "SYMBOLS": ",".join(PRICES),
        "SIGNAL_STREAMS": stream, "DB_SCHEMA": schema, "TRADING_MODE": "live",
        "API_KEY": DEFAULT_KEY, "API_SECRET": DEFAULT_SECRET, "REST_BASE_URL": base_url,
        "MAX_POSITION_SIZE": "1000000000", "BASE_EQUITY": "1000000000000",
        "MAX_DRAWDOWN_PCT": "100", "MAX_CONSECUTIVE_LOSSES": "1000000000",
        "DRIFT_INTERVAL_S": "0", "MAX_SIGNAL_AGE_S": "600", "LOG_TO_DATABASE": "false",
    }


async def run(plan: Plan, redis_url: str, database_url: str, profile: str | None) -> None:
    print(f"Machine: {machine()}")
    rss_cold = rss_mib()
    stream, schema = f"signal:bench-e2e-{uuid.uuid4().hex[:8]}", new_schema_name()
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    counter, metrics = StoreCounter(), CountingMetrics()
    try:
        async with venue_process(PRICES) as venue:
            env = settings_env(redis_url, database_url, venue.base_url, stream, schema)
            settings = load_settings(env, env_file=None)
            async with PostgresStore.open(database_url, schema=schema,
                                          max_size=settings.db_pool_size) as store:
                feed = phases.Feed(client, stream, PRICES, SIZES)
                meter = phases.Meter(counter, venue, partial(equity_points, store))
                if profile:
                    await profile_burst(settings, store, metrics, feed, meter, venue, plan,
                                        profile)
                    return
                await measure(plan, settings, env, store, metrics, feed, meter, venue, rss_cold,
                              f"{stream}:floor", schema, redis_url, database_url)
    finally:
        client.delete(stream, f"{stream}:dlq", f"{stream}:floor")
        client.close()
        await trio.to_thread.run_sync(drop_schema, database_url, schema)


async def equity_points(store: PostgresStore) -> int:
    """The history decide and every fill booking read in full (see the report)."""
    async with store.transaction() as uow:
        row = await uow.fetchone("SELECT count(*) AS n FROM equity_points")
    return int(row["n"]) if row else 0


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def measure(plan: Plan, settings: Settings, env: dict[str, str], store: PostgresStore,
                  metrics: CountingMetrics, feed: phases.Feed, meter: phases.Meter,
                  venue: VenueProcess, rss_cold: float, floor_stream: str, schema: str,
                  redis_url: str, database_url: str) -> None:
    n = plan.floor_n
    xadd, ping = redis_floor(redis_url, floor_stream, feed.fields(0), n)
    commit = commit_floor(database_url, schema, n)
    http = http_floor(venue.base_url, n)
    await venue.control("/sim/latency", {"seconds": 0.05})
    http50 = http_floor(venue.base_url, max(20, n // 20), "HTTP GET /v1/status, venue 50 ms")
    await venue.control("/sim/latency", {"seconds": 0})
    r = Results(Floors(xadd, ping, commit, http, http50), plan.memory, plan.max_minutes, rss_cold,
                autovacuum=store.autovacuum)
    say("floors measured")

    async def vacuum() -> None:
        if not store.autovacuum:  # a server that does not vacuum: do what autovacuum would
            await trio.to_thread.run_sync(vacuum_schema, database_url, schema)

    async def attempt(name: str, phase: Callable[[], Awaitable[T]]) -> T | None:
        """One phase in a life of its own: a failure (another session killing our database
        connections, say) costs that phase only, and is printed under the table."""
        await vacuum()
        try:
            result = await phase()
        except Exception as exc:  # reported under the table; the other phases go on
            while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
                exc = exc.exceptions[0]  # type: ignore[assignment]
            r.failures.append(f"{name}: {type(exc).__name__}: {str(exc)[:200]}")
            result = None
        say(f"{name} {'done' if result is not None else 'FAILED'}")
        return result

    @asynccontextmanager
    async def life(rates: RateLimits = LIFTED, latency_s: float = 0.0) -> AsyncIterator[Life]:
        await venue.control("/sim/latency", {"seconds": latency_s})
        try:
            async with engine_life(settings, store, metrics, rates) as one:
                yield one
        finally:
            await venue.control("/sim/latency", {"seconds": 0})

    async def alone() -> phases.Phase:
        async with life() as one:
            await phases.burst(feed, metrics, venue, meter, one, 100, 60)  # warm-up, unreported
            return await phases.isolated(feed, metrics, meter, plan.isolated)

    async def latency() -> tuple[Sample, phases.Phase]:
        async with life():
            return await phases.latency(feed, metrics, venue, meter, plan.latency)

    async def burst(n: int, latency_s: float) -> phases.Phase:
        async with life(latency_s=latency_s) as one:
            return await phases.burst(feed, metrics, venue, meter, one, n, 900)

    async def limited() -> phases.Phase:
        await venue.control("/sim/rate_limits", {"get_per_s": 20, "post_per_s": 20})
        try:
            async with life(GMO_LIMITS) as one:
                return await phases.burst(feed, metrics, venue, meter, one, plan.limited, 900)
        finally:
            await venue.control("/sim/rate_limits", {"get_per_s": None, "post_per_s": None})

    async def two_workers() -> phases.Phase:
        async with second_worker(env) as worker, life():
            return await shared_burst(feed, store, venue, meter, worker, plan.burst, 900)

    async def memory() -> phases.Phase:
        run_phase = partial(phases.memory, feed, metrics, meter, plan.memory,
                            plan.max_minutes * 60, vacuum)
        async with life():
            if plan.census:
                before = census()
                phase = await run_phase()
                in_flight = census() - before
                await trio.sleep(5)  # the last orders' watches and bookings end meanwhile
                grown = census() - before
                print("Objects the collector tracks, grown during the memory phase, by type, "
                      "once settled (in brackets: at the phase's end, orders still in flight):",
                      file=sys.stderr)
                for name, _ in (grown + in_flight).most_common(15):
                    print(f"  {grown[name]:+8d} ({in_flight[name]:+8d}) {name}", file=sys.stderr)
                return phase
            if not plan.trace_memory:
                return await run_phase()
            tracemalloc.start(8)
            before_trace = tracemalloc.take_snapshot()
            phase = await run_phase()
            traced = tracemalloc.take_snapshot().compare_to(before_trace, "traceback")
            tracemalloc.stop()
            print("Memory grown during the memory phase, by allocation site (tracemalloc):",
                  file=sys.stderr)
            for stat in traced[:12]:
                print(f"  {stat.size_diff / 1024:+9.0f} KiB {stat.count_diff:+8d} blocks",
                      file=sys.stderr)
                for line in stat.traceback.format()[-6:]:
                    print(f"      {line}", file=sys.stderr)
            return phase

    r.alone = await attempt("isolated signals", alone)
    r.latency = await attempt("latency", latency)
    r.fast = await attempt("burst at 0 ms", lambda: burst(plan.burst, 0.0))
    r.slow = await attempt("burst at 50 ms", lambda: burst(plan.burst50, 0.05))
    r.limited = await attempt("burst under GMO's limits", limited)
    r.memory = await attempt("memory", memory)
    # Last: the in-process engine's counts (what the phases above wait on) do not see the
    # second worker's orders.
    r.two = await attempt("burst at 0 ms, two workers", two_workers)
    async with store.transaction() as uow:
        r.end = await uow.fetchone(
            "SELECT (SELECT count(*) FROM signals) AS signals, (SELECT count(*) FROM orders "
            "WHERE status = 'FILLED') AS filled, (SELECT count(*) FROM orders) AS orders, "
            "(SELECT count(*) FROM equity_points) AS equity_points")
    print(report(r, feed.published, dict(metrics.decided)))


async def profile_burst(settings: Settings, store: PostgresStore, metrics: CountingMetrics,
                        feed: phases.Feed, meter: phases.Meter, venue: VenueProcess,
                        plan: Plan, path: str) -> None:
    """cProfile of the engine's thread during one 0 ms burst (after a warm-up); prints the top."""
    async with engine_life(settings, store, metrics, LIFTED) as life:
        await phases.burst(feed, metrics, venue, meter, life, 200, 60)
        profiler = cProfile.Profile()
        if path != "-":
            profiler.enable()
        phase = await phases.burst(feed, metrics, venue, meter, life, plan.burst, 600)
        profiler.disable()
    print(f"burst: {phase.n} signals, to the venue {phase.extra['venue_steady']:.0f}/s, "
          f"settled {phase.extra['settled']:.0f}/s")
    if path == "-":
        return
    profiler.dump_stats(path)
    print(f"profiled burst: {phase.n} signals, settled {phase.extra['settled']:.0f}/s "
          f"(slowed by the profiler); stats in {path}")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def census() -> Counter[str]:
    """Objects the cyclic collector tracks (containers, instances), counted by type."""
    gc.collect()
    return Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (about a minute)")
    parser.add_argument("--signals", type=int, default=None,
                        help="signals of the memory phase (default 100000; --quick 1000)")
    parser.add_argument("--max-minutes", type=float, default=30.0,
                        help="time budget of the memory phase")
    parser.add_argument("--profile", metavar="PATH",
                        help="only profile a 0 ms burst ('-': no cProfile, for a sampling profiler)")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="print where memory grew during the memory phase (slower)")
    parser.add_argument("--census", action="store_true",
                        help="print which kinds of objects grew in number during the memory phase")
    args = parser.parse_args()
    quick = args.quick
    plan = Plan(isolated=5 if quick else 20, latency=100 if quick else 1000,
                burst=200 if quick else 2000, burst50=200 if quick else 1000,
                limited=100 if quick else 600, memory=args.signals or (1000 if quick else 100_000),
                max_minutes=args.max_minutes, floor_n=300 if quick else 2000,
                trace_memory=args.tracemalloc, census=args.census)
    configure_logging("WARNING", stream=sys.stderr)
    limit_malloc_arenas(2)  # as the worker does (hexexec/bootstrap.py)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    database_url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    trio.run(run, plan, redis_url, database_url, args.profile)


if __name__ == "__main__":
    main()
