"""What the simulated account holds: leverage positions per side, spot balances and JPY.

Leverage (``X_JPY``): like GMO, a BUY position and a SELL position of one symbol are kept apart
(``POST /v1/order`` always opens; ``closeBulkOrder`` closes the opposite side). Each side has a size
and a weighted average price. A closing fill realizes
``loss_gain = (price − average) × size × direction`` (gross, before the fee), the same arithmetic as
:func:`hexexec.domain.accounting.apply_fill`, so our books can be checked against the venue's.
Margin is not modelled.

Spot: a BUY turns JPY into the base asset, a SELL the other way; the fee is paid in JPY.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from hexexec.domain.errors import BrokerRejected
from hexexec.domain.orders import Side

ZERO = Decimal("0")


@dataclass(slots=True)
class SideBook:
    """One side of a leverage symbol: BUY = long, SELL = short."""

    size: Decimal = ZERO
    average: Decimal = ZERO


class Ledger:
    """Positions and balances, with the funds checks GMO makes when an order arrives."""

    def __init__(self, jpy_balance: Decimal | None, holdings: Mapping[str, Decimal]) -> None:
        self.jpy_limited = jpy_balance is not None
        self.jpy = jpy_balance if jpy_balance is not None else ZERO
        self.holdings: dict[str, Decimal] = dict(holdings)
        self._books: dict[tuple[str, Side], SideBook] = {}

    def book(self, symbol: str, side: Side) -> SideBook:
        """The position of ``symbol`` on ``side`` (a flat book when there is none)."""
        return self._books.setdefault((symbol, side), SideBook())

    def check_close(self, symbol: str, closing_side: Side, size: Decimal, ordered: Decimal) -> None:
        """closeBulkOrder: the position opposite ``closing_side`` must cover ``size``.

        ``ordered`` is the size already under other live close orders of that position.
        """
        held = self.book(symbol, closing_side.opposite).size
        if held == 0:
            raise BrokerRejected("ERR-422", f"no {closing_side.opposite.value} position of {symbol}")
        if size > held:
            raise BrokerRejected("ERR-189", f"close size {size} exceeds the position {held}")
        if size > held - ordered:
            raise BrokerRejected(
                "ERR-200", f"close orders already cover {ordered} of the position {held}"
            )

    def check_spot_buy(self, cost: Decimal, reserved: Decimal) -> None:
        """A spot BUY needs its cost in JPY beyond what live buy orders already hold."""
        if self.jpy_limited and cost > self.jpy - reserved:
            raise BrokerRejected("ERR-201", f"insufficient JPY: need {cost}, free {self.jpy - reserved}")

    def check_spot_sell(self, asset: str, size: Decimal, reserved: Decimal) -> None:
        """A spot SELL needs the asset beyond what live sell orders already hold."""
        free = self.holdings.get(asset, ZERO) - reserved
        if size > free:
            raise BrokerRejected("ERR-208", f"size {size} exceeds the available {asset} {free}")

    def open(self, symbol: str, side: Side, price: Decimal, size: Decimal) -> None:
        """A leverage opening fill: grow that side and move its average by weight."""
        book = self.book(symbol, side)
        new_size = book.size + size
        book.average = (book.average * book.size + price * size) / new_size
        book.size = new_size

    def close(self, symbol: str, closing_side: Side, price: Decimal, size: Decimal) -> Decimal:
        """A leverage closing fill: shrink the opposite side; returns the realized loss_gain."""
        book = self.book(symbol, closing_side.opposite)
        if size > book.size:
            raise AssertionError(f"close of {size} exceeds the {symbol} position {book.size}")
        direction = closing_side.opposite.sign
        loss_gain = (price - book.average) * size * direction
        book.size -= size
        if book.size == 0:
            book.average = ZERO
        return loss_gain

    def spot(self, asset: str, side: Side, price: Decimal, size: Decimal, fee: Decimal) -> None:
        """A spot fill: move the asset and the JPY (fee included) the fill's way."""
        self.holdings[asset] = self.holdings.get(asset, ZERO) + side.sign * size
        self.jpy -= side.sign * price * size + fee

    def net(self, symbol: str) -> tuple[Decimal, Decimal | None] | None:
        """Net signed quantity of a leverage symbol and its average (None when both sides are
        open); None when the symbol holds no position at all."""
        long, short = self.book(symbol, Side.BUY), self.book(symbol, Side.SELL)
        if long.size == 0 and short.size == 0:
            return None
        if short.size == 0:
            return long.size, long.average
        if long.size == 0:
            return -short.size, short.average
        return long.size - short.size, None

    def leverage_symbols(self) -> list[str]:
        return sorted({symbol for symbol, _ in self._books})
