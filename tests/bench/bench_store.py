"""Benchmark of the PostgreSQL store: decide transactions against a plain INSERT + COMMIT floor.

Run it (not collected by pytest)::

    .venv/bin/python tests/bench/bench_store.py [--n 1000] [--concurrency 8] [--url URL]

In one run, on a schema of its own (dropped at the end), it measures:

* floor: ``INSERT ... ; COMMIT`` on one plain psycopg connection, no trio, no pool;
* store: the same insert as one ``PostgresStore.transaction()`` (trio, worker thread, pool);
* decide: the core's whole decide step (``hexexec.services.decide``) for an entry that is
  accepted — symbol lock, inbox insert, position, open orders, risk state, equity, trips, pace,
  decision and order — one task at a time, then ``--concurrency`` tasks over ten symbols.

The four are measured in interleaved rounds of 100, so each sees the same machine (other load,
disk flush times). Each line gives operations per second, p50/p99 latency, and its ratios to the
floor. Orders are expired between rounds (untimed), so open orders stay few, as in operation.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from adapters.postgres import PostgresStore
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from hexexec.services.decide import Outcome, decide
from tests.contract.harnesses.postgres import drop_schema, new_schema_name
from tests.integration.postgres.deciding import deciding_engine, entry

SYMBOLS = tuple(f"S{i}_JPY" for i in range(10))
ROUND = 100


class Result:
    def __init__(self, name: str) -> None:
        self.name = name
        self.latencies: list[float] = []
        self.wall = 0.0

    @property
    def per_s(self) -> float:
        return len(self.latencies) / self.wall

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000

    def line(self, floor: Result) -> str:
        p50, p99 = self.percentile_ms(0.5), self.percentile_ms(0.99)
        text = f"{self.name:<34} {self.per_s:8.0f}/s   p50 {p50:7.3f} ms   p99 {p99:7.3f} ms"
        if floor is not self:
            text += (f"   p50 ×{p50 / floor.percentile_ms(0.5):5.1f} floor"
                     f"   rate ÷{floor.per_s / self.per_s:5.1f}")
        return text


def floor_round(conn: psycopg.Connection[object], first: int, result: Result) -> None:
    start = time.perf_counter()
    for i in range(first, first + ROUND):
        t = time.perf_counter()
        conn.execute("INSERT INTO bench_floor (v) VALUES (%s)", (Decimal(i),))
        conn.commit()
        result.latencies.append(time.perf_counter() - t)
    result.wall += time.perf_counter() - start


async def timed_round(first: int, tasks: int, op: Callable[[int], Awaitable[None]],
                      result: Result) -> None:
    todo = iter(range(first, first + ROUND))

    async def worker() -> None:
        for i in todo:
            t = time.perf_counter()
            await op(i)
            result.latencies.append(time.perf_counter() - t)

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(tasks):
            nursery.start_soon(worker)
    result.wall += time.perf_counter() - start


async def main(url: str, n: int, concurrency: int) -> None:
    schema = new_schema_name()
    floor = Result("floor: INSERT + COMMIT (psycopg)")
    store_insert = Result("store: one-insert transaction")
    one = Result("decide, 1 task")
    many = Result(f"decide, {concurrency} tasks / 10 symbols")
    try:
        async with PostgresStore.open(url, schema=schema, max_size=concurrency) as store:
            async with store.transaction() as uow:
                await uow.execute("CREATE TABLE bench_floor (id bigserial PRIMARY KEY, "
                                  "v numeric NOT NULL)")
            engine = deciding_engine(store, SYMBOLS, Decimal(1_000_000))

            async def insert(i: int) -> None:
                async with store.transaction() as uow:
                    await uow.execute("INSERT INTO bench_floor (v) VALUES (%s)", (Decimal(i),))

            async def decide_one(i: int) -> None:
                decided = await decide(engine, entry(SYMBOLS[i % len(SYMBOLS)]))
                assert decided.outcome is Outcome.ACCEPTED, decided

            async def expire() -> None:  # untimed: keep open orders few, as in operation
                async with store.transaction() as uow:
                    await uow.execute(
                        "UPDATE orders SET status = 'EXPIRED' WHERE status = 'PENDING'")

            hops = _count_hops()
            conn = await trio.to_thread.run_sync(
                lambda: psycopg.connect(url, options=f"-c search_path={schema}"))
            try:
                # Rounds interleave the four, so each sees the same machine (load, disk).
                for first in range(0, n, ROUND):
                    await trio.to_thread.run_sync(floor_round, conn, first, floor)
                    await timed_round(first, 1, insert, store_insert)
                    before = hops[0]
                    await timed_round(first, 1, decide_one, one)
                    hops[1] += hops[0] - before
                    await expire()
                    await timed_round(first, concurrency, decide_one, many)
                    await expire()
            finally:
                conn.close()
        print(f"PostgreSQL store benchmark: {n} operations each, {os.cpu_count()} CPUs, "
              f"{hops[1] / n:.1f} store calls (worker-thread hops) per decide")
        for result in (floor, store_insert, one, many):
            print(result.line(floor))
    finally:
        await trio.to_thread.run_sync(drop_schema, url, schema)


def _count_hops() -> list[int]:
    """Count a unit of work's hops to its connection's thread (statements, the commit
    included): [all so far, those made by the 1-task decides]."""
    counter = [0, 0]
    original = PostgresUnitOfWork._hop

    async def counted(self: PostgresUnitOfWork, pending: Any, fn: Callable[..., Any]) -> Any:
        counter[0] += 1
        return await original(self, pending, fn)

    PostgresUnitOfWork._hop = counted  # type: ignore[method-assign]
    return counter


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get(
        "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    trio.run(main, args.url, args.n, args.concurrency)
