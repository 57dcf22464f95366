"""The memory backends of the contract suites: MemoryStore, and MemorySignalSource over
MemoryStreams (each test gets new, empty ones)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

import trio

from adapters.memory.signal_source import MemorySignalSource
from adapters.memory.store import MemoryStore
from adapters.memory.streams import MemoryStreams
from ports.signal_source import SignalSource
from ports.store import Store
from tests.contract.harnesses import Fields, Pending


@asynccontextmanager
async def memory_store() -> AsyncIterator[Store]:
    async with MemoryStore() as store:
        yield store


class MemorySourceHarness:
    group = "execution"

    def __init__(self) -> None:
        self.streams = MemoryStreams()
        self._prefix = f"signal:t{uuid.uuid4().hex[:8]}"

    def stream(self, name: str) -> str:
        return f"{self._prefix}:{name}"

    async def publish(self, stream: str, fields: Mapping[str | bytes, str | bytes]) -> str:
        await trio.lowlevel.checkpoint()
        return self.streams.add(stream, fields)

    async def source(self, consumer: str, streams: Sequence[str], *,
                     block_s: float = 0.05) -> SignalSource:
        await trio.lowlevel.checkpoint()
        return MemorySignalSource(self.streams, streams, self.group, consumer, block_s=block_s)

    async def claim_idle(self, source: SignalSource, min_idle_s: float) -> int:
        assert isinstance(source, MemorySignalSource)
        return await source.claim_idle(min_idle_s)

    async def dlq(self, stream: str) -> list[tuple[str, Fields]]:
        await trio.lowlevel.checkpoint()
        return self.streams.entries(stream + ":dlq")

    async def pending(self, stream: str, consumer: str | None = None) -> list[Pending]:
        await trio.lowlevel.checkpoint()
        return [Pending(p.message_id, p.consumer, p.deliveries)
                for p in self.streams.pending(stream, self.group, consumer)]


@asynccontextmanager
async def memory_source_harness() -> AsyncIterator[MemorySourceHarness]:
    yield MemorySourceHarness()
