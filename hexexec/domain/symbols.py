"""Symbols and their trading rules (GMO's /v1/symbols), with exact Decimal rounding."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext


def _exact_for(value: Decimal, unit: Decimal) -> AbstractContextManager[Context]:
    """A context with digits enough that dividing ``value`` by ``unit`` and rounding is exact.

    The default 28 digits would round a 30-digit size such as 0.000999…9 *up* to a step.
    """
    last_place = min(d.adjusted() - len(d.as_tuple().digits) + 1 for d in (value, unit))
    digits = value.adjusted() - last_place + 2
    return localcontext(prec=max(28, digits))


def is_leverage(symbol: str) -> bool:
    """GMO's rule of thumb: ``X_JPY`` is a leverage (margin) symbol, ``X`` is spot."""
    return symbol.endswith("_JPY")


@dataclass(frozen=True, slots=True)
class SymbolRules:
    """Trading rules of one symbol: order size bounds, size step, price tick and fees.

    Fees are rates (0.0005 = 0.05 %); a negative maker fee is a rebate.
    """

    symbol: str
    min_order_size: Decimal
    max_order_size: Decimal
    size_step: Decimal
    tick_size: Decimal
    taker_fee: Decimal = Decimal("0")
    maker_fee: Decimal = Decimal("0")

    def __post_init__(self) -> None:
        for name in ("min_order_size", "max_order_size", "size_step", "tick_size"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
                raise ValueError(f"{self.symbol}: {name} must be a positive Decimal, got {value!r}")
        if self.min_order_size > self.max_order_size:
            raise ValueError(f"{self.symbol}: min_order_size exceeds max_order_size")

    @property
    def leverage(self) -> bool:
        return is_leverage(self.symbol)

    def round_size(self, size: Decimal) -> Decimal:
        """Round a size *down* to the size step: never trade more than asked."""
        with _exact_for(size, self.size_step):
            steps = size // self.size_step
            return (steps * self.size_step).quantize(self.size_step)

    def round_price(self, price: Decimal) -> Decimal:
        """Round a price to the nearest tick (half to even)."""
        # Rounding once, exactly: a quotient rounded to 28 digits first could then round to the
        # farther tick (1.4999…9 with 29 nines became 2).
        with _exact_for(price, self.tick_size):
            ticks, rest = divmod(price, self.tick_size)
            half = self.tick_size / 2
            if rest > half or (rest == half and ticks % 2 == 1):
                ticks += 1
            return (ticks * self.tick_size).quantize(self.tick_size)

    def size_problem(self, size: Decimal) -> str | None:
        """Why this (already rounded) size cannot be ordered, or None when it can."""
        if size < self.min_order_size:
            return f"size {size} below the minimum {self.min_order_size} of {self.symbol}"
        if size > self.max_order_size:
            return f"size {size} above the maximum {self.max_order_size} of {self.symbol}"
        return None


def default_rules(symbol: str) -> SymbolRules:
    """Conservative rules for a symbol when the venue has not told us (tests, the paper demo).

    Figures follow GMO's published table for BTC / BTC_JPY; other symbols get the same shape.
    """
    if is_leverage(symbol):
        return SymbolRules(symbol, Decimal("0.001"), Decimal("5"), Decimal("0.001"), Decimal("1"))
    return SymbolRules(
        symbol,
        Decimal("0.0001"),
        Decimal("5"),
        Decimal("0.0001"),
        Decimal("1"),
        taker_fee=Decimal("0.0005"),
        maker_fee=Decimal("-0.0001"),
    )
