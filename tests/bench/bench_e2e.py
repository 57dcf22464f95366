"""End-to-end benchmark (DESIGN §11): Redis in, PostgreSQL as the record, GMO over loopback HTTP.

Run it (not collected by pytest; ``just bench``)::

    .venv/bin/python tests/bench/bench_e2e.py [--quick] [--signals 100000] [--max-minutes 10]
    .venv/bin/python tests/bench/bench_e2e.py --profile out.pstats   # cProfile of a 0 ms burst

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
   bounded backlog; cut at ``--max-minutes`` (and said so) if the rate cannot reach them in time.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import redis
import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from adapters.paper.http.settings import DEFAULT_KEY, DEFAULT_SECRET
from adapters.postgres import PostgresStore
from hexexec.config import Settings, load_settings
from hexexec.logs import configure_logging
from tests.bench import e2e_phases as phases
from tests.bench.e2e_floors import commit_floor, http_floor, machine, redis_floor, rss_mib
from tests.bench.e2e_table import Floors, Table, cpu, incomplete, ms, store_row, throughput_rows
from tests.bench.e2e_world import (
    GMO_LIMITS,
    LIFTED,
    CountingMetrics,
    StoreCounter,
    VenueProcess,
    engine_life,
    venue_process,
)
from tests.contract.harnesses.postgres import drop_schema, new_schema_name

PRICES = {s: Decimal(p) for s, p in {
    "BTC_JPY": "10000000", "ETH_JPY": "400000", "BCH_JPY": "60000", "LTC_JPY": "12000",
    "SOL_JPY": "20000", "BTC": "10000000", "ETH": "400000", "BCH": "60000", "LTC": "12000",
    "SOL": "20000"}.items()}
SIZES = {s: "0.001" if s.endswith("_JPY") else "0.0001" for s in PRICES}
LEGEND = """\
Floors: latency = XADD + 2 commits (decide, claim: the ones before the send) + one HTTP request,
p50 beside p50, and the sum of the p99s beside p99 (a generous floor). Serial rate = one signal at
a time paying XADD + 4 commits (decide, claim, the venue's answer, the fill booking) + one HTTP
request; the engine overlaps symbols, so beating it is possible. "To the venue, steady": orders
reaching the venue per second between the 10th and 90th percentile arrivals. "Settled": all
signals of the burst over the time from the first XADD until the last fill was booked. Phases run
in order on one database: what the engine re-reads per signal grows from phase to phase."""


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


def settings_for(redis_url: str, database_url: str, base_url: str, stream: str,
                 schema: str) -> Settings:
    return load_settings({
        "REDIS_URL": redis_url, "DATABASE_URL": database_url, "SYMBOLS": ",".join(PRICES),
        "SIGNAL_STREAMS": stream, "DB_SCHEMA": schema, "TRADING_MODE": "live",
        "API_KEY": DEFAULT_KEY, "API_SECRET": DEFAULT_SECRET, "REST_BASE_URL": base_url,
        "MAX_POSITION_SIZE": "1000000000", "BASE_EQUITY": "1000000000000",
        "MAX_DRAWDOWN_PCT": "100", "MAX_CONSECUTIVE_LOSSES": "1000000000",
        "DRIFT_INTERVAL_S": "0", "MAX_SIGNAL_AGE_S": "600", "LOG_TO_DATABASE": "false",
    }, env_file=None)


async def run(plan: Plan, redis_url: str, database_url: str, profile: str | None) -> None:
    print(f"Machine: {machine()}")
    rss_cold = rss_mib()
    stream, schema = f"signal:bench-e2e-{uuid.uuid4().hex[:8]}", new_schema_name()
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    counter, metrics = StoreCounter(), CountingMetrics()
    try:
        async with venue_process(PRICES) as venue:
            settings = settings_for(redis_url, database_url, venue.base_url, stream, schema)
            async with PostgresStore.open(database_url, schema=schema,
                                          max_size=settings.db_pool_size) as store:
                feed = phases.Feed(client, stream, PRICES, SIZES)
                meter = phases.Meter(counter, venue)
                if profile:
                    await profile_burst(settings, store, metrics, feed, meter, venue, plan,
                                        profile)
                    return
                await measure(plan, settings, store, metrics, feed, meter, venue, rss_cold,
                              f"{stream}:floor", schema, redis_url, database_url)
    finally:
        client.delete(stream, f"{stream}:dlq", f"{stream}:floor")
        client.close()
        await trio.to_thread.run_sync(drop_schema, database_url, schema)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def measure(plan: Plan, settings: Settings, store: PostgresStore,
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
    floors = Floors(xadd, ping, commit, http, http50)
    say("floors measured; starting the engine")

    async with engine_life(settings, store, metrics, LIFTED) as life:
        await phases.burst(feed, metrics, venue, meter, life, 100, 60)  # warm-up, not reported
        alone = await phases.isolated(feed, metrics, meter, plan.isolated)
        say("isolated signals done")
        lat, lat_phase = await phases.latency(feed, metrics, venue, meter, plan.latency)
        say("latency done")
        fast = await phases.burst(feed, metrics, venue, meter, life, plan.burst, 600)
        say("burst at 0 ms done")
        await venue.control("/sim/latency", {"seconds": 0.05})
        slow = await phases.burst(feed, metrics, venue, meter, life, plan.burst50, 600)
        await venue.control("/sim/latency", {"seconds": 0})
        say("burst at 50 ms done")

    await venue.control("/sim/rate_limits", {"get_per_s": 20, "post_per_s": 20})
    async with engine_life(settings, store, metrics, GMO_LIMITS) as life:
        limited = await phases.burst(feed, metrics, venue, meter, life, plan.limited, 600)
    await venue.control("/sim/rate_limits", {"get_per_s": None, "post_per_s": None})
    say("burst under GMO's limits done")

    budget = plan.max_minutes * 60
    expected = plan.memory / max(fast.extra["settled"], 1e-9)
    async with engine_life(settings, store, metrics, LIFTED):
        mem = await phases.memory(feed, metrics, meter, plan.memory, budget)
    async with store.transaction() as uow:
        rows = await uow.fetchone(
            "SELECT (SELECT count(*) FROM signals) AS signals, (SELECT count(*) FROM orders "
            "WHERE status = 'FILLED') AS filled, (SELECT count(*) FROM orders) AS orders, "
            "(SELECT count(*) FROM equity_points) AS equity_points")

    t = Table()
    t.section("Latency, XADD → order reaching the venue, one signal at a time")
    t.row(f"  p50 over {lat_phase.n}{incomplete(lat_phase)}", ms(lat.p50), ms(floors.latency(0.5)),
          f"×{lat.p50 / floors.latency(0.5):.2f}")
    t.row("  p99", ms(lat.p99), ms(floors.latency(0.99)), f"×{lat.p99 / floors.latency(0.99):.2f}")
    t.section("Sustained signals/s, 10 symbols, every rate limit lifted")
    throughput_rows(t, "venue 0 ms", fast, floors.serial_rate(http), "serial")
    throughput_rows(t, "venue 50 ms", slow, floors.serial_rate(http50), "serial")
    t.section(f"Burst of {limited.n} with GMO's limits on both sides (20 POST/s, 20 GET/s)")
    x = limited.extra
    t.row(f"  POST /v1/order rate, steady{incomplete(limited)}", f"{x['venue_steady']:.2f}/s",
          "20/s limit", f"{x['venue_steady'] / 20:.1%} (target ≥ 95%)")
    t.row("  ERR-5003 seen by our clients / counted by the venue",
          f"{x['rate_limited']:.0f} / {x['refused']:.0f}", "0", "target 0")
    t.row("  settled (every fill booked)", f"{x['settled']:.2f}/s", "20/s limit",
          f"{x['settled'] / 20:.1%}")
    t.row(f"  {limited.n} signals in {x['seconds']:.1f} s; {cpu(limited)}", "", "", "")
    t.section("Floors (plain synchronous clients, p50 / p99)")
    for floor in (xadd, ping, commit, http, http50):
        t.row(f"  {floor.name}", f"{ms(floor.p50)} / {ms(floor.p99)}")
    t.section("Store work per signal: transactions, writing ones, statements (= thread hops), "
              "send leases")
    store_row(t, f"alone until booked ({alone.n} signals){incomplete(alone)}", alone)
    store_row(t, "one at a time (latency phase)", lat_phase)
    store_row(t, "burst, venue 0 ms", fast)
    store_row(t, "burst, venue 50 ms", slow)
    t.section("Resident memory (VmRSS of the engine's process)")
    t.row("  at process start (before anything ran)", f"{rss_cold:.1f} MiB")
    done = int(mem.extra["done"])
    growth = (mem.extra["rss_end"] - mem.extra["rss_start"]) / mem.extra["rss_start"]
    t.row(f"  before the memory phase (after {feed.published - done} signals)",
          f"{mem.extra['rss_start']:.1f} MiB")
    t.row(f"  after {done} more signals ({mem.extra['seconds']:.0f} s){incomplete(mem)}",
          f"{mem.extra['rss_end']:.1f} MiB", "", f"growth {growth:+.1%}")
    if done < plan.memory:
        per_k = (mem.extra["rss_end"] - mem.extra["rss_start"]) / max(done, 1) * 1000
        t.row(f"  NOT {plan.memory}: the {plan.max_minutes:g} min budget ran out "
              f"(estimated {expected / 60:.0f} min at the 0 ms settled rate)", "", "", "")
        t.row(f"  extrapolated linearly to {plan.memory} signals "
              f"({per_k:+.3f} MiB per 1,000)",
              f"{mem.extra['rss_start'] + per_k * plan.memory / 1000:.1f} MiB", "",
              f"growth {per_k * plan.memory / 1000 / mem.extra['rss_start']:+.1%}")
    previous = (0, 0.0)
    for count, seconds, rss in mem.samples:
        rate = (count - previous[0]) / max(seconds - previous[1], 1e-9)
        t.row(f"    {count} booked after {seconds:.0f} s ({rate:.0f}/s in this stretch)",
              f"{rss:.1f} MiB")
        previous = (count, seconds)
    assert rows is not None
    t.section(f"At the end: {feed.published} signals published; stored {rows['signals']} "
              f"signals, {rows['orders']} orders ({rows['filled']} filled), "
              f"{rows['equity_points']} equity points; decided {dict(metrics.decided)}")
    print(t.render())
    print(LEGEND)


async def profile_burst(settings: Settings, store: PostgresStore, metrics: CountingMetrics,
                        feed: phases.Feed, meter: phases.Meter, venue: VenueProcess,
                        plan: Plan, path: str) -> None:
    """cProfile of the engine's thread during one 0 ms burst (after a warm-up); prints the top."""
    async with engine_life(settings, store, metrics, LIFTED) as life:
        await phases.burst(feed, metrics, venue, meter, life, 200, 60)
        profiler = cProfile.Profile()
        profiler.enable()
        phase = await phases.burst(feed, metrics, venue, meter, life, plan.burst, 600)
        profiler.disable()
    profiler.dump_stats(path)
    print(f"profiled burst: {phase.n} signals, settled {phase.extra['settled']:.0f}/s "
          f"(slowed by the profiler); stats in {path}")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (about a minute)")
    parser.add_argument("--signals", type=int, default=None,
                        help="signals of the memory phase (default 100000; --quick 1000)")
    parser.add_argument("--max-minutes", type=float, default=10.0,
                        help="time budget of the memory phase")
    parser.add_argument("--profile", metavar="PATH", help="only profile a 0 ms burst")
    args = parser.parse_args()
    quick = args.quick
    plan = Plan(isolated=5 if quick else 20, latency=100 if quick else 1000,
                burst=200 if quick else 2000, burst50=200 if quick else 1000,
                limited=100 if quick else 600, memory=args.signals or (1000 if quick else 100_000),
                max_minutes=args.max_minutes, floor_n=300 if quick else 2000)
    configure_logging("WARNING", stream=sys.stderr)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    database_url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    trio.run(run, plan, redis_url, database_url, args.profile)


if __name__ == "__main__":
    main()
