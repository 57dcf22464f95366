"""Clocks implementing ports.clock: the system's UTC time, and one that follows trio's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import trio


class SystemClock:
    """The machine's wall clock, timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class TrioWallClock:
    """Wall time that advances with trio's clock: ``start`` plus the trio time elapsed since
    construction. Under trio's MockClock wall time then moves with virtual time, so timeouts,
    signal ages and order deadlines agree. Construct it inside ``trio.run``."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("TrioWallClock needs a timezone-aware start")
        self._start = start.astimezone(UTC)
        self._origin = trio.current_time()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=trio.current_time() - self._origin)
