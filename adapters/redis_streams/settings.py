"""RedisSourceSettings: the knobs of the Redis signal source, with safe defaults."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class RedisSourceSettings:
    """How the source talks to Redis. Every wait is bounded by one of these.

    ``block_ms``: how long one read waits for new entries (XREADGROUP BLOCK).
    ``socket_timeout_s`` / ``connect_timeout_s``: redis-py's socket timeouts; a blocking read's
    socket timeout is ``socket_timeout_s`` plus ``block_ms``.
    ``claim_min_idle_ms``: the janitor claims entries pending longer than this with another
    consumer (it died or hangs); ``claim_interval_s`` paces it, ``claim_count`` bounds one pass.
    ``discover_interval_s``: how often glob patterns such as ``signal:*`` are resolved again.
    ``backoff_initial_s`` / ``backoff_max_s``: reconnect backoff while Redis is away.
    ``page_size``: COUNT for SCAN and for XPENDING pages.
    """

    block_ms: int = 1000
    socket_timeout_s: float = 5.0
    connect_timeout_s: float = 5.0
    claim_min_idle_ms: int = 60_000
    claim_interval_s: float = 10.0
    claim_count: int = 100
    discover_interval_s: float = 30.0
    backoff_initial_s: float = 0.05
    backoff_max_s: float = 5.0
    page_size: int = 100

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            # block 0 would mean "forever" to Redis; claim idle 0 would steal live work.
            if value <= 0:
                raise ValueError(f"{f.name} must be positive, got {value!r}")
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("backoff_max_s must be at least backoff_initial_s")

    @property
    def call_timeout_s(self) -> float:
        """The deadline of one command: connecting, sending and reading the reply."""
        return self.connect_timeout_s + self.socket_timeout_s

    @property
    def blocking_timeout_s(self) -> float:
        """The deadline of one blocking read: the block itself plus an ordinary call."""
        return self.block_ms / 1000 + self.call_timeout_s
