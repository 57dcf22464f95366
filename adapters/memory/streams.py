"""MemoryStreams: Redis streams with consumer groups, in memory (tests, the demo).

It keeps what a Redis server keeps: entries with ids ``<ms>-<seq>`` taken from a clock, consumer
groups with a last-delivered id, and a pending entry list (PEL) per group recording, for every
entry handed out and not yet acknowledged, its consumer, delivery count and last delivery time.
The operations mirror XADD, XREADGROUP (``>`` for new entries, an id for the consumer's own
history), XACK, XPENDING and XAUTOCLAIM, with the same counting rules: a new delivery counts 1,
re-reading one's history or claiming an entry adds 1.

Every operation is synchronous, so under trio each one is atomic, as a Redis command is. Readers
wait for new entries on :meth:`wakeup`, an event replaced each time something is published.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import trio

from adapters.memory.stream_ids import (
    ZERO_ID,
    Fields,
    StreamId,
    as_fields,
    format_id,
    next_id,
    parse_id,
)


@dataclass(frozen=True, slots=True)
class StreamMessage:
    """One entry as handed to a consumer, with its delivery count after this delivery."""

    stream: str
    message_id: str
    fields: Fields
    deliveries: int


@dataclass(frozen=True, slots=True)
class PendingInfo:
    """One PEL row, as XPENDING's extended form reports it."""

    message_id: str
    consumer: str
    deliveries: int
    last_delivered_at: datetime
    idle_s: float


@dataclass(slots=True)
class _Pending:
    consumer: str
    deliveries: int
    delivered_at: datetime


@dataclass(slots=True)
class _Group:
    last_delivered: StreamId
    pel: dict[StreamId, _Pending] = field(default_factory=dict)


