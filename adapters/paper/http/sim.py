"""SimGmo: a PaperVenue served as GMO Coin's REST API, with a control surface for tests.

One object holds the venue, the HTTP-side state (market status, latency, rate limiter, scripted
faults, position ids) and the ASGI app (``sim.app``). Drive it with these methods in the same
process, or over HTTP with the ``/sim/...`` endpoints (:mod:`.control`) from another one. Everything
runs on one trio thread, so a request's venue work is never interleaved with another's.
Change prices through :meth:`SimGmo.set_price` (not the venue directly) so the ticker's high/low
follow.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from adapters.paper.http.app import build_app
from adapters.paper.http.faults import DropMode, FaultScript, SimFault
from adapters.paper.http.positions import PositionBook, SimPosition
from adapters.paper.http.ratelimit import RateLimiter
from adapters.paper.http.replies import Holds
from adapters.paper.http.settings import SimSettings
from adapters.paper.http.wire import GmoError, from_broker_error
from adapters.paper.venue import PaperVenue
from hexexec.domain.errors import BrokerError
from hexexec.domain.fills import Fill
from hexexec.domain.orders import OrderIntent
from hexexec.domain.signal import OrderType
from hexexec.domain.symbols import is_leverage

MarketStatus = Literal["OPEN", "PREOPEN", "MAINTENANCE"]
STATUSES: frozenset[str] = frozenset({"OPEN", "PREOPEN", "MAINTENANCE"})
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


class SimGmo:
    """The simulated GMO Coin over ``venue``; ``now`` is the server's wall clock (timestamps,
    the API-TIMESTAMP window), ``monotonic`` the rate limiter's clock (seconds)."""

    def __init__(
        self,
        venue: PaperVenue,
        settings: SimSettings | None = None,
        *,
        now: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.venue = venue
        self.settings = settings or SimSettings()
        self.now = now
        self.rules = venue.symbol_rules()
        self.limiter = RateLimiter(
            self.settings.get_per_s, self.settings.post_per_s, monotonic=monotonic
        )
        self.faults = FaultScript()
        self.holds = Holds()  # requests held unanswered right now (timeout / withheld reply)
        self.requests: Counter[str] = Counter()  # "GET /v1/orders" → requests received
        self.positions = PositionBook(is_leverage)
        self.latency_s = self.settings.latency_s
        self.losscut: dict[str, Decimal] = {}  # order id -> losscutPrice (kept, not enforced)
        self._status: MarketStatus = "OPEN"
        self._range: dict[str, tuple[Decimal, Decimal]] = {}  # symbol -> (high, low)
        self.app = build_app(self)

    @property
    def exchange(self) -> str:
        return self.venue.settings.exchange

    # ---- control ---------------------------------------------------------------------------

    def set_price(self, symbol: str, price: Decimal | str) -> None:
        """Move the market price of ``symbol``; resting orders it crosses fill."""
        value = Decimal(price)
        self.venue.set_price(symbol, value)
        high, low = self._range.get(symbol, (value, value))
        self._range[symbol] = (max(high, value), min(low, value))

    def set_prices(self, prices: Mapping[str, Decimal | str]) -> None:
        for symbol, price in prices.items():
            self.set_price(symbol, price)

    def price_range(self, symbol: str, last: Decimal) -> tuple[Decimal, Decimal]:
        """High and low seen since start (including ``last``)."""
        high, low = self._range.get(symbol, (last, last))
        return max(high, last), min(low, last)

    @property
    def status(self) -> MarketStatus:
        """What ``/v1/status`` says; MAINTENANCE whenever the venue is in maintenance."""
        return "MAINTENANCE" if self.venue.maintenance else self._status

    def set_status(self, status: str) -> None:
        """OPEN, PREOPEN (orders get ERR-5203) or MAINTENANCE (everything gets ERR-5201)."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {sorted(STATUSES)}, not {status!r}")
        self._status = "OPEN" if status == "MAINTENANCE" else status  # type: ignore[assignment]
        self.venue.set_maintenance(status == "MAINTENANCE")

    def set_maintenance(self, on: bool) -> None:
        self.set_status("MAINTENANCE" if on else "OPEN")

    def set_latency(self, seconds: float) -> None:
        """Latency added to every request from now on (half before the venue acts, half after)."""
        if seconds < 0:
            raise ValueError("latency must not be negative")
        self.latency_s = seconds

    def set_rate_limits(self, get_per_s: float | None, post_per_s: float | None) -> None:
        self.limiter.configure(get_per_s, post_per_s)

    def inject(self, fault: SimFault) -> None:
        self.faults.add(fault)

    def delay_next(self, seconds: float, path: str | None = None, count: int = 1) -> None:
        self.inject(SimFault("latency", path=path, delay_s=seconds, count=count))

    def timeout_next(self, path: str | None = None, count: int = 1) -> None:
        """Hold the next request(s) unanswered; the venue never sees them."""
        self.inject(SimFault("timeout", path=path, count=count))

    def http_error_next(
        self, status: int = 503, path: str | None = None, *, after: bool = False, count: int = 1
    ) -> None:
        """Answer an HTTP 5xx page (``after``: once the venue has acted)."""
        self.inject(SimFault("http_error", path=path, http_status=status, after=after, count=count))

    def drop_next_reply(self, path: str = "/v1/order", mode: DropMode = "hold", count: int = 1) -> None:
        """Let the venue act on the next request to ``path``, then lose the reply."""
        self.inject(SimFault("drop_reply", path=path, mode=mode, count=count))

    def error_next(self, code: str, path: str | None = None, *, status: int = 1, count: int = 1) -> None:
        """Answer a GMO error envelope with ``code`` without acting."""
        self.inject(SimFault("error", path=path, code=code, status=status, count=count))

    def clear_faults(self) -> None:
        self.faults.clear()

    # ---- used by the handlers ----------------------------------------------------------------

    def now_ms(self) -> int:
        return (self.now() - EPOCH) // timedelta(milliseconds=1)

    def place(self, intent: OrderIntent, *, losscut: Decimal | None = None) -> str:
        """Send an order to the venue (after the price band); the new order id."""
        band = self.settings.price_band
        market = self.venue.market_price(intent.symbol)
        if band is not None and market is not None and intent.order_type is OrderType.LIMIT:
            assert intent.price is not None  # parsed: a LIMIT order has a price
            if abs(intent.price - market) > market * band:
                raise GmoError("ERR-5121", f"The price {intent.price} is too far from the market.")
        try:
            order_id = self.venue.place(intent)
        except BrokerError as error:
            raise from_broker_error(error) from error
        if losscut is not None:
            self.losscut[order_id] = losscut
        return order_id

    def see_fills(self, fills: Iterable[Fill]) -> None:
        """Make sure the position book has seen these fills (it syncs only when one is new)."""
        if any(not self.positions.knows(f) for f in fills):
            self.positions.sync(self.venue.all_fills)

    def fills_by_id(self, execution_ids: Iterable[str]) -> Sequence[Fill]:
        self.positions.sync(self.venue.all_fills)
        found = (self.positions.fill(i) for i in execution_ids)
        return [f for f in found if f is not None]

    def open_positions(self, symbol: str | None = None) -> Iterator[SimPosition]:
        self.positions.sync(self.venue.all_fills)
        return self.positions.open_positions(symbol)

    def position(self, position_id: int) -> SimPosition | None:
        self.positions.sync(self.venue.all_fills)
        return self.positions.get(position_id)
