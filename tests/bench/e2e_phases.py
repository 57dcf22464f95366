"""The measured phases of the end-to-end benchmark, each on a running life of the engine.

Signals are published as a strategy would, with XADD on a plain Redis client; the engine is told
nothing. What happened is read from the engine's metrics port (decided, filled), the store's
counters, and the venue's stopwatch (when each order reached it, on the one clock both processes
share).
"""

from __future__ import annotations

import random
import statistics
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

import redis
import trio

from tests.bench.e2e_floors import (
    Sample,
    cpu_seconds,
    machine_cpu_seconds,
    malloc_view,
    python_view,
    rss_mib,
    rss_parts,
    services_cpu_seconds,
)
from tests.bench.e2e_world import (
    CountingMetrics,
    Life,
    StoreCounter,
    VenueProcess,
    monotonic,
    signal_fields,
)


@dataclass
class Feed:
    """Where signals go, and what they look like: entries over ``symbols`` in turn."""

    client: redis.Redis
    stream: str
    prices: dict[str, Decimal]
    sizes: dict[str, str]
    published: int = 0

    def fields(self, i: int) -> dict[str, str]:
        symbol = sorted(self.prices)[i % len(self.prices)]
        return signal_fields(symbol, self.prices[symbol], self.sizes[symbol])

    def add_one(self) -> None:
        self.client.xadd(self.stream, self.fields(self.published))
        self.published += 1

    def add_many(self, n: int) -> None:
        """Blocking (run it in a thread): ``n`` entries, pipelined 500 at a time."""
        first, self.published = self.published, self.published + n
        for start in range(first, first + n, 500):
            pipe = self.client.pipeline(transaction=False)
            for i in range(start, min(first + n, start + 500)):
                pipe.xadd(self.stream, self.fields(i))
            pipe.execute()


@dataclass
class Phase:
    """What one phase measured: counts per signal, CPU, timings."""

    n: int
    store: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)  # transactions, writing, statements, leases
    engine_cpu: float = 0.0  # share of one core
    venue_cpu: float = 0.0
    services_cpu: dict[str, float] = field(default_factory=dict)  # PostgreSQL, Redis: cores
    machine_cpu: tuple[float, float] = (0.0, 0.0)  # the machine's busy and idle time, in cores
    complete: bool = True
    extra: dict[str, float] = field(default_factory=dict)
    samples: list[tuple[int, float, float]] = field(default_factory=list)


class Meter:
    """Store counts and CPU of both processes between ``start`` and ``stop``; ``history``
    (optional) tells how much history the engine re-reads (equity points), noted at start."""

    def __init__(self, counter: StoreCounter, venue: VenueProcess,
                 history: Callable[[], Awaitable[int]] | None = None) -> None:
        self.counter, self.venue, self.history = counter, venue, history

    async def start(self) -> None:
        self.points = await self.history() if self.history is not None else -1
        self.store0 = self.counter.snapshot()
        self.cpu0, self.vcpu0, self.t0 = cpu_seconds(), await self.venue.cpu_s(), monotonic()
        self.services0, self.machine0 = services_cpu_seconds(), machine_cpu_seconds()

    async def stop(self, phase: Phase) -> Phase:
        wall = monotonic() - self.t0
        phase.store = tuple((b - a) / max(1, phase.n)
                            for a, b in zip(self.store0, self.counter.snapshot(), strict=True))
        phase.engine_cpu = (cpu_seconds() - self.cpu0) / wall
        phase.venue_cpu = (await self.venue.cpu_s() - self.vcpu0) / wall
        services, busy_idle = services_cpu_seconds(), machine_cpu_seconds()
        phase.services_cpu = {k: (v - self.services0[k]) / wall for k, v in services.items()}
        phase.machine_cpu = (
            (busy_idle[0] - self.machine0[0]) / wall, (busy_idle[1] - self.machine0[1]) / wall)
        phase.extra["points_at_start"] = self.points
        phase.extra["metered_s"] = wall
        return phase


def filled(metrics: CountingMetrics) -> int:
    return metrics.status["FILLED"]


def at_least(metrics: CountingMetrics, status: str, count: int) -> bool:
    return metrics.status[status] >= count


async def all_filled(feed: Feed, metrics: CountingMetrics, within: float) -> bool:
    """Every signal published so far has its order filled and booked (each signal is an entry
    that fills on arrival, so anything else — a rejection, an order left open — times out)."""
    return await metrics.until(lambda: filled(metrics) >= feed.published, within)


async def isolated(feed: Feed, metrics: CountingMetrics, meter: Meter, n: int) -> Phase:
    """``n`` signals, each alone from XADD until its fill is booked: the protocol's own counts."""
    await meter.start()
    complete = True
    for _ in range(n):
        feed.add_one()
        complete &= await all_filled(feed, metrics, 30)
    await trio.sleep(0.2)  # the metric fires inside the booking transaction: let it commit
    return await meter.stop(Phase(n, complete=complete))


