"""MemoryMarketData: the MarketData port over a dict of prices that tests (or a feed) set."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import trio


class MemoryMarketData:
    """Latest prices per symbol, set with :meth:`set_price`."""

    def __init__(self, prices: Mapping[str, Decimal] | None = None) -> None:
        self._prices: dict[str, Decimal] = {}
        for symbol, price in (prices or {}).items():
            self.set_price(symbol, price)

    def set_price(self, symbol: str, price: Decimal) -> None:
        if not isinstance(price, Decimal) or not price.is_finite() or price <= 0:
            raise ValueError(f"price of {symbol} must be a positive finite Decimal, not {price!r}")
        self._prices[symbol] = price

    def forget(self, symbol: str) -> None:
        """Back to "nothing known" for ``symbol``."""
        self._prices.pop(symbol, None)

    async def last_price(self, symbol: str) -> Decimal | None:
        await trio.lowlevel.checkpoint()
        return self._prices.get(symbol)
