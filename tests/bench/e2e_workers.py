"""A second worker for the benchmark: ``hexexec run`` as a process of its own, in the same consumer
group as the engine the benchmark runs in-process, on the same streams, store and venue.

One CPython engine runs on one core at a time (its worker threads share the GIL), so a burst with
a second worker beside it shows how far the design's answer to more load — more workers in the
group — goes on this machine, where the venue, PostgreSQL and Redis share the same cores.
Completion is read from the store (the second worker's metrics are not ours to count).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import trio

from adapters.postgres import PostgresStore
from tests.bench.e2e_floors import process_cpu
from tests.bench.e2e_phases import Feed, Meter, Phase, steady_rate
from tests.bench.e2e_world import VenueProcess, monotonic
from tests.integration.campaign.processes import WorkerProcess

LIFTED_RATE = "1000000"  # requests per second: the worker's own limiter out of the way


@asynccontextmanager
async def second_worker(env: dict[str, str]) -> AsyncIterator[WorkerProcess]:
    """The worker with the benchmark's settings (``env``), ready on entry, stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="hexexec-bench-") as home:
        worker = WorkerProcess(Path(home), {
            **os.environ, **env, "CONSUMER_NAME": "bench-second-worker", "METRICS_PORT": "0",
            "RATE_LIMIT_GET_PER_S": LIFTED_RATE, "RATE_LIMIT_POST_PER_S": LIFTED_RATE,
            "LOG_LEVEL": "INFO", "DATA_DIR": home}, "second-worker")  # INFO: it says ready
        try:
            await trio.to_thread.run_sync(worker.wait_ready)
            yield worker
        finally:
            if worker.alive():
                await trio.to_thread.run_sync(worker.terminate)


async def filled_in_store(store: PostgresStore) -> int:
    async with store.transaction() as uow:
        row = await uow.fetchone("SELECT count(*) AS n FROM orders WHERE status = 'FILLED'")
    return int(row["n"]) if row else 0


async def shared_burst(feed: Feed, store: PostgresStore, venue: VenueProcess, meter: Meter,
                       worker: WorkerProcess, n: int, within: float) -> Phase:
    """``n`` signals published at once, taken by both workers; until every order is filled and
    booked by one or the other. extra as :func:`e2e_phases.burst`, plus worker_cpu (the second
    worker's share of one core; engine_cpu is the in-process one's)."""
    before, _, _ = await venue.arrivals()
    filled0 = await filled_in_store(store)
    await meter.start()
    cpu0, t0 = process_cpu(worker.process.pid)[1], monotonic()
    await trio.to_thread.run_sync(feed.add_many, n)
    complete = False
    with trio.move_on_after(within):
        # Polled: the second worker's bookings happen in another process, no event to wait on.
        while await filled_in_store(store) < filled0 + n:  # noqa: ASYNC110
            await trio.sleep(0.05)
        complete = True
    settled = monotonic()
    worker_cpu = (process_cpu(worker.process.pid)[1] - cpu0) / (settled - t0)
    phase = await meter.stop(Phase(n, complete=complete))
    _, arrived, _ = await venue.arrivals(before)
    phase.extra.update({
        "venue_steady": steady_rate(arrived),
        "settled": (await filled_in_store(store) - filled0) / (settled - t0),
        "arrived": len(arrived),
        "seconds": settled - t0,
        "worker_cpu": worker_cpu,
    })
    return phase
