"""Clock: wall-clock time, UTC and timezone-aware. (Waiting uses trio's clock, not this.)"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...
