"""Benchmark of the Redis signal source: reads + acks per second against bare-client floors.

Run it (not collected by pytest)::

    .venv/bin/python tests/bench/bench_redis.py [--url redis://127.0.0.1:6379/0] [--n 10000]

For batch sizes 1, 10 and 100, each on a stream of its own pre-filled with signal-sized entries
(published untimed with a pipelined XADD), it measures entries read and acknowledged per second:

* floor (sync): the bare synchronous redis-py client, ``XREADGROUP COUNT b`` then ``XACK`` of the
  batch, raw replies — what the two round trips per batch cost with nothing around them;
* floor (trio-asyncio): the same two commands with redis-py's asyncio client hosted in trio,
  as the adapter hosts it — the cost of the hosting itself;
* RedisSignalSource: ``read(b)`` then ``ack(refs)`` — everything the adapter adds (per-call
  deadlines, the dedicated blocking connection, in-flight bookkeeping, raw-field decoding).

Each figure is the median of ``--rounds`` runs; ratios are adapter / floor throughput. With
``redis-benchmark`` installed, its single-client PING rate is printed too (one round trip).
Everything it creates is deleted at the end.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlparse

import redis
import trio
import trio_asyncio  # type: ignore[import-untyped]
from redis.asyncio import Redis as AsyncRedis

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from adapters.redis_streams import RedisSignalSource

BATCHES = (1, 10, 100)
FIELDS = {"exchange": "gmo", "symbol": "BTC_JPY", "action": "enter_long", "size": "0.01",
          "order_type": "LIMIT", "price_ref": "9500000", "strategy": "bench"}
GROUP, CONSUMER = "bench", "bench-1"


class Bench:
    def __init__(self, url: str, n: int) -> None:
        self.url = url
        self.n = n
        self.prefix = f"bench:{uuid.uuid4().hex[:8]}"
        self.client = redis.Redis.from_url(url, socket_timeout=10, protocol=2)
        self.client.response_callbacks.clear()
        self._streams = 0

    def fresh_stream(self, n: int) -> str:
        """A new stream holding ``n`` entries and the group, untimed."""
        self._streams += 1
        stream = f"{self.prefix}:{self._streams}"
        pipe = self.client.pipeline(transaction=False)
        for _ in range(n):
            pipe.xadd(stream, FIELDS)
        pipe.execute()
        self.client.execute_command("XGROUP", "CREATE", stream, GROUP, "0")
        return stream

    def cleanup(self) -> None:
        cursor = None
        while cursor != 0:
            reply = self.client.execute_command("SCAN", cursor or 0, "MATCH", self.prefix + ":*",
                                                "COUNT", 1000)
            cursor = int(reply[0])
            if reply[1]:
                self.client.delete(*reply[1])
        self.client.close()


def floor_sync(bench: Bench, stream: str, batch: int, n: int) -> float:
    client = bench.client
    done = 0
    start = time.perf_counter()
    while done < n:
        reply = client.execute_command("XREADGROUP", "GROUP", GROUP, CONSUMER, "COUNT", batch,
                                       "STREAMS", stream, ">")
        ids = [entry[0] for entry in reply[0][1]]
        client.execute_command("XACK", stream, GROUP, *ids)
        done += len(ids)
    return n / (time.perf_counter() - start)


async def floor_aio(bench: Bench, stream: str, batch: int, n: int) -> float:
    client = AsyncRedis.from_url(bench.url, socket_timeout=10, protocol=2)
    client.response_callbacks.clear()
    call = trio_asyncio.aio_as_trio(client.execute_command)
    done = 0
    start = time.perf_counter()
    while done < n:
        reply = await call("XREADGROUP", "GROUP", GROUP, CONSUMER, "COUNT", batch,
                           "STREAMS", stream, ">")
        ids = [entry[0] for entry in reply[0][1]]
        await call("XACK", stream, GROUP, *ids)
        done += len(ids)
    rate = n / (time.perf_counter() - start)
    await trio_asyncio.aio_as_trio(client.aclose)()
    return rate


async def adapter(bench: Bench, stream: str, batch: int, n: int) -> float:
    async with RedisSignalSource.open(bench.url, [stream], GROUP, CONSUMER,
                                      block_ms=1000) as source:
        await source.read(1)  # the start-up re-read of own history, untimed
        done = 1
        start = time.perf_counter()
        while done < n:
            got = await source.read(batch)
            await source.ack([m.ref for m in got])
            done += len(got)
        return (n - 1) / (time.perf_counter() - start)


def redis_benchmark_ping(url: str) -> float | None:
    exe = shutil.which("redis-benchmark")
    if exe is None:
        return None
    parsed = urlparse(url)
    out = subprocess.run(
        [exe, "-h", parsed.hostname or "127.0.0.1", "-p", str(parsed.port or 6379), "-c", "1",
         "-n", "20000", "-t", "ping", "-q"], capture_output=True, text=True, timeout=60,
    ).stdout
    rates = [float(line.split(":")[1].split()[0]) for line in out.splitlines()
             if "requests per second" in line]
    return max(rates) if rates else None


async def main(url: str, n: int, rounds: int) -> None:
    bench = Bench(url, n)
    try:
        print(f"Redis source benchmark — {url.split('@')[-1]}, median of {rounds} rounds")
        ping = redis_benchmark_ping(url)
        if ping:
            print(f"redis-benchmark PING, 1 client: {ping:,.0f} round trips/s")
        print(f"{'batch':>5} {'entries':>8} {'floor sync/s':>13} {'floor aio/s':>12} "
              f"{'adapter/s':>10} {'vs sync':>8} {'vs aio':>7}")
        async with trio_asyncio.open_loop():
            for batch in BATCHES:
                count = max(n // 5, 500) if batch == 1 else n
                runs: dict[str, list[float]] = {"sync": [], "aio": [], "adapter": []}
                for _ in range(rounds):
                    runs["sync"].append(floor_sync(bench, bench.fresh_stream(count), batch, count))
                    measures: list[tuple[str, Callable[..., Awaitable[float]]]] = [
                        ("aio", floor_aio), ("adapter", adapter)]
                    for name, fn in measures:
                        runs[name].append(await fn(bench, bench.fresh_stream(count), batch, count))
                sync, aio, ours = (statistics.median(runs[k]) for k in ("sync", "aio", "adapter"))
                print(f"{batch:>5} {count:>8} {sync:>13,.0f} {aio:>12,.0f} {ours:>10,.0f} "
                      f"{ours / sync:>7.2f}x {ours / aio:>6.2f}x")
    finally:
        bench.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--n", type=int, default=10_000, help="entries per run (batch 1: n/5)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    trio.run(main, args.url, args.n, args.rounds)
