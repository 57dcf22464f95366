"""The Redis commands behind each way an entry reaches this consumer or leaves its hands.

Redis counts deliveries in the group's pending entry list (PEL): a new read counts 1, and each
re-read of one's own history (XREADGROUP with an id) or XCLAIM adds 1, while XAUTOCLAIM with
JUSTID moves an entry without counting. A new entry is on its first delivery; every other read
below is one MULTI/EXEC with the XPENDING that reports the counts it left, so
``InboundMessage.deliveries`` is what Redis holds, never a guess. The dead-letter move is here too.
"""

from __future__ import annotations

from collections.abc import Sequence

from redis import exceptions as rx

from adapters.redis_streams import replies
from adapters.redis_streams.link import RedisLink
from adapters.redis_streams.replies import Fields, PendingRow, RawEntry

Delivered = list[tuple[RawEntry, int]]


class DeadLetterRefused(Exception):
    """The dead-letter stream's key holds something else: nothing was copied or acknowledged."""


def _exclusive(after: str | None) -> str:
    return "-" if after is None else "(" + after


def _with_counts(entries: list[RawEntry], rows: list[PendingRow]) -> Delivered:
    counts = {row.message_id: row.deliveries for row in rows}
    return [(entry, counts.get(entry.message_id, 1)) for entry in entries]


async def read_history(link: RedisLink, stream: str, group: str, consumer: str,
                       after: str | None, count: int) -> Delivered:
    """This consumer's own pending entries after ``after`` (from the start when None): the
    entries it was handed before a restart. Deleted entries come with ``fields`` None."""
    reply = await link.transaction([
        ("XREADGROUP", "GROUP", group, consumer, "COUNT", count, "STREAMS", stream,
         after or "0"),
        ("XPENDING", stream, group, _exclusive(after), "+", count, consumer),
    ])
    found = replies.streams(reply[0])
    entries = found[0][1] if found else []
    return _with_counts(entries, replies.pending_rows(reply[1]))


async def read_new(link: RedisLink, streams: Sequence[str], group: str, consumer: str,
                   count: int, block_ms: int) -> list[tuple[str, RawEntry]]:
    """Entries never delivered to anyone (``>``), up to ``count`` per stream, waiting up to
    ``block_ms`` on the dedicated blocking connection. Each is on its first delivery."""
    reply = await link.blocking(
        "XREADGROUP", "GROUP", group, consumer, "COUNT", count, "BLOCK", block_ms,
        "STREAMS", *streams, *([">"] * len(streams)),
    )
    return [(stream, entry) for stream, entries in replies.streams(reply) for entry in entries]


async def pending_page(link: RedisLink, stream: str, group: str, consumer: str,
                       after: str | None, count: int) -> list[PendingRow]:
    """One page of this consumer's PEL, in id order, after ``after``. Counts nothing."""
    reply = await link.command("XPENDING", stream, group, _exclusive(after), "+", count, consumer)
    return replies.pending_rows(reply)


async def claim_for_delivery(link: RedisLink, stream: str, group: str, consumer: str,
                             ids: Sequence[str]) -> Delivered:
    """Hand out these pending ids (found in our own PEL) again: XCLAIM counts one delivery and
    returns the entries still there; acknowledged or deleted ones are skipped."""
    commands: list[Sequence[object]] = [("XCLAIM", stream, group, consumer, 0, *ids)]
    commands += [("XPENDING", stream, group, i, i, 1, consumer) for i in ids]
    reply = await link.transaction(commands)
    rows = [row for part in reply[1:] for row in replies.pending_rows(part)]
    return _with_counts(replies.entries(reply[0]), rows)


async def claim_stale(link: RedisLink, stream: str, group: str, consumer: str,
                      min_idle_ms: int, cursor: str, count: int) -> tuple[str, list[str], list[str]]:
    """XAUTOCLAIM JUSTID: move entries idle at least ``min_idle_ms`` to this consumer without
    counting a delivery (the read that hands them out counts it). Returns the next cursor, the
    claimed ids and the ids of deleted entries Redis dropped from the PEL."""
    reply = await link.command("XAUTOCLAIM", stream, group, consumer, min_idle_ms, cursor,
                               "COUNT", count, "JUSTID")
    return replies.autoclaim(reply)


async def dead_letter(link: RedisLink, stream: str, group: str, message_id: str,
                      fields: Fields, reason: str, dlq: str) -> None:
    """Copy the entry plus ``reason``, ``source_stream`` and ``source_id`` to ``dlq`` and XACK
    it, in one MULTI/EXEC: both happen, or neither does. An entry no longer pending anywhere in
    the group is left alone, so a call repeated after a lost reply adds no second copy."""
    try:
        held, dlq_type = await link.transaction([
            ("XPENDING", stream, group, message_id, message_id, 1), ("TYPE", dlq)])
    except rx.ResponseError as exc:
        if str(exc).startswith("NOGROUP"):
            return  # no group, nothing pending: nothing is left to settle
        raise
    if not held:
        return
    # In MULTI a failing XADD (a non-stream key in the way) would not stop the XACK: refuse.
    if dlq_type not in (b"stream", b"none"):
        raise DeadLetterRefused(f"{dlq} is a {replies.text(dlq_type)}, not a stream; "
                                f"entry {message_id} left pending")
    extra = [b"reason", reason.encode("utf-8", "replace"), b"source_stream",
             stream.encode(), b"source_id", message_id.encode()]
    await link.transaction([
        ("XADD", dlq, "*", *replies.flatten(fields), *extra),
        ("XACK", stream, group, message_id),
    ])
