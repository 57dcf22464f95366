"""The matching engine of the simulated venue: orders against a per-symbol market price.

There is no order book of other traders: the market is one price per symbol, set by a feed or a
test. An arriving order that reaches it *takes* at once (slippage, taker fee); the rest *rests*
and fills only when a later price crosses its limit (at the limit price, maker fee). Liquidity is
limited per match (settings), so a large order can fill in chunks across several price updates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from adapters.paper.ledger import Ledger
from adapters.paper.pricing import capped_at_limit, chunk_cap, crosses, fee, taking_price
from adapters.paper.records import OrderRecord
from adapters.paper.settings import VenueSettings
from hexexec.domain.fills import Fill
from hexexec.domain.order_status import VenueStatus
from hexexec.domain.orders import SettleType
from hexexec.domain.signal import OrderType, TimeInForce
from hexexec.domain.symbols import SymbolRules

EXPIRED = VenueStatus.EXPIRED


class MatchingEngine:
    """Holds every order and fill, the market prices and the ledger; fills orders by the rules."""

    def __init__(
        self,
        rules: Mapping[str, SymbolRules],
        settings: VenueSettings,
        ledger: Ledger,
        now: Callable[[], datetime],
    ) -> None:
        self.rules = rules
        self.settings = settings
        self.ledger = ledger
        self.now = now
        self.prices: dict[str, Decimal] = {}
        self.orders: dict[str, OrderRecord] = {}  # every order ever accepted, in id order
        self.fills: list[Fill] = []  # every fill, in execution order
        self.fills_by_symbol: dict[str, list[Fill]] = {}
        self._resting: dict[str, dict[str, OrderRecord]] = {}  # symbol -> live orders, oldest first
        self._cancelling: dict[str, OrderRecord] = {}
        self._next_execution = 1

    def live(self, symbol: str | None = None) -> Iterator[OrderRecord]:
        """Orders still working, oldest first (one symbol, or all)."""
        books = [self._resting.get(symbol, {})] if symbol is not None else self._resting.values()
        for book in books:
            yield from book.values()

    def accept(self, order: OrderRecord) -> None:
        self.orders[order.order_id] = order

    def take(self, order: OrderRecord) -> None:
        """An arriving order: trade what it can now, then rest or expire by its time in force."""
        intent, tif, rules = order.intent, order.time_in_force, self.rules[order.symbol]
        market = self.prices.get(order.symbol)
        if intent.order_type is OrderType.MARKET:
            if market is None:  # nothing to trade against: a FAK with no fill
                self.end(order, EXPIRED, "EXPIRED_FAK")
                return
            price = taking_price(market, intent.side, rules, self.settings)
        else:
            assert intent.price is not None  # validated: a LIMIT order has a price
            if market is None or not crosses(intent.price, market, intent.side, inclusive=True):
                if tif in (TimeInForce.FAK, TimeInForce.FOK):
                    self.end(order, EXPIRED, f"EXPIRED_{tif.value}")
                else:
                    self._rest(order)
                return
            if tif is TimeInForce.SOK:  # post-only that would take: expired, never repriced
                self.end(order, EXPIRED, "EXPIRED_SOK")
                return
            taken = taking_price(market, intent.side, rules, self.settings)
            price = capped_at_limit(taken, intent.price, intent.side)
        size = min(order.remaining, chunk_cap(intent.size, rules, self.settings))
        if tif is TimeInForce.FOK and size < order.remaining:
            self.end(order, EXPIRED, "EXPIRED_FOK")
            return
        self._fill(order, price, size, rules.taker_fee)
        if order.remaining == 0:
            return
        if tif is TimeInForce.FAS:
            self._rest(order)
        else:
            self.end(order, EXPIRED, "EXPIRED_FAK")

    def set_price(self, symbol: str, price: Decimal, *, match: bool = True) -> None:
        """A new market price; resting orders it crosses fill (unless matching is paused)."""
        self.prices[symbol] = price
        if match:
            self.rematch(symbol)

    def rematch(self, symbol: str) -> None:
        """Fill the resting orders of ``symbol`` that the current price crosses, oldest first."""
        market = self.prices.get(symbol)
        if market is None:
            return
        rules = self.rules[symbol]
        for order in list(self._resting.get(symbol, {}).values()):
            limit = order.intent.price
            assert limit is not None  # only LIMIT orders rest
            if crosses(limit, market, order.intent.side, inclusive=self.settings.fill_on_touch):
                size = min(order.remaining, chunk_cap(order.intent.size, rules, self.settings))
                self._fill(order, limit, size, rules.maker_fee)

    def request_cancel(self, order: OrderRecord, delay: timedelta | None) -> None:
        """Cancel at once, or go through CANCELLING (still fillable) until the delay has passed."""
        if delay is None:
            self.end(order, VenueStatus.CANCELED, "USER")
            return
        order.status = VenueStatus.CANCELLING
        order.cancel_type = "USER"
        order.cancel_due = self.now() + delay
        self._cancelling[order.order_id] = order

    def finish_cancels(self) -> None:
        """CANCELLING orders whose delay has passed become CANCELED."""
        now = self.now()
        for order in list(self._cancelling.values()):
            if order.cancel_due is not None and order.cancel_due <= now:
                self.end(order, VenueStatus.CANCELED, "USER")

    def end(self, order: OrderRecord, status: VenueStatus, cancel_type: str | None) -> None:
        order.ended(status, cancel_type)
        self._resting.get(order.symbol, {}).pop(order.order_id, None)
        self._cancelling.pop(order.order_id, None)

    def _rest(self, order: OrderRecord) -> None:
        order.status = VenueStatus.ORDERED
        self._resting.setdefault(order.symbol, {})[order.order_id] = order

    def _fill(self, order: OrderRecord, price: Decimal, size: Decimal, rate: Decimal) -> None:
        intent, rules = order.intent, self.rules[order.symbol]
        amount = fee(price, size, rate, self.settings)
        loss_gain: Decimal | None = None
        if not rules.leverage:
            self.ledger.spot(order.symbol, intent.side, price, size, amount)
        elif intent.settle_type is SettleType.CLOSE:
            loss_gain = self.ledger.close(order.symbol, intent.side, price, size)
        else:
            self.ledger.open(order.symbol, intent.side, price, size)
        fill = Fill(
            execution_id=str(self._next_execution),
            order_id=order.order_id,
            exchange=self.settings.exchange,
            symbol=order.symbol,
            side=intent.side,
            settle_type=order.settle_type,
            price=price,
            size=size,
            fee=amount,
            timestamp=self.now(),
            loss_gain=loss_gain,
        )
        self._next_execution += 1
        order.fills.append(fill)
        order.executed += size
        self.fills.append(fill)
        self.fills_by_symbol.setdefault(order.symbol, []).append(fill)
        if order.remaining == 0:
            self.end(order, VenueStatus.EXECUTED, None)
