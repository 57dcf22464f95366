"""How the simulated GMO server behaves on the wire: credentials, clock windows, rate limits.

The venue's own behaviour (slippage, fills, fees, funds) is :class:`VenueSettings`; these are the
HTTP-side settings of :class:`~adapters.paper.http.sim.SimGmo`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

DEFAULT_KEY = "sim-key-DO-NOT-USE"
DEFAULT_SECRET = "sim-secret-DO-NOT-USE"  # a made-up secret for a simulator, never a real one


@dataclass(frozen=True, slots=True)
class SimSettings:
    """Settings of the simulated GMO server.

    - ``credentials``: API key -> secret. Secrets are kept out of ``repr``.
    - ``stale_after_ms`` / ``ahead_after_ms``: an ``API-TIMESTAMP`` more than this behind the
      server's clock is ERR-5008, more than this ahead ERR-5009 (GMO documents no window).
    - ``get_per_s`` / ``post_per_s``: private requests per second per key (token buckets holding
      one second's worth); ``None`` switches the limit off (benchmarks). ERR-5003 beyond.
    - ``latency_s``: added to every public and private request, half before the venue acts and
      half after (changeable at run time). The first half is spent before the request is
      checked, so like network delay it counts against the API-TIMESTAMP window.
    - ``hold_s``: the longest a held request (timeout fault, withheld reply) is kept before the
      server closes the connection, if the client has not given up first.
    - ``price_band``: a LIMIT price further than this fraction from the market price is ERR-5121
      (None: no band). GMO refused a bid at 50% of the market and accepted 90%.
    - ``leverage``: the leverage reported on positions (margin is sized with it).
    """

    credentials: Mapping[str, str] = field(
        default_factory=lambda: {DEFAULT_KEY: DEFAULT_SECRET}, repr=False
    )
    stale_after_ms: int = 5_000
    ahead_after_ms: int = 5_000
    get_per_s: float | None = 20.0
    post_per_s: float | None = 20.0
    latency_s: float = 0.0
    hold_s: float = 30.0
    price_band: Decimal | None = None
    leverage: Decimal = Decimal("2")

    def __post_init__(self) -> None:
        if not self.credentials:
            raise ValueError("at least one API key is needed")
        if any(not key or not secret for key, secret in self.credentials.items()):
            raise ValueError("API keys and secrets must not be empty")
        if self.stale_after_ms < 0 or self.ahead_after_ms < 0:
            raise ValueError("timestamp windows must not be negative")
        for name in ("get_per_s", "post_per_s"):
            rate = getattr(self, name)
            if rate is not None and rate <= 0:
                raise ValueError(f"{name} must be positive (or None for no limit)")
        if self.latency_s < 0 or self.hold_s < 0:
            raise ValueError("latency_s and hold_s must not be negative")
        if self.price_band is not None and self.price_band <= 0:
            raise ValueError("price_band must be positive (or None)")
        if self.leverage <= 0:
            raise ValueError("leverage must be positive")