async def latency(feed: Feed, metrics: CountingMetrics, venue: VenueProcess, meter: Meter,
                  n: int, seed: int = 1) -> tuple[Sample, Phase]:
    """``n`` signals one at a time: XADD, wait for the venue's answer to be recorded, a short
    random pause, the next (fills are booked meanwhile, as the monitor polls). Latency: from just
    before XADD to the order reaching the venue."""
    rng = random.Random(seed)
    before, _, _ = await venue.arrivals()
    starts: list[float] = []
    metrics.steps.clear()
    metrics.submit_s.clear()
    await meter.start()
    complete = True
    for _ in range(n):
        target = metrics.status["NEW"] + 1
        starts.append(monotonic())
        feed.add_one()
        complete &= await metrics.until(partial(at_least, metrics, "NEW", target), 30)
        await trio.sleep(rng.uniform(0.005, 0.02))
    complete &= await all_filled(feed, metrics, 30)
    await trio.sleep(0.2)  # the metric fires inside the booking transaction: let it commit
    phase = await meter.stop(Phase(n, complete=complete))
    # Where the time went: each step's median, as the engine's metrics port reports them.
    for step, times in [*metrics.steps.items(), ("send", metrics.submit_s)]:
        if times:
            phase.extra[f"step {step}"] = statistics.median(times)
    _, arrived, _ = await venue.arrivals(before)
    if len(arrived) != n:
        raise RuntimeError(f"{len(arrived)} orders reached the venue for {n} signals")
    return Sample("XADD → venue", tuple(a - s for a, s in zip(arrived, starts, strict=True))), phase


def steady_rate(times: Sequence[float]) -> float:
    """Orders per second between the 10th and the 90th percentile arrivals (no ramp, no tail)."""
    lo, hi = int(len(times) * 0.1), int(len(times) * 0.9)
    return (hi - lo) / (times[hi] - times[lo]) if hi > lo and times[hi] > times[lo] else 0.0


async def burst(feed: Feed, metrics: CountingMetrics, venue: VenueProcess, meter: Meter,
                life: Life, n: int, within: float) -> Phase:
    """``n`` signals over every symbol, published at once; until every order's fill is booked.

    extra: venue_steady (orders/s reaching the venue, 10th–90th percentile), venue_all (all n
    over the time from the first XADD to the last arrival), settled (the signals whose fills
    were booked over the time from the first XADD until the last one was), rate_limited
    (ERR-5003 answers our clients saw), refused (the venue's count of ERR-5003)."""
    if not await all_filled(feed, metrics, within):
        raise RuntimeError("orders of an earlier phase are still open")
    before, _, refused0 = await venue.arrivals()
    limited0, filled0 = life.rate_limited, filled(metrics)
    await meter.start()
    t0 = monotonic()
    await trio.to_thread.run_sync(feed.add_many, n)
    complete = await all_filled(feed, metrics, within)
    settled = monotonic()
    phase = await meter.stop(Phase(n, complete=complete))
    _, arrived, refused = await venue.arrivals(before)
    phase.extra.update({
        "venue_steady": steady_rate(arrived),
        "venue_all": len(arrived) / (arrived[-1] - t0) if arrived else 0.0,
        "settled": (filled(metrics) - filled0) / (settled - t0),
        "rate_limited": life.rate_limited - limited0,
        "refused": refused - refused0,
        "arrived": len(arrived),
        "seconds": settled - t0,
    })
    return phase


async def memory(feed: Feed, metrics: CountingMetrics, meter: Meter, n: int,
                 budget_s: float, vacuum: Callable[[], Awaitable[None]] | None = None) -> Phase:
    """``n`` signals fed with a bounded backlog (250 more whenever fewer than 500 wait, as a
    live stream would), or as many as fit in ``budget_s``; ``vacuum`` (if given) runs every
    minute meanwhile. extra: rss_start, rss_end (MiB),
    done, seconds; samples: (signals booked, seconds, RSS MiB) every tenth of the budget."""
    await meter.start()
    start, t0 = filled(metrics), monotonic()
    rss_start, malloc_start, parts_start = rss_mib(), malloc_view(), rss_parts()
    python_start = python_view()
    samples: list[tuple[int, float, float]] = []
    done = 0

    async def sample() -> None:
        while True:
            await trio.sleep(max(5.0, budget_s / 10))
            samples.append((filled(metrics) - start, monotonic() - t0, rss_mib()))
            print(f"  memory: {samples[-1][0]} signals booked in {samples[-1][1]:.0f} s, "
                  f"RSS {samples[-1][2]:.1f} MiB", file=sys.stderr, flush=True)

    async def housekeeping() -> None:
        assert vacuum is not None
        while True:  # as autovacuum would, at its default naptime
            await trio.sleep(60)
            await vacuum()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(sample)
        if vacuum is not None:
            nursery.start_soon(housekeeping)
        while done < n and monotonic() - t0 < budget_s:
            await metrics.until(partial(at_least, metrics, "FILLED", start + done - 250), 60)
            chunk = min(250, n - done)
            await trio.to_thread.run_sync(feed.add_many, chunk)
            done += chunk
        complete = await all_filled(feed, metrics, 300)
        nursery.cancel_scope.cancel()
    phase = await meter.stop(Phase(done, complete=complete))
    phase.extra.update({"rss_start": rss_start, "rss_end": rss_mib(), "done": done,
                        "seconds": monotonic() - t0, "malloc_start": malloc_start,
                        "malloc_end": malloc_view(), "parts_start": parts_start,
                        "parts_end": rss_parts(), "python_start": python_start,
                        "python_end": python_view()})
    phase.samples = [*samples, (filled(metrics) - start, monotonic() - t0, phase.extra["rss_end"])]
    return phase
