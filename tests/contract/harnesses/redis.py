"""The Redis backend of the signal-source contract suite: RedisSignalSource on the real server.

Each harness uses stream names and a group no other test uses, opens one trio-asyncio loop that
every source it makes reuses, and deletes its streams (dead-letter streams included) at the end.
The strategy's side (publish, and the XPENDING / XRANGE checks) uses the bare synchronous
redis-py client, independent of the adapter under test.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

import redis
import trio
import trio_asyncio  # type: ignore[import-untyped]

from adapters.redis_streams import RedisSignalSource
from ports.signal_source import SignalSource
from tests.contract.harnesses import Fields, Pending


class RedisSourceHarness:
    def __init__(self, url: str, sources: AsyncExitStack) -> None:
        self._url = url
        self._sources = sources
        tag = uuid.uuid4().hex[:8]
        self.group = f"execution-{tag}"
        self.prefix = f"signal:t{tag}"
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.client.response_callbacks.clear()  # raw replies: fields exactly as stored

    def stream(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    async def publish(self, stream: str, fields: Mapping[str | bytes, str | bytes]) -> str:
        await trio.lowlevel.checkpoint()
        flat = [part for pair in fields.items() for part in pair]
        return bytes(self.client.execute_command("XADD", stream, "*", *flat)).decode()

    async def source(self, consumer: str, streams: Sequence[str], *,
                     block_s: float = 0.05) -> SignalSource:
        return await self._sources.enter_async_context(RedisSignalSource.open(
            self._url, streams, self.group, consumer,
            block_ms=max(1, round(block_s * 1000)), discover_interval_s=0.01,
        ))

    async def claim_idle(self, source: SignalSource, min_idle_s: float) -> int:
        assert isinstance(source, RedisSignalSource)
        return await source.claim_idle(min_idle_s)

    async def dlq(self, stream: str) -> list[tuple[str, Fields]]:
        await trio.lowlevel.checkpoint()
        reply = self.client.execute_command("XRANGE", stream + ":dlq", "-", "+")
        return [(i.decode(), tuple(zip(flat[0::2], flat[1::2], strict=True)))
                for i, flat in reply]

    async def pending(self, stream: str, consumer: str | None = None) -> list[Pending]:
        await trio.lowlevel.checkpoint()
        args = [] if consumer is None else [consumer]
        try:
            rows = self.client.execute_command("XPENDING", stream, self.group, "-", "+", 1_000_000,
                                               *args)
        except redis.ResponseError as exc:
            if str(exc).startswith("NOGROUP"):
                return []
            raise
        return [Pending(i.decode(), c.decode(), int(n)) for i, c, _idle, n in rows]

    def delete_streams(self) -> None:
        cursor = None
        while cursor != 0:
            reply = self.client.execute_command("SCAN", cursor or 0, "MATCH", f"{self.prefix}:*",
                                                "COUNT", 1000)
            cursor = int(reply[0])
            if reply[1]:
                self.client.delete(*reply[1])
        self.client.close()


@asynccontextmanager
async def redis_source_harness(redis_url: str) -> AsyncIterator[RedisSourceHarness]:
    async with trio_asyncio.open_loop(), AsyncExitStack() as sources:
        harness = RedisSourceHarness(redis_url, sources)
        try:
            yield harness
        finally:
            await sources.aclose()
            harness.delete_streams()
