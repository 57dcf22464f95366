"""The venue's orders, fills and positions as GMO's JSON objects (reference §3.1, §3.2, §3.3).

Ids are JSON numbers here; prices, sizes, fees and P&L are strings; times carry ms and Z.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from adapters.paper.http.positions import SimPosition
from adapters.paper.http.wire import dec, iso_ms
from hexexec.domain.fills import Fill
from hexexec.domain.order_status import VenueStatus
from hexexec.domain.venue import VenueOrder

WITH_CANCEL_TYPE = frozenset({VenueStatus.CANCELLING, VenueStatus.CANCELED, VenueStatus.EXPIRED})


def order_view(
    order: VenueOrder,
    *,
    losscut: Decimal | None = None,
    cancel_type: str | None = None,
    show_cancel_type: bool = False,
) -> dict[str, Any]:
    """An order object; ``cancelType`` only from ``/v1/orders`` and only once it is ending."""
    view: dict[str, Any] = {
        "rootOrderId": int(order.order_id),
        "orderId": int(order.order_id),
        "symbol": order.symbol,
        "side": order.side.value,
        "orderType": "NORMAL",
        "executionType": order.order_type.value,
        "settleType": order.settle_type.value,
        "size": dec(order.size),
        "executedSize": dec(order.executed_size),
        "price": dec(order.price),
        "losscutPrice": dec(losscut),
        "status": order.status.value,
    }
    if show_cancel_type and order.status in WITH_CANCEL_TYPE and cancel_type is not None:
        view["cancelType"] = cancel_type
    view["timeInForce"] = order.time_in_force.value if order.time_in_force else "FAS"
    view["timestamp"] = iso_ms(order.timestamp)
    return view


def execution_view(fill: Fill, position_id: int | None) -> dict[str, Any]:
    """An execution object; ``positionId`` only for leverage fills."""
    view: dict[str, Any] = {
        "executionId": int(fill.execution_id),
        "orderId": int(fill.order_id),
    }
    if position_id is not None:
        view["positionId"] = position_id
    view.update(
        {
            "symbol": fill.symbol,
            "side": fill.side.value,
            "settleType": fill.settle_type.value,
            "size": dec(fill.size),
            "price": dec(fill.price),
            "lossGain": dec(fill.loss_gain),
            "fee": dec(fill.fee),
            "timestamp": iso_ms(fill.timestamp),
        }
    )
    return view


def unrealized(position: SimPosition, market: Decimal | None) -> Decimal:
    """Mark-to-market P&L of a position (zero without a market price)."""
    if market is None:
        return Decimal("0")
    return (market - position.price) * position.size * position.side.sign


def position_view(
    position: SimPosition, *, market: Decimal | None, ordered: Decimal, leverage: Decimal
) -> dict[str, Any]:
    """An ``openPositions`` item (``orderdSize``: GMO's spelling, the size under close orders)."""
    return {
        "positionId": position.position_id,
        "symbol": position.symbol,
        "side": position.side.value,
        "size": dec(position.size),
        "orderdSize": dec(ordered),
        "price": dec(position.price),
        "lossGain": dec(unrealized(position, market)),
        "leverage": dec(leverage),
        "losscutPrice": "0",
        "timestamp": iso_ms(position.opened_at),
    }


def page_of(items: Sequence[Any], page: int, count: int) -> list[Any]:
    """The items on page ``page`` (1-based) of ``count`` items each."""
    return list(items[(page - 1) * count : page * count])


def page_reply(chunk: Sequence[Any], page: int, count: int) -> dict[str, Any]:
    """One page in GMO's shape; a page with nothing on it is ``{}`` (no ``list`` key)."""
    if not chunk:
        return {}
    return {"pagination": {"currentPage": page, "count": count}, "list": list(chunk)}


def listed(items: Sequence[Any]) -> dict[str, Any]:
    """An unpaginated ``{"list": [...]}``; nothing found is ``{}`` like GMO's empty replies."""
    return {"list": list(items)} if items else {}
