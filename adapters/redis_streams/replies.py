"""Pure decoding of raw RESP2 stream replies (the source turns redis-py's reply parsing off).

redis-py would turn an entry's fields into a dict, losing repeated field names; the signal
contract wants the fields exactly as published, so the source reads raw replies and this module
turns them into tuples of ``(bytes, bytes)`` pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Fields = tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One stream entry; ``fields`` is None when the entry was deleted while still pending."""

    message_id: str
    fields: Fields | None


@dataclass(frozen=True, slots=True)
class PendingRow:
    """One row of XPENDING's extended form."""

    message_id: str
    consumer: str
    idle_ms: int
    deliveries: int


def text(value: bytes | str) -> str:
    """A reply's ids and names are ASCII/UTF-8 bytes; ours are str."""
    return value.decode("utf-8") if isinstance(value, bytes) else value


def field_pairs(flat: Sequence[bytes] | None) -> Fields | None:
    if flat is None:
        return None
    return tuple(zip(flat[0::2], flat[1::2], strict=True))


def flatten(fields: Fields) -> list[bytes]:
    """The inverse of :func:`field_pairs`, for XADD."""
    return [part for pair in fields for part in pair]


def entries(reply: Sequence[Any] | None) -> list[RawEntry]:
    """XRANGE / XCLAIM / one stream of XREADGROUP: ``[[id, [k, v, ...] | nil], ...]``."""
    return [RawEntry(text(item[0]), field_pairs(item[1])) for item in reply or ()]


def streams(reply: Sequence[Any] | None) -> list[tuple[str, list[RawEntry]]]:
    """XREADGROUP: ``[[stream, entries], ...]``, or nil when a blocking read timed out."""
    return [(text(stream), entries(items)) for stream, items in reply or ()]


def pending_rows(reply: Sequence[Any] | None) -> list[PendingRow]:
    """XPENDING's extended form: ``[[id, consumer, idle ms, deliveries], ...]``."""
    return [
        PendingRow(text(row[0]), text(row[1]), int(row[2]), int(row[3])) for row in reply or ()
    ]


def autoclaim(reply: Sequence[Any]) -> tuple[str, list[str], list[str]]:
    """XAUTOCLAIM ... JUSTID: next cursor, claimed ids, and (Redis 7) ids of deleted entries
    that Redis dropped from the pending list."""
    deleted = [text(i) for i in reply[2]] if len(reply) > 2 else []
    return text(reply[0]), [text(i) for i in reply[1]], deleted


def scan(reply: Sequence[Any]) -> tuple[int, list[bytes]]:
    """SCAN: the next cursor and a page of key names (raw bytes)."""
    return int(reply[0]), list(reply[1])

