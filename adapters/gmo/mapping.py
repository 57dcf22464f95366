"""Domain ↔ GMO wire: order intents to request bodies, wire objects to domain values.

Which call an intent becomes (DESIGN §1): OPEN → ``POST /v1/order`` (spot buy/sell, leverage
open); CLOSE on a leverage symbol → ``POST /v1/closeBulkOrder`` with the closing side (it closes
across the positions of the opposite side); CLOSE on spot → ``POST /v1/order`` (a spot SELL).
Decimals go out as plain strings (``"0.01"``, never ``1E-2`` or a float).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from adapters.gmo.schemas import WireAsset, WireExecution, WireOrder, WirePositionSummary, WireSymbol
from adapters.gmo.wire import WireError
from hexexec.domain.fills import Fill
from hexexec.domain.orders import OrderIntent, SettleType, Side
from hexexec.domain.signal import OrderType, TimeInForce
from hexexec.domain.symbols import SymbolRules, is_leverage
from hexexec.domain.venue import VenueOrder, VenuePosition

ORDER_PATH = "/v1/order"
CLOSE_BULK_PATH = "/v1/closeBulkOrder"
NOT_OURS = frozenset({"STOP"})  # execution types we never send: such orders are someone else's


def decimal_text(value: Decimal) -> str:
    """``value`` as GMO wants it: plain notation, no exponent, no trailing fractional zeros."""
    if not value.is_finite():
        raise ValueError(f"not a finite decimal: {value!r}")
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def order_request(intent: OrderIntent) -> tuple[str, dict[str, str]]:
    """The path (``/v1/...``) and JSON body that send ``intent``."""
    if intent.size <= 0:
        raise ValueError(f"order size must be positive, got {intent.size}")
    closing_leverage = intent.settle_type is SettleType.CLOSE and is_leverage(intent.symbol)
    body = {
        "symbol": intent.symbol,
        "side": intent.side.value,
        "executionType": intent.order_type.value,
    }
    if intent.time_in_force is not None:
        body["timeInForce"] = intent.time_in_force.value
    if intent.order_type is OrderType.LIMIT:
        if intent.price is None or intent.price <= 0:
            raise ValueError("a LIMIT order needs a positive price")
        body["price"] = decimal_text(intent.price)
    body["size"] = decimal_text(intent.size)
    return (CLOSE_BULK_PATH if closing_leverage else ORDER_PATH), body


def _settle(value: str) -> SettleType:
    try:
        return SettleType(value)
    except ValueError:
        raise WireError(f"unknown settleType {value!r}") from None


def _time_in_force(value: str | None) -> TimeInForce | None:
    try:
        return None if value is None else TimeInForce(value)
    except ValueError:
        return None  # informative only; an unknown one does not make the order unreadable


def venue_order(wire: WireOrder) -> VenueOrder | None:
    """The order as the domain sees it; None for a kind we never send (STOP orders)."""
    if wire.executionType in NOT_OURS:
        return None
    try:
        order_type = OrderType(wire.executionType)
    except ValueError:
        raise WireError(f"unknown executionType {wire.executionType!r}") from None
    return VenueOrder(
        order_id=wire.orderId,
        symbol=wire.symbol,
        side=wire.side,
        settle_type=_settle(wire.settleType),
        order_type=order_type,
        price=None if order_type is OrderType.MARKET else wire.price,
        size=wire.size,
        executed_size=wire.executedSize,
        status=wire.status,
        timestamp=wire.timestamp,
        time_in_force=_time_in_force(wire.timeInForce),
    )


def venue_orders(wires: Iterable[WireOrder]) -> list[VenueOrder]:
    return [o for o in map(venue_order, wires) if o is not None]


def fill(wire: WireExecution, exchange: str) -> Fill:
    """One execution; ``loss_gain`` only for a closing leverage fill (GMO sends "0" otherwise)."""
    settle = _settle(wire.settleType)
    closing = settle is SettleType.CLOSE and is_leverage(wire.symbol)
    return Fill(
        execution_id=wire.executionId,
        order_id=wire.orderId,
        exchange=exchange,
        symbol=wire.symbol,
        side=wire.side,
        settle_type=settle,
        price=wire.price,
        size=wire.size,
        fee=wire.fee,
        timestamp=wire.timestamp,
        loss_gain=wire.lossGain if closing else None,
    )


def symbol_rules(wire: WireSymbol) -> SymbolRules:
    try:
        return SymbolRules(
            wire.symbol, wire.minOrderSize, wire.maxOrderSize, wire.sizeStep, wire.tickSize,
            taker_fee=wire.takerFee, maker_fee=wire.makerFee,
        )
    except ValueError as exc:
        raise WireError(str(exc)) from None


def positions(
    summaries: Iterable[WirePositionSummary], assets: Iterable[WireAsset], spot: Iterable[str]
) -> list[VenuePosition]:
    """Net leverage positions (BUY minus SELL, per symbol) then non-zero spot holdings.

    The average price is the open side's; None when both sides are open (no single average)."""
    books: dict[str, dict[Side, WirePositionSummary]] = {}
    for s in summaries:
        if s.sumPositionQuantity != 0:
            books.setdefault(s.symbol, {})[s.side] = s
    out: list[VenuePosition] = []
    for symbol, sides in sorted(books.items()):
        long, short = sides.get(Side.BUY), sides.get(Side.SELL)
        net = (long.sumPositionQuantity if long else 0) - (short.sumPositionQuantity if short else 0)
        only = long if short is None else short if long is None else None
        out.append(VenuePosition(symbol, Decimal(net), only.averagePositionRate if only else None))
    listed = set(spot)
    for asset in sorted(assets, key=lambda a: a.symbol):
        if asset.symbol in listed and not is_leverage(asset.symbol) and asset.amount != 0:
            out.append(VenuePosition(asset.symbol, asset.amount, None))
    return out
