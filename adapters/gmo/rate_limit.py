"""Client-side rate limits: never give GMO a reason to answer ERR-5003 (reference §7).

GMO allows N requests per second per account, GET and POST counted apart. Its way of counting is
not documented. The limiter spaces request starts evenly, one every ``(1 + margin) / N`` seconds,
with no bursts: that satisfies a sliding-window, fixed-window or token-bucket counter, and leaves
the venue's whole per-second allowance as slack for arrival jitter. (Sending N at once and then
waiting a second, the other reading, fails as soon as one second's requests arrive late enough
to meet the next second's: seen under load.) Callers wait their turn (first come, first served)
instead of failing. After an ERR-5003 anyway, :meth:`RateLimiter.pause` holds every caller back.
"""

from __future__ import annotations

import math

import trio

NOTICEABLE_S = 0.001  # a wait shorter than this is scheduling, not the limit


class RateLimiter:
    """Request starts at least ``(1 + margin_s) / per_second`` apart, shared by every task that
    holds this object. ``per_second`` None (or infinite) means no limit."""

    def __init__(self, per_second: float | None, *, margin_s: float = 0.03) -> None:
        if per_second is not None and not per_second > 0:
            raise ValueError(f"a rate must be positive (or None for none), got {per_second!r}")
        if margin_s < 0:
            raise ValueError("margin_s must not be negative")
        self.per_second = per_second
        self._unlimited = per_second is None or math.isinf(per_second)
        self._interval = 0.0 if self._unlimited else (1 + margin_s) / per_second  # type: ignore[operator]
        self._last_start = -math.inf
        self._paused_until = -math.inf
        self._turn = trio.Lock()  # FIFO: waiters are served in arrival order
        self.waits = 0  # acquisitions held back noticeably, in turn or by the limit (metrics)
        self.waited_s = 0.0

    def __repr__(self) -> str:
        return f"RateLimiter(per_second={self.per_second!r}, interval_s={self._interval:.4f})"

    async def acquire(self) -> float:
        """Wait until one more request may start, and count it; returns the seconds waited."""
        if self._unlimited and self._paused_until == -math.inf:
            await trio.lowlevel.checkpoint()
            return 0.0
        began = trio.current_time()
        async with self._turn:
            while True:
                now = trio.current_time()
                ready = max(self._paused_until, self._last_start + self._interval)
                if now >= ready:
                    break
                await trio.sleep_until(ready)
            self._last_start = now
        waited = now - began
        if waited > NOTICEABLE_S:
            self.waits += 1
            self.waited_s += waited
        return waited

    def pause(self, seconds: float) -> None:
        """No request starts for ``seconds`` from now (the venue said we went too fast)."""
        self._paused_until = max(self._paused_until, trio.current_time() + seconds)
