"""PaperMarketData: the MarketData port answered from the simulated venue's market prices."""

from __future__ import annotations

from decimal import Decimal

import trio

from adapters.paper.venue import PaperVenue


class PaperMarketData:
    """Implements :class:`ports.market_data.MarketData`: the price the venue matches against."""

    def __init__(self, venue: PaperVenue) -> None:
        self.venue = venue

    async def last_price(self, symbol: str) -> Decimal | None:
        await trio.lowlevel.checkpoint()
        return self.venue.market_price(symbol)
