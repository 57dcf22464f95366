"""GmoMarketData: the MarketData port from GMO's public ticker, cached.

:meth:`GmoMarketData.run` refreshes the cache every ``refresh_s`` with one
``GET /public/v1/ticker`` (all symbols); :meth:`last_price` only reads the cache, so the decision
path never waits on the network. A failed refresh keeps the last known prices and is retried at
the next tick (with a longer pause when the venue asks for one).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

import structlog
import trio

from adapters.gmo.client import (
    DEFAULT_RATES,
    DEFAULT_TIMEOUTS,
    GmoClient,
    HttpTimeouts,
    RateLimits,
)
from adapters.gmo.schemas import WireTicker, structure_list
from adapters.gmo.wire import WireError
from hexexec.domain.errors import BrokerError, BrokerUnavailable

log = structlog.get_logger("hexexec.gmo")


class GmoMarketData:
    """Latest trade prices of ``symbols`` (None: every symbol the ticker lists)."""

    def __init__(self, client: GmoClient, symbols: Iterable[str] | None = None, *,
                 refresh_s: float = 1.0, max_pause_s: float = 30.0) -> None:
        if refresh_s <= 0 or max_pause_s <= 0:
            raise ValueError("refresh_s and max_pause_s must be positive")
        self.client = client
        self.symbols = None if symbols is None else frozenset(symbols)
        self.refresh_s = refresh_s
        self.max_pause_s = max_pause_s  # the longest a "come back later" hint is followed
        self._prices: dict[str, tuple[Decimal, datetime]] = {}
        self.failures = 0

    @classmethod
    @asynccontextmanager
    async def open(cls, base_url: str, symbols: Iterable[str] | None = None, *,
                   refresh_s: float = 1.0, max_pause_s: float = 30.0,
                   timeouts: HttpTimeouts = DEFAULT_TIMEOUTS, rates: RateLimits = DEFAULT_RATES,
                   **http: Any) -> AsyncIterator[GmoMarketData]:
        """Market data kept fresh by a background task for the block's duration (public API
        only: no credentials). Entered once the first refresh has been tried."""
        async with GmoClient.open(base_url, timeouts=timeouts, rates=rates, **http) as client:
            market = cls(client, symbols, refresh_s=refresh_s, max_pause_s=max_pause_s)
            async with trio.open_nursery() as nursery:
                await nursery.start(market.run)
                yield market
                nursery.cancel_scope.cancel()

    def __repr__(self) -> str:
        return f"GmoMarketData(symbols={sorted(self.symbols or [])!r}, refresh_s={self.refresh_s})"

    async def last_price(self, symbol: str) -> Decimal | None:
        await trio.lowlevel.checkpoint()
        known = self._prices.get(symbol)
        return None if known is None else known[0]

    def as_of(self, symbol: str) -> datetime | None:
        """The venue's time of the cached price of ``symbol``."""
        known = self._prices.get(symbol)
        return None if known is None else known[1]

    async def refresh(self) -> None:
        """One ticker call into the cache; raises the call's ``BrokerError``."""
        data = await self.client.public("/v1/ticker")
        try:
            tickers = structure_list(data, WireTicker)
        except WireError as exc:
            raise BrokerUnavailable("HX-TICKER", f"unreadable ticker: {exc}") from None
        for t in tickers:
            if (self.symbols is None or t.symbol in self.symbols) and t.last > 0:
                self._prices[t.symbol] = (t.last, t.timestamp)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Refresh forever. ``started()`` after the first attempt, successful or not."""
        started = False
        while True:
            pause = self.refresh_s
            try:
                await self.refresh()
            except BrokerError as exc:
                self.failures += 1
                if isinstance(exc, BrokerUnavailable):
                    pause = max(pause, min(exc.retry_after, self.max_pause_s))
                log.warning("gmo ticker refresh failed", error=str(exc), retry_in_s=pause)
            if not started:
                task_status.started()
                started = True
            await trio.sleep(pause)
