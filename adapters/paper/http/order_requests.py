"""From a GMO order body (order, closeOrder, closeBulkOrder) to the venue's OrderIntent.

The venue checks sizes, ticks and the timeInForce matrix (ERR-5114/5126/5111); the rules it does
not know are checked here: SOK on leverage only for some symbols (ERR-5111), ``losscutPrice`` only
on leverage LIMIT/STOP orders (ERR-5118), and the limitations of the simulator (no STOP orders, no
``cancelBefore``), refused with ERR-5106 so that a client relying on them finds out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from adapters.paper.http.parsing import bad, choice, decimal_text, flag, text
from adapters.paper.http.wire import GmoError
from hexexec.domain.orders import OrderIntent, SettleType, Side
from hexexec.domain.signal import OrderType, TimeInForce
from hexexec.domain.symbols import is_leverage

# Leverage symbols that accept SOK (reference §5, latest docs); every spot symbol does.
SOK_LEVERAGE = frozenset(
    {"BTC_JPY", "DOT_JPY", "ATOM_JPY", "ADA_JPY", "LINK_JPY", "DOGE_JPY", "SOL_JPY"}
)
EXECUTION_TYPES = {"MARKET": OrderType.MARKET, "LIMIT": OrderType.LIMIT}


@dataclass(frozen=True, slots=True)
class OrderRequest:
    intent: OrderIntent
    losscut: Decimal | None = None


def order_request(
    body: Mapping[str, Any],
    *,
    exchange: str,
    settle: SettleType,
    size: Decimal | None = None,
) -> OrderRequest:
    """Read symbol, side, executionType, timeInForce, price, size (unless given) and losscutPrice."""
    symbol = text(body, "symbol")
    side = choice(body, "side", Side)
    if side is None:
        raise bad("side is required.")
    kind = text(body, "executionType")
    if kind == "STOP":
        raise bad("STOP orders are not simulated.")
    order_type = EXECUTION_TYPES.get(kind)
    if order_type is None:
        raise bad(f"executionType {kind!r} is not one of MARKET, LIMIT, STOP.")
    tif = choice(body, "timeInForce", TimeInForce, code="ERR-5111")
    if tif is TimeInForce.SOK and is_leverage(symbol) and symbol not in SOK_LEVERAGE:
        raise GmoError("ERR-5111", f"SOK is not available for {symbol}.")
    price = decimal_text(body, "price", required=False) if order_type is OrderType.LIMIT else None
    if order_type is OrderType.LIMIT and price is None:
        raise bad("price is required for a LIMIT order.")
    if size is None:
        size = decimal_text(body, "size")
    assert size is not None  # required above
    losscut = decimal_text(body, "losscutPrice", required=False)
    if losscut is not None and (not is_leverage(symbol) or order_type is not OrderType.LIMIT):
        raise GmoError("ERR-5118", "losscutPrice is only for leverage LIMIT or STOP orders.")
    if flag(body, "cancelBefore"):
        raise bad("cancelBefore is not simulated.")
    intent = OrderIntent(
        exchange=exchange,
        symbol=symbol,
        side=side,
        settle_type=settle,
        order_type=order_type,
        size=size,
        price=price,
        time_in_force=tif,
    )
    return OrderRequest(intent, losscut)


def settle_position(body: Mapping[str, Any]) -> tuple[int, Decimal]:
    """closeOrder's ``settlePosition``: exactly one ``{"positionId": n, "size": "s"}``."""
    value = body.get("settlePosition")
    if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], dict):
        raise bad("settlePosition must hold exactly one {positionId, size}.")
    entry = value[0]
    position_id = entry.get("positionId")
    if isinstance(position_id, bool) or not isinstance(position_id, int) or position_id <= 0:
        raise bad("settlePosition.positionId must be a positive JSON number.")
    size = decimal_text(entry, "size")
    assert size is not None  # required above
    return position_id, size
