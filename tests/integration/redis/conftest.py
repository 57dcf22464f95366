"""Fixtures of the Redis source tests: stream names no other test uses, removed afterwards, and
the strategy's side of the stream through the bare synchronous redis-py client (raw replies, so
fields come back exactly as stored, repeated names included)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, NamedTuple

import pytest
import redis

from adapters.redis_streams import RedisSignalSource

Fields = tuple[tuple[bytes, bytes], ...]

# Fast settings for tests: short blocks, quick reconnects, discovery at every read.
FAST = {"block_ms": 50, "backoff_initial_s": 0.01, "backoff_max_s": 0.2,
        "discover_interval_s": 0.01}


class Pending(NamedTuple):
    message_id: str
    consumer: str
    idle_ms: int
    deliveries: int


class Streams:
    """A test's own streams and group on the real Redis, and raw access to them."""

    def __init__(self, url: str) -> None:
        self.url = url
        tag = uuid.uuid4().hex[:8]
        self.prefix = f"test:{tag}"
        self.group = f"g-{tag}"
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.client.response_callbacks.clear()

    def name(self, suffix: str = "s") -> str:
        return f"{self.prefix}:{suffix}"

    def cmd(self, *args: Any) -> Any:
        return self.client.execute_command(*args)

    def publish(self, stream: str, fields: Mapping[str | bytes, str | bytes] | Fields) -> str:
        pairs = fields.items() if isinstance(fields, Mapping) else fields
        return bytes(self.cmd("XADD", stream, "*", *[p for pair in pairs for p in pair])).decode()

    def pending(self, stream: str, consumer: str | None = None) -> list[Pending]:
        extra = [] if consumer is None else [consumer]
        rows = self.cmd("XPENDING", stream, self.group, "-", "+", 100_000, *extra)
        return [Pending(i.decode(), c.decode(), int(idle), int(n)) for i, c, idle, n in rows]

    def entries(self, stream: str) -> list[tuple[str, Fields]]:
        return [(i.decode(), tuple(zip(f[0::2], f[1::2], strict=True)))
                for i, f in self.cmd("XRANGE", stream, "-", "+")]

    def open(self, consumer: str = "c1", streams: Sequence[str] | None = None,
             **options: Any) -> AbstractAsyncContextManager[RedisSignalSource]:
        return RedisSignalSource.open(self.url, streams or [self.name()], self.group, consumer,
                                      **{**FAST, **options})

    def cleanup(self) -> None:
        cursor = None
        while cursor != 0:
            reply = self.cmd("SCAN", cursor or 0, "MATCH", self.prefix + ":*", "COUNT", 1000)
            cursor = int(reply[0])
            if reply[1]:
                self.client.delete(*reply[1])
        self.client.close()


@pytest.fixture
def streams(redis_url: str) -> Iterator[Streams]:
    s = Streams(redis_url)
    try:
        yield s
    finally:
        s.cleanup()
