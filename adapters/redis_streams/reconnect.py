"""Reconnector: run a Redis call again, with jittered exponential backoff, until Redis answers.

Only calls that are safe to repeat go through here: each caller makes its call idempotent first
(an ack is; a dead-letter checks the entry is still pending; a read marks what it may have lost).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
import trio

from adapters.redis_streams.link import RedisUnavailable

T = TypeVar("T")


class Reconnector:
    """Retries through :class:`RedisUnavailable`, logging each failure and the recovery."""

    def __init__(self, initial_s: float, max_s: float, log: Any = None,
                 rng: Callable[[], float] = random.random) -> None:
        self._initial_s = initial_s
        self._max_s = max_s
        self._rng = rng
        self._log = log if log is not None else structlog.get_logger("hexexec.redis_streams")
        self.failures = 0  # consecutive failures across all calls: 0 means Redis answers

    def delay(self, attempt: int) -> float:
        """Full jitter over an exponential ceiling: many workers do not reconnect in step."""
        ceiling = min(self._max_s, self._initial_s * 2 ** min(attempt - 1, 30))
        return float(max(self._initial_s, ceiling * self._rng()))

    async def run(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        attempt = 0
        while True:
            try:
                result = await call()
            except RedisUnavailable as exc:
                attempt += 1
                self.failures += 1
                wait_s = self.delay(attempt)
                self._log.warning("redis_unavailable", op=what, attempt=attempt,
                                  retry_in_s=round(wait_s, 3), error=str(exc))
                await trio.sleep(wait_s)
                continue
            if self.failures:
                self._log.info("redis_reconnected", op=what, attempts=attempt + 1)
                self.failures = 0
            return result
