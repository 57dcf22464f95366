"""POST handlers that change orders: order, closeOrder, closeBulkOrder and the three cancels.

New orders answer ``data`` = the new orderId **as a string**; cancelOrder answers no data;
cancelOrders answers per-id success/failure; cancelBulkOrder the ids it cancelled (numbers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.paper.http.calls import Call
from adapters.paper.http.order_requests import order_request, settle_position
from adapters.paper.http.parsing import bad, choice, flag, order_id
from adapters.paper.http.wire import NO_DATA, GmoError, from_broker_error
from hexexec.domain.errors import BrokerError
from hexexec.domain.order_status import VenueStatus
from hexexec.domain.orders import SettleType, Side
from hexexec.domain.symbols import is_leverage

if TYPE_CHECKING:
    from adapters.paper.http.sim import SimGmo

MAX_CANCEL_IDS = 10
CANCELLABLE = frozenset({VenueStatus.WAITING, VenueStatus.ORDERED})


def new_order(sim: SimGmo, call: Call) -> str:
    """``/v1/order``: spot buy/sell, or open a leverage position."""
    request = order_request(call.body, exchange=sim.exchange, settle=SettleType.OPEN)
    return sim.place(request.intent, losscut=request.losscut)


def close_order(sim: SimGmo, call: Call) -> str:
    """``/v1/closeOrder``: close (part of) one position, with the opposite side."""
    position_id, size = settle_position(call.body)
    request = order_request(call.body, exchange=sim.exchange, settle=SettleType.CLOSE, size=size)
    intent = request.intent
    if not is_leverage(intent.symbol):
        raise bad(f"{intent.symbol} is not a leverage symbol.")
    position = sim.position(position_id)
    if position is None or position.symbol != intent.symbol:
        raise GmoError("ERR-254", f"Position {position_id} does not exist.")
    if intent.side is not position.side.opposite:
        raise GmoError("ERR-70", f"Close position {position_id} ({position.side.value}) "
                       f"with {position.side.opposite.value}.")
    if size > position.size:
        raise GmoError("ERR-189", f"Size {size} exceeds the position size {position.size}.")
    return sim.place(intent, losscut=request.losscut)


def close_bulk_order(sim: SimGmo, call: Call) -> str:
    """``/v1/closeBulkOrder``: close by symbol and side across positions (ERR-422 when none)."""
    request = order_request(call.body, exchange=sim.exchange, settle=SettleType.CLOSE)
    if not is_leverage(request.intent.symbol):
        raise bad(f"{request.intent.symbol} is not a leverage symbol.")
    return sim.place(request.intent, losscut=request.losscut)


def cancel_order(sim: SimGmo, call: Call) -> Any:
    """``/v1/cancelOrder``: ERR-5122 when ending or ended, ERR-5123 when unknown; no data."""
    _cancel(sim, order_id(call.body.get("orderId")))
    return NO_DATA


def cancel_orders(sim: SimGmo, call: Call) -> dict[str, Any]:
    """``/v1/cancelOrders``: up to 10 ids; the reply's status is 0 even when some failed."""
    ids = call.body.get("orderIds")
    if not isinstance(ids, list) or not ids:
        raise bad("orderIds must be a non-empty array of numbers.")
    if len(ids) > MAX_CANCEL_IDS:
        raise bad(f"At most {MAX_CANCEL_IDS} orderIds may be cancelled at once.")
    numbers = [order_id(i, "orderIds") for i in ids]
    success: list[int] = []
    failed: list[dict[str, Any]] = []
    for number in numbers:
        try:
            _cancel(sim, number)
        except GmoError as error:
            failed.append(
                {"message_code": error.code, "message_string": error.message, "orderId": number}
            )
        else:
            success.append(number)
    return {"success": success, "failed": failed}


def cancel_bulk_order(sim: SimGmo, call: Call) -> list[int]:
    """``/v1/cancelBulkOrder``: at most 10 matching live orders, oldest first unless ``desc``."""
    symbols = call.body.get("symbols")
    if not isinstance(symbols, list) or not symbols or not all(isinstance(s, str) for s in symbols):
        raise bad("symbols must be a non-empty array of strings.")
    side = choice(call.body, "side", Side)
    settle = choice(call.body, "settleType", SettleType)
    newest_first = flag(call.body, "desc")
    candidates = [order for symbol in symbols for order in sim.venue.active_orders(symbol)]
    chosen = sorted(
        (
            int(o.order_id)
            for o in candidates
            if o.status in CANCELLABLE
            and (side is None or o.side is side)
            and (settle is None or o.settle_type is settle)
        ),
        reverse=newest_first,
    )[:MAX_CANCEL_IDS]
    for number in chosen:
        _cancel(sim, number)
    return chosen


def _cancel(sim: SimGmo, number: int) -> None:
    try:
        sim.venue.cancel(str(number))
    except BrokerError as error:
        raise from_broker_error(error) from error
