"""MarketData: the latest known price of a symbol (GMO's ticker, or signals' reference prices)."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol


class MarketData(Protocol):
    async def last_price(self, symbol: str) -> Decimal | None:
        """The latest known price, or None when nothing is known yet."""
        ...
