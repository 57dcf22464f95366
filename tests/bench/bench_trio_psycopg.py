"""What a statement costs three ways: the question behind the store's next step.

Run it (not collected by pytest)::

    .venv/bin/python tests/bench/bench_trio_psycopg.py [--n 2000] [--url URL]

* floor: a plain synchronous psycopg connection, no trio;
* thread hop: the same call from trio on a worker thread, as ``PostgresStore`` runs every hop
  (``adapters/postgres/blocking.run_blocking``);
* trio-native: psycopg's ``AsyncConnection`` whose ``wait`` drives psycopg's non-blocking
  generators with trio's own ``wait_readable``/``wait_writable`` — no thread at all. This is
  an experiment, not the adapter: it leans on psycopg's wait protocol (``psycopg._enums``), and
  a store built on it would need its own pool and the cancellation the thread hops have
  (a cancelled statement cancelled on the server, the connection kept).

Each is measured in interleaved rounds, wall time and this process's CPU time per statement
(a single-row ``SELECT $1::int``), and a transaction of three statements and a commit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Generator
from typing import Any

import psycopg
import trio
from psycopg._enums import Ready, Wait

from adapters.postgres.blocking import run_blocking

QUERY = "SELECT %s::int AS n"


async def trio_wait(gen: Generator[Any, Any, Any], fileno: int) -> Any:
    """Drive one of psycopg's generators on trio's I/O loop."""
    try:
        state = next(gen)
        while True:
            if state == Wait.R:
                await trio.lowlevel.wait_readable(fileno)
                ready = Ready.R
            else:  # W, or RW: writable first (a send in progress), then it asks again
                await trio.lowlevel.wait_writable(fileno)
                ready = Ready.W
            state = gen.send(ready)
    except StopIteration as done:
        return done.value


class TrioConnection(psycopg.AsyncConnection[Any]):
    async def wait(self, gen: Any, interval: float | None = None,  # type: ignore[override]
                   timeout: float | None = None) -> Any:  # noqa: ASYNC109 - psycopg's signature
        return await trio_wait(gen, self.pgconn.socket)


async def trio_connection(url: str) -> TrioConnection:
    pgconn = await trio.to_thread.run_sync(lambda: psycopg.pq.PGconn.connect(url.encode()))
    if pgconn.status != psycopg.pq.ConnStatus.OK:
        raise RuntimeError(pgconn.get_error_message())
    pgconn.nonblocking = 1
    return TrioConnection(pgconn)


async def measure(n: int, call: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        await call()
    return (time.perf_counter() - wall) / n * 1e6, (time.process_time() - cpu) / n * 1e6


async def main(url: str, n: int, rounds: int = 5) -> None:
    plain = psycopg.connect(url, autocommit=True)
    hop = psycopg.connect(url, autocommit=True)
    native = await trio_connection(url)
    await native.set_autocommit(True)

    async def floor() -> None:
        plain.execute(QUERY, (1,)).fetchone()

    async def thread_hop() -> None:
        await run_blocking(lambda: hop.execute(QUERY, (1,)).fetchone())

    async def trio_native() -> None:
        await (await native.execute(QUERY, (1,))).fetchone()

    results: dict[str, list[tuple[float, float]]] = {"floor": [], "thread hop": [],
                                                     "trio-native": []}
    calls = {"floor": floor, "thread hop": thread_hop, "trio-native": trio_native}
    for _ in range(rounds):
        for name, call in calls.items():
            results[name].append(await measure(n // rounds, call))
    print(f"one statement ({QUERY!r}), median of {rounds} rounds of {n // rounds}, "
          f"{os.cpu_count()} CPUs:")
    floor_wall = statistics.median(w for w, _ in results["floor"])
    for name, samples in results.items():
        wall = statistics.median(w for w, _ in samples)
        cpu = statistics.median(c for _, c in samples)
        print(f"  {name:<12} {wall:7.0f} µs wall  {cpu:6.0f} µs CPU   ×{wall / floor_wall:.2f} floor")

    await native.set_autocommit(False)
    tx_hop = psycopg.connect(url)

    async def native_tx() -> None:
        async with native.transaction():
            for k in (1, 2, 3):
                await native.execute(QUERY, (k,))

    def hop_tx_sync() -> None:
        with tx_hop.transaction():
            for k in (1, 2, 3):
                tx_hop.execute(QUERY, (k,))

    async def hop_tx() -> None:  # the worst case the store avoids: one hop per statement
        for k in (1, 2, 3):  # the first one begins the transaction (psycopg, not autocommit)
            await run_blocking(lambda k=k: tx_hop.execute(QUERY, (k,)))  # type: ignore[misc]
        await run_blocking(tx_hop.commit)

    async def one_hop_tx() -> None:
        await run_blocking(hop_tx_sync)

    print("a transaction of three statements and a commit:")
    for name, call in (("trio-native", native_tx), ("a hop each", hop_tx),
                       ("one hop", one_hop_tx)):
        wall, cpu = await measure(max(100, n // 10), call)
        print(f"  {name:<12} {wall:7.0f} µs wall  {cpu:6.0f} µs CPU")
    await native.close()
    for conn in (plain, hop, tx_hop):
        conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get(
        "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    trio.run(main, args.url, args.n)
