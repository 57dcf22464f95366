"""A Redis server of the test's own, killed and restarted in the middle of a run of signals, or
silent for a while: the source waits it out with backoff, and every signal is processed exactly
once (at-least-once delivery, processing idempotent by id), none lost, nothing left pending."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis
import trio
from structlog.testing import capture_logs

from adapters.redis_streams import RedisSignalSource
from tests.integration.redis.server import OwnRedis

pytestmark = pytest.mark.redis

STREAM, GROUP = "signal:restart", "execution"
BATCHES = 3  # published one after the other; the server dies after the first and the second
PER_BATCH = 100


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[OwnRedis]:
    own = OwnRedis(tmp_path)
    await own.start()
    try:
        yield own
    finally:
        own.kill()


async def test_every_signal_is_processed_exactly_once_across_redis_restarts(
    server: OwnRedis,
) -> None:
    def publish(n: int) -> set[str]:
        client = redis.Redis.from_url(server.url, socket_timeout=2, socket_connect_timeout=2)
        try:
            return {client.xadd(STREAM, {"n": str(i)}).decode() for i in range(n)}
        finally:
            client.close()

    published = publish(PER_BATCH)
    processed: set[str] = set()
    deliveries: Counter[str] = Counter()
    outages = 0

    # The first death finds a batch waiting for its ack, the second the next read under way.
    before_ack, during_read = trio.Event(), trio.Event()

    async def restart_when(reached: trio.Event) -> None:
        nonlocal outages
        await reached.wait()
        server.kill()  # whatever the consumer is doing at this moment
        outages += 1
        await trio.sleep(0.2)  # the consumer meets a dead server for a while
        await server.start()
        published.update(publish(PER_BATCH))

    with capture_logs() as logs, trio.fail_after(60):  # a hang guard, not a timing assertion
        async with RedisSignalSource.open(
            server.url, [STREAM], GROUP, "execution-1", block_ms=50, socket_timeout_s=1,
            connect_timeout_s=1, backoff_initial_s=0.01, backoff_max_s=0.1,
        ) as source, trio.open_nursery() as nursery:
            nursery.start_soon(restart_when, before_ack)
            nursery.start_soon(restart_when, during_read)
            while len(published) < BATCHES * PER_BATCH or processed != published:
                batch = await source.read(10)
                for message in batch:
                    deliveries[message.ref.message_id] += 1
                    processed.add(message.ref.message_id)  # idempotent: a set keyed by id
                if len(processed) >= PER_BATCH // 2:
                    before_ack.set()
                await source.ack([m.ref for m in batch])
                if len(processed) >= PER_BATCH * 3 // 2:
                    during_read.set()

    assert outages == 2
    assert processed == published and len(published) == BATCHES * PER_BATCH  # none lost
    client = redis.Redis.from_url(server.url, socket_timeout=2)
    assert client.xpending(STREAM, GROUP)["pending"] == 0  # every one acknowledged
    client.close()
    redelivered = sorted(i for i, n in deliveries.items() if n > 1)
    events = Counter(e["event"] for e in logs)
    assert events["redis_unavailable"] > 0 and events["redis_reconnected"] > 0
    print(f"\n{len(published)} signals, {outages} restarts, {len(redelivered)} redelivered, "
          f"{events['redis_unavailable']} failed calls retried")


async def test_a_server_that_stops_answering_is_waited_out(server: OwnRedis) -> None:
    client = redis.Redis.from_url(server.url, socket_timeout=5)
    first = client.xadd(STREAM, {"n": "1"}).decode()
    with capture_logs() as logs, trio.fail_after(30):  # a hang guard, not a timing assertion
        async with RedisSignalSource.open(
            server.url, [STREAM], GROUP, "execution-1", block_ms=50, socket_timeout_s=0.2,
            connect_timeout_s=0.2, backoff_initial_s=0.01, backoff_max_s=0.1,
        ) as source:
            (message,) = await source.read(10)
            # Like a network cut: the server takes the calls and says nothing for a while.
            client.execute_command("CLIENT", "PAUSE", 1000, "ALL")
            await source.ack([message.ref])
            second = client.xadd(STREAM, {"n": "2"}).decode()
            got = await source.read(10)
    timeouts = [e for e in logs if e["event"] == "redis_unavailable" and e["op"] == "ack"]
    assert timeouts and "Timeout" in timeouts[0]["error"]
    assert message.ref.message_id == first and [m.ref.message_id for m in got] == [second]
    assert client.xpending(STREAM, GROUP)["pending"] == 1  # only the second, not yet acked
    client.close()
