"""Stream entry ids and fields as Redis has them: ``<ms>-<seq>``, and ordered byte pairs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

StreamId = tuple[int, int]
Fields = tuple[tuple[bytes, bytes], ...]

ZERO_ID: StreamId = (0, 0)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_id(text: str) -> StreamId:
    """``"1700000000000-3"`` → (1700000000000, 3); a bare ``"5"`` means ``5-0``."""
    ms, _, seq = text.partition("-")
    try:
        parsed = (int(ms), int(seq) if seq else 0)
    except ValueError:
        raise ValueError(f"invalid stream id {text!r}") from None
    if parsed[0] < 0 or parsed[1] < 0:
        raise ValueError(f"invalid stream id {text!r}")
    return parsed


def format_id(sid: StreamId) -> str:
    return f"{sid[0]}-{sid[1]}"


def next_id(last: StreamId, now: datetime) -> StreamId:
    """The id XADD * gives: the clock's milliseconds, or the last id's plus one sequence number
    when the clock has not moved past it (ids never go backwards, even if the clock does)."""
    ms = (now - _EPOCH) // timedelta(milliseconds=1)  # exact: no float rounding
    if ms > last[0]:
        return (ms, 0)
    return (last[0], last[1] + 1)


def _as_bytes(value: str | bytes) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    raise TypeError(f"stream fields are str or bytes, not {type(value).__name__}")


def as_fields(fields: Mapping[str | bytes, str | bytes] | Fields) -> Fields:
    """Fields as ordered byte pairs (str is UTF-8 encoded, bytes are kept exactly)."""
    items = fields.items() if isinstance(fields, Mapping) else fields
    return tuple((_as_bytes(k), _as_bytes(v)) for k, v in items)
