"""MemorySignalSource: the SignalSource port over MemoryStreams, read as a consumer group.

It behaves as a Redis worker does: a fresh instance first re-reads this consumer's own pending
entries (each read counts one more delivery), then takes new ones; so a "restart" (a new instance
with the same consumer name) gets back every entry it had been handed and not acknowledged.
Entries claimed from idle consumers (:meth:`claim_idle`, the janitor) are handed out first.

Cancellation never loses an entry: every change to the streams happens in one synchronous step
between a cancellation point before it and a shielded schedule point after it, so an entry is
either still new or already pending (and then redelivered on restart), never half-taken.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from fnmatch import fnmatchcase
from types import TracebackType

import trio

from adapters.memory.stream_ids import parse_id
from adapters.memory.streams import MemoryStreams, StreamMessage
from hexexec.domain.signal import InboundMessage, MessageRef

DLQ_SUFFIX = ":dlq"


def _is_pattern(name: str) -> bool:
    return any(c in name for c in "*?[")


def _inbound(m: StreamMessage) -> InboundMessage:
    return InboundMessage(MessageRef(m.stream, m.message_id), m.fields, m.deliveries)


class MemorySignalSource:
    """Consumer ``consumer`` of ``group`` on ``stream_names`` (names or glob patterns such as
    ``signal:*``, matched against existing streams at every read, dead-letter streams excluded).
    ``block_s`` bounds how long :meth:`read` waits; None waits until something arrives."""

    def __init__(self, streams: MemoryStreams, stream_names: Sequence[str], group: str,
                 consumer: str, *, block_s: float | None = 1.0) -> None:
        if not stream_names:
            raise ValueError("at least one stream name or pattern is needed")
        self._streams = streams
        self._names = tuple(stream_names)
        self._group = group
        self.consumer = consumer
        self._block_s = block_s
        self._active: list[str] = []
        # Per stream: the id after which this consumer's own history is still to be re-read;
        # removed once the history is exhausted (then only new entries are read).
        self._history: dict[str, str] = {}
        self._claimed: deque[InboundMessage] = deque()
        self._turn = 0
        self._resolve()

    async def __aenter__(self) -> MemorySignalSource:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        return None

    @property
    def streams(self) -> tuple[str, ...]:
        """The streams currently read (patterns resolved)."""
        return tuple(self._active)

    def _resolve(self) -> None:
        existing = self._streams.stream_names()
        for name in self._names:
            if _is_pattern(name):
                found = [s for s in existing
                         if fnmatchcase(s, name) and not s.endswith(DLQ_SUFFIX)]
            else:
                found = [name]
            for stream in found:
                if stream not in self._active:
                    self._streams.ensure_group(stream, self._group, "0")
                    self._active.append(stream)
                    self._history[stream] = "0-0"

    def _take(self, max_count: int) -> list[InboundMessage]:
        """Claimed entries, then own history, then new entries: one synchronous (atomic) step."""
        self._resolve()
        out: list[InboundMessage] = []
        while self._claimed and len(out) < max_count:
            m = self._claimed.popleft()
            # Skip it if it was acknowledged or claimed away since.
            owner = self._streams.owner(m.ref.stream, self._group, m.ref.message_id)
            if owner == self.consumer:
                out.append(m)
        for stream in list(self._history):
            room = max_count - len(out)
            if room == 0:
                return out
            got = self._streams.read_group(self._group, self.consumer, stream,
                                           self._history[stream], room)
            if len(got) < room:
                del self._history[stream]  # this stream's history is exhausted
            else:
                self._history[stream] = got[-1].message_id
            out.extend(_inbound(m) for m in got)
        if self._history or len(out) == max_count:
            return out
        n = len(self._active)
        for i in range(n):
            if len(out) == max_count:
                break
            stream = self._active[(self._turn + i) % n]
            got = self._streams.read_group(self._group, self.consumer, stream, ">",
                                           max_count - len(out))
            out.extend(_inbound(m) for m in got)
        self._turn = (self._turn + 1) % max(n, 1)  # the next read starts at the next stream
        return out

    async def read(self, max_count: int) -> Sequence[InboundMessage]:
        """Up to ``max_count`` entries: own pending first, then new; waits up to ``block_s``."""
        if max_count < 1:
            raise ValueError("max_count must be at least 1")
        deadline = math.inf if self._block_s is None else trio.current_time() + self._block_s
        while True:
            await trio.lowlevel.checkpoint_if_cancelled()
            wakeup = self._streams.wakeup()
            batch = self._take(max_count)
            if batch:
                await trio.lowlevel.cancel_shielded_checkpoint()
                return batch
            with trio.move_on_at(deadline) as waited:
                await wakeup.wait()
            if waited.cancelled_caught:
                return []

    async def ack(self, refs: Sequence[MessageRef]) -> None:
        """XACK each entry; unknown or already acknowledged ones are ignored."""
        await trio.lowlevel.checkpoint_if_cancelled()
        for ref in refs:
            self._streams.ack(ref.stream, self._group, [ref.message_id])
        await trio.lowlevel.cancel_shielded_checkpoint()

    async def dead_letter(self, message: InboundMessage, reason: str) -> None:
        """Copy the entry with ``reason``, ``source_stream`` and ``source_id`` to
        ``<stream>:dlq`` and acknowledge it, in one step. An entry no longer pending (already
        acknowledged or dead-lettered) is left alone, so a repeated call adds no second copy."""
        await trio.lowlevel.checkpoint_if_cancelled()
        ref = message.ref
        if self._streams.owner(ref.stream, self._group, ref.message_id) is not None:
            extra = (
                (b"reason", reason.encode()),
                (b"source_stream", ref.stream.encode()),
                (b"source_id", ref.message_id.encode()),
            )
            self._streams.add(ref.stream + DLQ_SUFFIX, message.fields + extra)
            self._streams.ack(ref.stream, self._group, [ref.message_id])
        await trio.lowlevel.cancel_shielded_checkpoint()

    async def claim_idle(self, min_idle_s: float, count: int = 100) -> int:
        """The janitor's step: XAUTOCLAIM entries idle at least ``min_idle_s`` (another consumer
        died holding them) on every stream read; they come first in the next reads. Returns how
        many were claimed."""
        await trio.lowlevel.checkpoint_if_cancelled()
        claimed = 0
        for stream in self._active:
            cursor = "0-0"
            while claimed < count:
                cursor, got = self._streams.autoclaim(stream, self._group, self.consumer,
                                                      min_idle_s, cursor, count - claimed)
                # Own entries still ahead in the history re-read come that way, not twice.
                after = self._history.get(stream)
                self._claimed.extend(
                    _inbound(m) for m in got
                    if after is None or parse_id(m.message_id) <= parse_id(after)
                )
                claimed += len(got)
                if cursor == "0-0":
                    break
        if claimed:
            self._streams.notify()  # a read blocked on this source should see them now
        await trio.lowlevel.cancel_shielded_checkpoint()
        return claimed

    async def run_janitor(self, min_idle_s: float, interval_s: float, *,
                          task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Claim idle entries every ``interval_s`` until cancelled (start with nursery.start)."""
        task_status.started()
        while True:
            await trio.sleep(interval_s)
            await self.claim_idle(min_idle_s)
