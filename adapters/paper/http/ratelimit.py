"""Per-key token buckets for GMO's private REST limits: GET and POST are separate budgets (§7).

A bucket holds one second's worth of requests and refills continuously, so a burst of ``rate``
requests passes and the next one in the same instant is refused with ERR-5003. A refused request
takes no token. The clock is injected (seconds, monotonic) so tests can drive it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from adapters.paper.http.wire import GmoError

# Float time differences lose a little (100.05 - 100.0 is 0.0499...): exactly one interval's
# wait must still buy a request.
EPSILON = 1e-9


@dataclass(slots=True)
class TokenBucket:
    """``rate`` tokens per second, at most ``rate`` held."""

    rate: float
    tokens: float
    updated: float

    def take(self, now: float) -> bool:
        """Take one token if there is one; a clock that steps back refills nothing."""
        self.tokens = min(self.rate, self.tokens + max(0.0, now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0 - EPSILON:
            self.tokens = max(0.0, self.tokens - 1.0)
            return True
        return False


class RateLimiter:
    """GMO's private limits per API key: ``get_per_s`` and ``post_per_s`` (None: unlimited)."""

    def __init__(
        self,
        get_per_s: float | None,
        post_per_s: float | None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._monotonic = monotonic
        self._rates: dict[str, float | None] = {}
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self.configure(get_per_s, post_per_s)

    def configure(self, get_per_s: float | None, post_per_s: float | None) -> None:
        """Change the limits; every bucket starts full again."""
        for rate in (get_per_s, post_per_s):
            if rate is not None and rate <= 0:
                raise ValueError("a rate limit must be positive (or None for no limit)")
        self._rates = {"GET": get_per_s, "POST": post_per_s}
        self._buckets.clear()

    @property
    def rates(self) -> dict[str, float | None]:
        return dict(self._rates)

    def check(self, key: str, method: str) -> None:
        """Count one request of ``key``; ERR-5003 when its budget for ``method`` is spent."""
        kind = "POST" if method.upper() == "POST" else "GET"
        rate = self._rates[kind]
        if rate is None:
            return
        now = self._monotonic()
        bucket = self._buckets.get((key, kind))
        if bucket is None:
            bucket = self._buckets[(key, kind)] = TokenBucket(rate, rate, now)
        if not bucket.take(now):
            raise GmoError("ERR-5003")
