"""PaperVenue: a simulated GMO Coin, as a plain synchronous state machine speaking domain types.

It answers the calls a broker makes (place, cancel, orders, fills, active orders, latest fills,
positions, symbol rules) with GMO's semantics and error codes, and exposes a small control surface
(market prices, maintenance) plus a full record of every order and fill for tests. No I/O and no
trio: the in-process :class:`~adapters.paper.broker.PaperBroker` wraps it with latency and faults,
and an HTTP server can wrap it to speak GMO's wire format. Not thread-safe: one caller at a time.

Choices where GMO leaves room (documented here, relied on by tests):
- Order ids and execution ids are strings of increasing integers.
- A MARKET order with no market price known is accepted and EXPIRED with nothing filled
  (``EXPIRED_FAK``), as a FAK order meets an empty book.
- Spot orders report settle type OPEN (GMO's way), even when sent to reduce a holding.
- Leverage positions are kept per side (a BUY and a SELL position can coexist, as on GMO);
  ``positions`` reports the net per symbol.
- Maintenance: every call raises ``BrokerUnavailable("ERR-5201")``; prices still move, but nothing
  matches until maintenance ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from adapters.paper.engine import MatchingEngine
from adapters.paper.funds import check_funds
from adapters.paper.ledger import ZERO, Ledger
from adapters.paper.records import OrderRecord
from adapters.paper.settings import VenueSettings
from adapters.paper.validation import check_intent
from hexexec.domain.errors import (
    BrokerRejected,
    BrokerUnavailable,
    OrderNotCancellable,
    OrderNotFound,
)
from hexexec.domain.fills import Fill
from hexexec.domain.order_status import VenueStatus
from hexexec.domain.orders import OrderIntent, SettleType
from hexexec.domain.signal import OrderType
from hexexec.domain.symbols import SymbolRules, default_rules
from hexexec.domain.venue import VenueOrder, VenuePosition


def utc_now() -> datetime:
    return datetime.now(UTC)


class PaperVenue:
    """A simulated GMO venue over ``rules`` (symbol -> trading rules)."""

    def __init__(
        self,
        rules: Mapping[str, SymbolRules] | Iterable[SymbolRules],
        *,
        settings: VenueSettings | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        table = dict(rules) if isinstance(rules, Mapping) else {r.symbol: r for r in rules}
        if now().tzinfo is None:
            raise ValueError("the venue clock must give timezone-aware times")
        self.settings = settings or VenueSettings()
        self._now = now
        self._rules = table
        self._ledger = Ledger(self.settings.jpy_balance, self.settings.holdings)
        self._engine = MatchingEngine(table, self.settings, self._ledger, now)
        self._next_id = self.settings.first_order_id
        self._maintenance = False

    @classmethod
    def for_symbols(
        cls,
        symbols: Iterable[str],
        *,
        settings: VenueSettings | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> PaperVenue:
        """A venue listing ``symbols`` with :func:`default_rules` (GMO's published figures)."""
        return cls([default_rules(s) for s in symbols], settings=settings, now=now)

    # ---- control surface (a price feed, a test, an operator) -------------------------------

    def set_price(self, symbol: str, price: Decimal) -> None:
        """The market price of ``symbol`` moved to ``price``; resting orders it crosses fill."""
        if symbol not in self._rules:
            raise ValueError(f"unknown symbol {symbol!r}")
        if not price.is_finite() or price <= 0:
            raise ValueError(f"price must be a positive Decimal, got {price!r}")
        self._engine.finish_cancels()
        self._engine.set_price(symbol, price, match=not self._maintenance)

    def list_symbol(self, rules: SymbolRules) -> None:
        """Start listing a symbol (or replace its rules): a restarted paper worker may trade more."""
        self._rules[rules.symbol] = rules  # the matching engine shares this table

    def market_price(self, symbol: str) -> Decimal | None:
        return self._engine.prices.get(symbol)

    @property
    def maintenance(self) -> bool:
        return self._maintenance

    def set_maintenance(self, on: bool) -> None:
        """Enter or leave maintenance; on leaving, resting orders meet the prices that moved."""
        self._maintenance = on
        if not on:
            self._engine.finish_cancels()
            for symbol in list(self._engine.prices):
                self._engine.rematch(symbol)

    # ---- the broker's calls -----------------------------------------------------------------

    def place(self, intent: OrderIntent) -> str:
        """Accept an order (OPEN: ``/v1/order``; CLOSE on leverage: ``/v1/closeBulkOrder``) and
        match it at once. Returns the new order id; raises ``BrokerRejected`` when refused."""
        self._gate()
        rules = self._rules_of(intent.symbol)
        if intent.exchange != self.settings.exchange:
            raise BrokerRejected("ERR-5106", f"unknown exchange {intent.exchange!r}")
        tif = check_intent(intent, rules)
        check_funds(self._engine, intent)
        settle = intent.settle_type if rules.leverage else SettleType.OPEN
        order = OrderRecord(str(self._next_id), intent, settle, tif, self._now())
        self._next_id += 1
        self._engine.accept(order)
        if self.settings.follow_order_prices and intent.order_type is OrderType.LIMIT:
            assert intent.price is not None  # validated
            self._engine.set_price(intent.symbol, intent.price)
        self._engine.take(order)
        return order.order_id

    def cancel(self, order_id: str) -> None:
        """Cancel a live order; ERR-5122 when it is ending or ended, ERR-5123 when unknown."""
        self._gate()
        order = self._engine.orders.get(order_id)
        if order is None:
            raise OrderNotFound(f"ERR-5123: order {order_id} does not exist")
        if order.status not in (VenueStatus.WAITING, VenueStatus.ORDERED):
            raise OrderNotCancellable(f"ERR-5122: order {order_id} is {order.status.value}")
        self._engine.request_cancel(order, self.settings.cancel_delay)

    def orders(self, order_ids: Sequence[str]) -> list[VenueOrder]:
        """These orders as they stand now, in the order asked; unknown ids are left out."""
        self._gate()
        found = (self._engine.orders.get(i) for i in order_ids)
        return [o.view() for o in found if o is not None]

    def fills(self, order_id: str) -> list[Fill]:
        """Every fill of one order, oldest first (none for an unknown order)."""
        self._gate()
        order = self._engine.orders.get(order_id)
        return [] if order is None else list(order.fills)

    def active_orders(self, symbol: str) -> list[VenueOrder]:
        """Orders of ``symbol`` still working, oldest first."""
        self._gate()
        self._rules_of(symbol)
        return [o.view() for o in self._engine.live(symbol)]

    def latest_fills(self, symbol: str, limit: int | None = None) -> list[Fill]:
        """Fills of ``symbol`` within the latest window (GMO: one day), newest first; only the
        newest ``limit`` when given (so a page costs the same however many fills the day holds)."""
        self._gate()
        self._rules_of(symbol)
        since = self._now() - self.settings.latest_window
        out: list[Fill] = []
        for fill in reversed(self._engine.fills_by_symbol.get(symbol, [])):
            if fill.timestamp < since or (limit is not None and len(out) >= limit):
                break
            out.append(fill)
        return out

    def positions(self) -> list[VenuePosition]:
        """Net leverage positions and non-zero spot holdings, one per symbol."""
        self._gate()
        out: list[VenuePosition] = []
        for symbol in self._ledger.leverage_symbols():
            net = self._ledger.net(symbol)
            if net is not None:
                out.append(VenuePosition(symbol, net[0], net[1]))
        for asset, amount in sorted(self._ledger.holdings.items()):
            if amount != 0 and asset in self._rules:
                out.append(VenuePosition(asset, amount, None))
        return out

    def symbol_rules(self) -> dict[str, SymbolRules]:
        self._gate()
        return dict(self._rules)

    # ---- inspection (tests, crash checks): never gated -----------------------------------------

    def all_orders(self) -> list[VenueOrder]:
        """Every order the venue ever accepted, in id order."""
        return [o.view() for o in self._engine.orders.values()]

    def all_fills(self) -> list[Fill]:
        """Every fill, in execution order."""
        return list(self._engine.fills)

    def cancel_type(self, order_id: str) -> str | None:
        """GMO's cancelType of an order (USER, EXPIRED_FAK, EXPIRED_FOK, EXPIRED_SOK) or None."""
        order = self._engine.orders.get(order_id)
        return None if order is None else order.cancel_type

    def balance(self, asset: str) -> Decimal:
        """Spot balance of ``asset`` ("JPY" for cash)."""
        if asset == "JPY":
            return self._ledger.jpy
        return self._ledger.holdings.get(asset, ZERO)

    # ---- internals ----------------------------------------------------------------------------

    def _gate(self) -> None:
        if self._maintenance:
            raise BrokerUnavailable("ERR-5201", "MAINTENANCE. Please wait for a while", 60.0)
        self._engine.finish_cancels()

    def _rules_of(self, symbol: str) -> SymbolRules:
        rules = self._rules.get(symbol)
        if rules is None:
            raise BrokerRejected("ERR-5106", f"unknown symbol {symbol!r}")
        return rules
