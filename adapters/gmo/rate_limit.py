"""Client-side rate limits: never give GMO a reason to answer ERR-5003 (reference §7).

GMO allows N requests per second per account, GET and POST counted apart. Its way of counting is
not documented, so the limiter keeps the strictest reading: *any* window of one second holds at
most N request starts (which also satisfies a fixed-window or a token-bucket counter), widened by
a small margin for arrival jitter. Callers wait their turn (first come, first served) instead of
failing. After an ERR-5003 anyway, :meth:`RateLimiter.pause` holds every caller back a while.
"""

from __future__ import annotations

import math
from collections import deque

import trio

NOTICEABLE_S = 0.001  # a wait shorter than this is scheduling, not the limit


class RateLimiter:
    """At most ``per_second`` request starts in any ``1 s + margin_s`` window, shared by every task
    that holds this object. ``per_second`` None (or infinite) means no limit."""

    def __init__(self, per_second: float | None, *, margin_s: float = 0.03) -> None:
        if per_second is not None and not per_second > 0:
            raise ValueError(f"a rate must be positive (or None for none), got {per_second!r}")
        if margin_s < 0:
            raise ValueError("margin_s must not be negative")
        self.per_second = per_second
        self._unlimited = per_second is None or math.isinf(per_second)
        # N requests per window; a fractional rate (2.5/s) becomes 2 per 0.8 s.
        self._burst = 1 if self._unlimited else max(1, math.floor(per_second))  # type: ignore[arg-type]
        self._window = 0.0 if self._unlimited else self._burst / per_second + margin_s  # type: ignore[operator]
        self._starts: deque[float] = deque(maxlen=self._burst)
        self._paused_until = -math.inf
        self._turn = trio.Lock()  # FIFO: waiters are served in arrival order
        self.waits = 0  # acquisitions held back noticeably, in turn or by the limit (metrics)
        self.waited_s = 0.0

    def __repr__(self) -> str:
        return f"RateLimiter(per_second={self.per_second!r}, window_s={self._window:.3f})"

    async def acquire(self) -> float:
        """Wait until one more request may start, and count it; returns the seconds waited."""
        if self._unlimited and self._paused_until == -math.inf:
            await trio.lowlevel.checkpoint()
            return 0.0
        began = trio.current_time()
        async with self._turn:
            while True:
                now = trio.current_time()
                ready = self._paused_until
                if not self._unlimited and len(self._starts) == self._burst:
                    ready = max(ready, self._starts[0] + self._window)
                if now >= ready:
                    break
                await trio.sleep_until(ready)
            if not self._unlimited:
                self._starts.append(now)
        waited = now - began
        if waited > NOTICEABLE_S:
            self.waits += 1
            self.waited_s += waited
        return waited

    def pause(self, seconds: float) -> None:
        """No request starts for ``seconds`` from now (the venue said we went too fast)."""
        self._paused_until = max(self._paused_until, trio.current_time() + seconds)
