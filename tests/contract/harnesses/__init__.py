"""Backends of the contract suites: one module per technology, each giving async context managers
that open a fresh, empty instance for one test.

Adding a backend = one module here with its factories, and one entry in the registries of
``tests/contract/conftest.py``:

    STORE_BACKENDS["postgres"] = Backend(postgres_store, needs=("database_url",),
                                         marks=(pytest.mark.postgres,))

A factory is called with the fixtures named in ``needs`` as keyword arguments (resolved, and so
skipped or failed when the service is missing, before the test's trio run starts) and must return
an async context manager: a ``Store`` for the store suite (over a fresh schema), a
``SignalSourceHarness`` for the signal-source suite (over fresh stream names).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Generic, NamedTuple, Protocol, TypeVar

import pytest

from ports.signal_source import SignalSource

T = TypeVar("T")

Fields = tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True)
class Backend(Generic[T]):
    factory: Callable[..., AbstractAsyncContextManager[T]]
    needs: tuple[str, ...] = ()  # fixtures passed to the factory by name
    marks: tuple[pytest.MarkDecorator, ...] = ()


class Pending(NamedTuple):
    """One pending entry of the group, as XPENDING reports it."""

    message_id: str
    consumer: str
    deliveries: int


class SignalSourceHarness(Protocol):
    """What the signal-source suite needs from a backend besides the port itself."""

    group: str

    def stream(self, name: str) -> str:
        """A stream name unique to this test (the same ``name`` gives the same stream)."""
        ...

    async def publish(self, stream: str, fields: Mapping[str | bytes, str | bytes]) -> str:
        """XADD the entry as the strategy would; returns its id."""
        ...

    async def source(self, consumer: str, streams: Sequence[str], *,
                     block_s: float = 0.05) -> SignalSource:
        """A new, started source for ``consumer`` of the harness's group (the group is created
        by the source, at id 0). Another call with the same consumer is a restart. The harness
        closes every source it made when the test ends."""
        ...

    async def claim_idle(self, source: SignalSource, min_idle_s: float) -> int:
        """Run ``source``'s janitor once: claim entries idle at least ``min_idle_s``."""
        ...

    async def dlq(self, stream: str) -> list[tuple[str, Fields]]:
        """Entries of ``<stream>:dlq``, oldest first, fields exactly as stored."""
        ...

    async def pending(self, stream: str, consumer: str | None = None) -> list[Pending]:
        """The group's pending entries on ``stream`` (of one consumer, or all), by id."""
        ...


def field_map(fields: Mapping[str | bytes, str | bytes]) -> dict[bytes, bytes]:
    """Published fields as the bytes a source hands back."""
    return {
        (k.encode() if isinstance(k, str) else k): (v.encode() if isinstance(v, str) else v)
        for k, v in fields.items()
    }

