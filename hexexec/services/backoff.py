"""Exponential backoff for a venue that asks us to come back later (maintenance, rate limit)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Backoff:
    first_s: float = 0.5
    max_s: float = 30.0
    _next: float = 0.0

    def delay(self, hint_s: float = 0.0) -> float:
        """The next wait: doubles each time, never below the venue's hint, never above the cap."""
        self._next = self.first_s if self._next == 0 else min(self._next * 2, self.max_s)
        return min(max(self._next, hint_s), self.max_s)

    def reset(self) -> None:
        self._next = 0.0
