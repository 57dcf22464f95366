"""GET handlers for orders and executions: orders, activeOrders, executions, latestExecutions.

Nothing found is ``data: {}`` with no ``list`` key (reference §2, §11). Order choices the docs
leave open: activeOrders lists newest first, as latestExecutions does; ``pagination.count`` echoes
the page size asked for. Unknown ids are left out rather than refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from adapters.paper.http.calls import Call
from adapters.paper.http.parsing import bad, id_list, page_and_count, query_symbol
from adapters.paper.http.views import execution_view, listed, order_view, page_of, page_reply
from adapters.paper.http.wire import GmoError
from hexexec.domain.fills import Fill

if TYPE_CHECKING:
    from adapters.paper.http.sim import SimGmo

MAX_IDS = 10


def orders(sim: SimGmo, call: Call) -> dict[str, Any]:
    """``/v1/orders?orderId=1,2``: up to 10 orders, live or ended, with ``cancelType``."""
    ids = id_list(call.query.get("orderId"), name="orderId", most=MAX_IDS, too_many="ERR-5130")
    found = sim.venue.orders([str(i) for i in ids])
    return listed(
        [
            order_view(
                o,
                losscut=sim.losscut.get(o.order_id),
                cancel_type=sim.venue.cancel_type(o.order_id),
                show_cancel_type=True,
            )
            for o in found
        ]
    )


def active_orders(sim: SimGmo, call: Call) -> dict[str, Any]:
    """``/v1/activeOrders?symbol=&page=&count=``: live orders of one symbol, newest first."""
    symbol = query_symbol(call.query)
    page, count = page_and_count(call.query)
    live = sim.venue.active_orders(symbol or "")
    chunk = page_of(live[::-1], page, count)
    return page_reply([order_view(o, losscut=sim.losscut.get(o.order_id)) for o in chunk], page, count)


def executions(sim: SimGmo, call: Call) -> dict[str, Any]:
    """``/v1/executions``: by ``orderId`` (one) or ``executionId`` (up to 10), not both."""
    by_order = call.query.get("orderId")
    by_execution = call.query.get("executionId")
    if by_order and by_execution:
        raise GmoError("ERR-5208", "Specify either orderId or executionId, not both.")
    if by_order:
        if not (by_order.isascii() and by_order.isdigit()):
            raise bad(f"orderId must be a number, got {by_order!r}.")
        fills: Sequence[Fill] = sim.venue.fills(str(int(by_order)))
    elif by_execution:
        ids = id_list(by_execution, name="executionId", most=MAX_IDS, too_many="ERR-5132")
        fills = sim.fills_by_id(str(i) for i in ids)
    else:
        raise bad("orderId or executionId is required.")
    return listed(_views(sim, fills))


def latest_executions(sim: SimGmo, call: Call) -> dict[str, Any]:
    """``/v1/latestExecutions?symbol=``: fills of the last day, newest first, paginated."""
    symbol = query_symbol(call.query)
    page, count = page_and_count(call.query)
    fills = sim.venue.latest_fills(symbol or "", limit=page * count)  # up to this page only
    return page_reply(_views(sim, page_of(fills, page, count)), page, count)


def _views(sim: SimGmo, fills: Sequence[Fill]) -> list[dict[str, Any]]:
    sim.see_fills(fills)
    return [execution_view(f, sim.positions.position_of(f)) for f in fills]