@dataclass(slots=True)
class _Stream:
    ids: list[StreamId] = field(default_factory=list)
    fields: dict[StreamId, Fields] = field(default_factory=dict)
    groups: dict[str, _Group] = field(default_factory=dict)
    last_id: StreamId = ZERO_ID


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MemoryStreams:
    """A Redis server's streams, in memory. ``clock`` gives the wall time used for entry ids and
    for idle times (pass a trio-driven clock to run under MockClock)."""

    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self._clock = clock
        self._streams: dict[str, _Stream] = {}
        self._wakeup = trio.Event()

    # -- publishing ---------------------------------------------------------------------------

    def add(self, stream: str, fields: Mapping[str | bytes, str | bytes] | Fields,
            *, message_id: str | None = None) -> str:
        """XADD: append an entry (id from the clock, or ``message_id`` if given) and wake readers."""
        pairs = as_fields(fields)
        if not pairs:
            raise ValueError("a stream entry needs at least one field")
        s = self._streams.setdefault(stream, _Stream())
        if message_id is None:
            new = next_id(s.last_id, self._clock())
        else:
            new = parse_id(message_id)
            if new <= s.last_id:
                raise ValueError(f"id {message_id} is not above the stream's last id")
        s.ids.append(new)
        s.fields[new] = pairs
        s.last_id = new
        self.notify()
        return format_id(new)

    def notify(self) -> None:
        """Wake every reader waiting on :meth:`wakeup`."""
        self._wakeup.set()
        self._wakeup = trio.Event()

    def wakeup(self) -> trio.Event:
        """An event set the next time anything is published (take it before looking)."""
        return self._wakeup

    # -- groups -------------------------------------------------------------------------------

    def ensure_group(self, stream: str, group: str, start_id: str = "0") -> bool:
        """XGROUP CREATE ... MKSTREAM, tolerating an existing group. ``start_id`` "0" delivers the
        whole stream, "$" only what comes next. True when the group was created."""
        s = self._streams.setdefault(stream, _Stream())
        if group in s.groups:
            return False
        start = s.last_id if start_id == "$" else parse_id(start_id)
        s.groups[group] = _Group(start)
        return True

    def read_group(self, group: str, consumer: str, stream: str, after: str,
                   count: int) -> list[StreamMessage]:
        """XREADGROUP on one stream. ``after`` ">" takes up to ``count`` new entries into the
        consumer's PEL; an id re-reads the consumer's own pending entries above it, counting one
        more delivery for each."""
        if count < 1:
            raise ValueError("count must be at least 1")
        s = self._streams.get(stream)
        if s is None or group not in s.groups:
            raise LookupError(f"no group {group!r} on stream {stream!r}")
        g = s.groups[group]
        now = self._clock()
        out: list[StreamMessage] = []
        if after == ">":
            start = bisect.bisect_right(s.ids, g.last_delivered)
            for mid in s.ids[start:start + count]:
                g.pel[mid] = _Pending(consumer, 1, now)
                g.last_delivered = mid
                out.append(StreamMessage(stream, format_id(mid), s.fields[mid], 1))
            return out
        floor = parse_id(after)
        own = sorted(m for m, p in g.pel.items() if p.consumer == consumer and m > floor)
        for mid in own[:count]:
            p = g.pel[mid]
            p.deliveries += 1
            p.delivered_at = now
            out.append(StreamMessage(stream, format_id(mid), s.fields[mid], p.deliveries))
        return out

    def ack(self, stream: str, group: str, message_ids: Iterable[str]) -> int:
        """XACK: drop these ids from the group's PEL; returns how many were pending."""
        s = self._streams.get(stream)
        g = None if s is None else s.groups.get(group)
        if g is None:
            return 0
        return sum(g.pel.pop(parse_id(m), None) is not None for m in message_ids)

    def owner(self, stream: str, group: str, message_id: str) -> str | None:
        """The consumer holding this entry in the group's PEL, None when it is not pending."""
        s = self._streams.get(stream)
        g = None if s is None else s.groups.get(group)
        p = None if g is None else g.pel.get(parse_id(message_id))
        return None if p is None else p.consumer

    def autoclaim(self, stream: str, group: str, consumer: str, min_idle_s: float,
                  start: str = "0-0", count: int = 100) -> tuple[str, list[StreamMessage]]:
        """XAUTOCLAIM: give ``consumer`` up to ``count`` pending entries (of any consumer, as Redis
        does) idle at least ``min_idle_s``, from id ``start``; each counts one more delivery.
        Returns the id to continue from ("0-0" when the scan reached the end) and the entries."""
        s = self._streams.get(stream)
        g = None if s is None else s.groups.get(group)
        if s is None or g is None:
            raise LookupError(f"no group {group!r} on stream {stream!r}")
        now = self._clock()
        floor = parse_id(start)
        candidates = sorted(m for m in g.pel if m >= floor)
        out: list[StreamMessage] = []
        for i, mid in enumerate(candidates):
            if len(out) == count:
                return format_id(candidates[i]), out
            p = g.pel[mid]
            if (now - p.delivered_at).total_seconds() >= min_idle_s:
                g.pel[mid] = _Pending(consumer, p.deliveries + 1, now)
                out.append(StreamMessage(stream, format_id(mid), s.fields[mid], p.deliveries + 1))
        return "0-0", out

    # -- inspection ---------------------------------------------------------------------------

    def pending(self, stream: str, group: str, consumer: str | None = None) -> list[PendingInfo]:
        """XPENDING (extended form): the group's PEL in id order, optionally one consumer's."""
        s = self._streams.get(stream)
        g = None if s is None else s.groups.get(group)
        if g is None:
            return []
        now = self._clock()
        return [
            PendingInfo(format_id(m), p.consumer, p.deliveries, p.delivered_at,
                        (now - p.delivered_at).total_seconds())
            for m, p in sorted(g.pel.items())
            if consumer is None or p.consumer == consumer
        ]

    def entries(self, stream: str) -> list[tuple[str, Fields]]:
        """XRANGE - +: every entry of the stream in id order."""
        s = self._streams.get(stream)
        return [] if s is None else [(format_id(m), s.fields[m]) for m in s.ids]

    def length(self, stream: str) -> int:
        s = self._streams.get(stream)
        return 0 if s is None else len(s.ids)

    def stream_names(self) -> list[str]:
        return sorted(self._streams)

    def groups(self, stream: str) -> Sequence[str]:
        s = self._streams.get(stream)
        return () if s is None else tuple(s.groups)

    def lag(self, stream: str, group: str) -> int:
        """Entries not yet delivered to the group (Redis 7's ``lag``)."""
        s = self._streams.get(stream)
        g = None if s is None else s.groups.get(group)
        if s is None or g is None:
            return 0
        return len(s.ids) - bisect.bisect_right(s.ids, g.last_delivered)
