"""RedisSignalSource: the SignalSource port on a Redis Streams consumer group (DESIGN §1, §3).

Reads go through :class:`~adapters.redis_streams.reading.Reader` (own history, rescanned pending
entries, then new ones; never more than asked). Acks and dead letters are idempotent, so every
call is simply repeated with backoff while Redis is away: nothing is lost, nothing doubled.
The janitor (:meth:`RedisSignalSource.run_janitor`) takes over entries a dead consumer left.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import structlog
import trio
from redis import exceptions as rx

from adapters.redis_streams import discovery, pending
from adapters.redis_streams.link import RedisLink, asyncio_loop
from adapters.redis_streams.reading import Reader
from adapters.redis_streams.reconnect import Reconnector
from adapters.redis_streams.settings import RedisSourceSettings
from hexexec.domain.signal import InboundMessage, MessageRef


def _is_nogroup(exc: rx.ResponseError) -> bool:
    return str(exc).startswith("NOGROUP")


class RedisSignalSource:
    """Consumer ``consumer`` of ``group`` on ``names`` (stream names or glob patterns such as
    ``signal:*``). Open it with :meth:`open`."""

    def __init__(self, link: RedisLink, names: Sequence[str], group: str, consumer: str,
                 settings: RedisSourceSettings) -> None:
        if not names:
            raise ValueError("at least one stream name or pattern is needed")
        self._link = link
        self._group = group
        self.consumer = consumer
        self._settings = settings
        self._log = structlog.get_logger("hexexec.redis_streams").bind(group=group,
                                                                       consumer=consumer)
        self._retry = Reconnector(settings.backoff_initial_s, settings.backoff_max_s, self._log)
        self._reader = Reader(link, names, group, consumer, settings, self._retry, self._log)
        self._read_lock = trio.Lock()

    @classmethod
    @asynccontextmanager
    async def open(cls, url: str, streams: Sequence[str], group: str, consumer: str,
                   **options: Any) -> AsyncIterator[RedisSignalSource]:
        """Connect, create the group where missing (from id 0, MKSTREAM), yield the source, and
        close on exit. ``options`` are :class:`RedisSourceSettings` fields (``block_ms=...``).
        The asyncio loop of trio-asyncio is reused if this task context has one."""
        settings = RedisSourceSettings(**options)
        async with asyncio_loop() as loop:
            link = RedisLink(loop, url, settings, f"hexexec:{group}:{consumer}")
            try:
                source = cls(link, streams, group, consumer, settings)
                await source._reader.refresh()
                yield source
            finally:
                await link.aclose()

    def __repr__(self) -> str:
        return f"RedisSignalSource(group={self._group!r}, consumer={self.consumer!r})"

    @property
    def streams(self) -> tuple[str, ...]:
        """The streams currently read (patterns resolved)."""
        return tuple(self._reader.states)

    async def read(self, max_count: int) -> Sequence[InboundMessage]:
        """Up to ``max_count`` entries: own pending ones first, then new ones; waits up to
        ``block_ms`` for new ones, and as long as it takes for Redis to come back."""
        if max_count < 1:
            raise ValueError("max_count must be at least 1")
        async with self._read_lock:
            while True:
                try:
                    got = await self._retry.run("read", partial(self._reader.read_once,
                                                                max_count))
                except rx.ResponseError as exc:
                    if not _is_nogroup(exc):
                        raise
                    # The stream or group was deleted (or Redis lost its data): set it up again.
                    self._log.warning("consumer_group_missing", error=str(exc))
                    await trio.sleep(self._settings.backoff_initial_s)
                    await self._reader.refresh(force=True)
                    continue
                if got is not None:
                    return got

    async def ack(self, refs: Sequence[MessageRef]) -> None:
        """XACK the entries; unknown or already acknowledged ones are ignored by Redis."""
        by_stream: dict[str, list[str]] = {}
        for ref in refs:
            by_stream.setdefault(ref.stream, []).append(ref.message_id)
        for stream, ids in by_stream.items():
            await self._retry.run("ack", partial(self._link.command, "XACK", stream,
                                                 self._group, *ids))
            self._reader.in_flight.difference_update((stream, i) for i in ids)

    async def dead_letter(self, message: InboundMessage, reason: str) -> None:
        """Copy the entry with ``reason``, ``source_stream`` and ``source_id`` to
        ``<stream>:dlq`` and XACK it, in one MULTI/EXEC. An entry no longer pending is left
        alone, so a call repeated after a lost reply adds no second copy."""
        ref = message.ref
        await self._retry.run("dead_letter", partial(
            pending.dead_letter, self._link, ref.stream, self._group, ref.message_id,
            message.fields, reason, ref.stream + discovery.DLQ_SUFFIX))
        self._reader.in_flight.discard((ref.stream, ref.message_id))
        self._log.info("dead_lettered", stream=ref.stream, id=ref.message_id, reason=reason)

    async def claim_idle(self, min_idle_s: float | None = None, count: int | None = None) -> int:
        """One janitor pass: XAUTOCLAIM (JUSTID) entries idle at least ``min_idle_s`` (default:
        the setting) from any consumer of the group, at most ``count``; the next reads hand them
        out. A stream where entries claimed (or found) earlier are still to be handed out is
        skipped: the source takes on more only once it has caught up. Returns how many entries
        were claimed (this source's own entries in flight are not counted)."""
        min_idle_ms = (self._settings.claim_min_idle_ms if min_idle_s is None
                       else max(0, round(min_idle_s * 1000)))
        budget = self._settings.claim_count if count is None else count
        claimed = 0
        for st in list(self._reader.states.values()):
            cursor = "0-0"
            while not st.busy and claimed < budget:
                try:
                    cursor, ids, deleted = await self._retry.run("claim", partial(
                        pending.claim_stale, self._link, st.name, self._group, self.consumer,
                        min_idle_ms, cursor, budget - claimed))
                except rx.ResponseError as exc:
                    if not _is_nogroup(exc):
                        raise
                    break  # the stream went away; the next read sets it up again
                for message_id in deleted:
                    self._log.warning("pending_entry_deleted", stream=st.name, id=message_id)
                # Our own entries in flight may be idle too: they stay with the caller.
                fresh = [i for i in ids if (st.name, i) not in self._reader.in_flight]
                if fresh:
                    st.restart_rescan()
                    self._log.info("claimed_idle_entries", stream=st.name, count=len(fresh))
                claimed += len(fresh)
                if cursor == "0-0":
                    break
        if claimed:
            self._reader.wake()  # a read blocked on new entries hands these out now
        return claimed

    async def run_janitor(self, min_idle_s: float | None = None, interval_s: float | None = None,
                          *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Claim idle entries every ``interval_s`` (default: the setting) until cancelled."""
        interval = self._settings.claim_interval_s if interval_s is None else interval_s
        task_status.started()
        while True:
            await self.claim_idle(min_idle_s)
            await trio.sleep(interval)
