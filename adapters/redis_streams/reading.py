"""Reader: where the source stands on each stream, and the three ways it hands entries out.

At every read, in this order:

1. this consumer's own history (XREADGROUP with an id): what it held unacknowledged when it last
   stopped, re-read once after a start;
2. own pending entries found by a *rescan* of its PEL (XPENDING, then XCLAIM to count the
   delivery): after the janitor moved a dead consumer's entries here, or after a read for new
   entries ended without its reply (connection lost, cancelled), when Redis may have handed over
   entries that never arrived;
3. new entries (XREADGROUP ``>``), blocking up to ``block_ms`` on the dedicated connection.

Nothing is read ahead: each step asks Redis for at most ``n`` entries and returns all it got.
Entries handed out and not yet settled are *in flight*; rescans skip them, so one source never
hands out an entry twice. State changes only after a step's last await, so a failed or cancelled
call leaves nothing half-done and the step can simply run again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from typing import Any

import trio

from adapters.redis_streams import discovery, pending
from adapters.redis_streams.link import RedisLink
from adapters.redis_streams.reconnect import Reconnector
from adapters.redis_streams.replies import RawEntry
from adapters.redis_streams.settings import RedisSourceSettings
from hexexec.domain.signal import InboundMessage, MessageRef

DELETED_REASON = "entry deleted from the stream before it was processed"


@dataclass(slots=True)
class StreamState:
    """Where the source stands on one stream."""

    name: str
    history: bool = True  # own history not yet fully re-read
    history_after: str | None = None
    rescan: bool = False  # own PEL may hold entries this source has not handed out
    rescan_after: str | None = None
    rescan_gen: int = 0  # bumped when a rescan restarts, so a page in progress does not undo it
    to_deliver: dict[str, None] = field(default_factory=dict)  # found by a rescan, in id order

    def restart_rescan(self) -> None:
        self.rescan, self.rescan_after = True, None
        self.rescan_gen += 1

    @property
    def busy(self) -> bool:
        """Whether entries claimed or found earlier are still to be handed out."""
        return self.rescan or bool(self.to_deliver)


class Reader:
    """The read side of one consumer: stream states, entries in flight, and the read steps."""

    def __init__(self, link: RedisLink, names: Sequence[str], group: str, consumer: str,
                 settings: RedisSourceSettings, retry: Reconnector, log: Any) -> None:
        self._link = link
        self._names = tuple(names)
        self._group = group
        self._consumer = consumer
        self._settings = settings
        self._retry = retry
        self._log = log
        self.states: dict[str, StreamState] = {}
        self.in_flight: set[tuple[str, str]] = set()
        self._wake: trio.CancelScope | None = None
        self._next_refresh = 0.0
        self._turn = 0

    def wake(self) -> None:
        """End a blocked read for new entries early (the janitor found work)."""
        if self._wake is not None:
            self._wake.cancel()

    async def read_once(self, n: int) -> list[InboundMessage] | None:
        """One read; None means "woken early, read again"."""
        if trio.current_time() >= self._next_refresh:
            await self.refresh()
        for st in list(self.states.values()):
            while st.history:
                if got := await self._history(st, n):
                    return got
        for st in list(self.states.values()):
            while st.rescan or st.to_deliver:
                if got := await self._redeliver(st, n):
                    return got
        return await self._new(n)

    async def _history(self, st: StreamState, n: int) -> list[InboundMessage]:
        delivered = await pending.read_history(self._link, st.name, self._group, self._consumer,
                                               st.history_after, n)
        for entry, _ in delivered:
            if entry.fields is None:  # deleted while pending: record it, settle it, go on
                self._log.warning("pending_entry_deleted", stream=st.name, id=entry.message_id)
                await pending.dead_letter(self._link, st.name, self._group, entry.message_id,
                                          (), DELETED_REASON, st.name + discovery.DLQ_SUFFIX)
        if delivered:
            st.history_after = delivered[-1][0].message_id
        st.history = len(delivered) == n
        return [self._hand_out(st.name, e, count) for e, count in delivered if e.fields is not None]

    async def _redeliver(self, st: StreamState, n: int) -> list[InboundMessage]:
        if not st.to_deliver:
            gen, page = st.rescan_gen, self._settings.page_size
            rows = await pending.pending_page(self._link, st.name, self._group, self._consumer,
                                              st.rescan_after, page)
            for row in rows:
                if (st.name, row.message_id) not in self.in_flight:
                    st.to_deliver[row.message_id] = None
            if st.rescan_gen == gen:
                st.rescan_after = rows[-1].message_id if rows else None
                st.rescan = len(rows) == page
            return []
        ids = list(islice(st.to_deliver, n))
        delivered = await pending.claim_for_delivery(self._link, st.name, self._group,
                                                     self._consumer, ids)
        for message_id in ids:
            st.to_deliver.pop(message_id, None)
        return [self._hand_out(st.name, e, count) for e, count in delivered
                if (st.name, e.message_id) not in self.in_flight]

    async def _new(self, n: int) -> list[InboundMessage] | None:
        names = list(self.states)
        if not names:  # a pattern that matches nothing yet
            await trio.sleep(self._settings.block_ms / 1000)
            return []
        start = self._turn % len(names)
        self._turn += 1
        # COUNT is per stream: keep the total within n (beyond n streams, n of them in turn).
        names = (names[start:] + names[:start])[:n]
        with trio.CancelScope() as wake:
            self._wake = wake
            try:
                got = await pending.read_new(self._link, names, self._group, self._consumer,
                                             n // len(names), self._settings.block_ms)
            except BaseException:
                # Redis may have handed entries over and the reply been lost: look for them.
                for name in names:
                    self.states[name].restart_rescan()
                raise
            finally:
                self._wake = None
        if wake.cancelled_caught:
            return None
        return [self._hand_out(stream, entry, 1) for stream, entry in got]

    def _hand_out(self, stream: str, entry: RawEntry, deliveries: int) -> InboundMessage:
        self.in_flight.add((stream, entry.message_id))
        return InboundMessage(MessageRef(stream, entry.message_id), entry.fields or (),
                              deliveries)

    async def refresh(self, *, force: bool = False) -> None:
        """Resolve the names again (patterns with SCAN), creating groups where missing; with
        ``force``, check the group of every stream (after a NOGROUP error)."""
        known = frozenset() if force else frozenset(self.states)
        found = await self._retry.run("discover", partial(
            discovery.resolve, self._link, self._names, self._group, self._settings.page_size,
            known))
        for name in found:
            if name not in self.states:
                self.states[name] = StreamState(name)
                self._log.info("stream_added", stream=name)
        for name in [s for s in self.states if s not in found]:
            del self.states[name]
            self._log.info("stream_dropped", stream=name)
        patterns = any(discovery.is_pattern(n) for n in self._names)
        self._next_refresh = (trio.current_time() + self._settings.discover_interval_s
                              if patterns else math.inf)
