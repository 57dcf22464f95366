"""``/sim/...``: drive the simulator over HTTP from another process (no auth: a test tool that
listens on loopback by default). Plain JSON in and out; a bad request is HTTP 400 ``{"error":..}``.

- ``GET  /sim/state``: status, latency, rate limits, prices, pending faults, order/fill counts.
- ``POST /sim/price``: ``{"symbol": "BTC", "price": "9500000"}`` or ``{"prices": {...}}``.
- ``POST /sim/status``: ``{"status": "OPEN" | "PREOPEN" | "MAINTENANCE"}``.
- ``POST /sim/maintenance``: ``{"on": true}``.
- ``POST /sim/latency``: ``{"seconds": 0.05}``.
- ``POST /sim/rate_limits``: ``{"get_per_s": 20, "post_per_s": 20}`` (null: no limit).
- ``POST /sim/fault``: a :class:`~.faults.SimFault` as JSON, e.g.
  ``{"kind": "drop_reply", "path": "/v1/order", "mode": "close"}``.
- ``POST /sim/faults/clear``.
- ``GET  /sim/orders`` / ``GET /sim/fills``: every order (with ``cancelType``) / every fill the
  venue has, in GMO's shapes, to check what an ambiguous request really did.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.paper.http.faults import SimFault
from adapters.paper.http.views import execution_view, order_view
from adapters.paper.http.wire import dec

if TYPE_CHECKING:
    from adapters.paper.http.sim import SimGmo

Action = Callable[["SimGmo", dict[str, Any]], Any]


def state(sim: SimGmo, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": sim.status,
        "latency_s": sim.latency_s,
        "rate_limits": sim.limiter.rates,
        "prices": {s: dec(p) for s in sim.rules if (p := sim.venue.market_price(s)) is not None},
        "pending_faults": [asdict(f) for f in sim.faults.pending],
        "held_requests": sim.holds.count,
        "orders": len(sim.venue.all_orders()),
        "fills": len(sim.venue.all_fills()),
    }


def price(sim: SimGmo, body: dict[str, Any]) -> dict[str, Any]:
    prices = body.get("prices", {body.get("symbol"): body.get("price")})
    if not isinstance(prices, dict):
        raise ValueError("prices must be an object of symbol -> price string")
    for symbol, value in prices.items():
        if not isinstance(symbol, str) or not isinstance(value, str):
            raise ValueError("give symbol and price as strings")
        try:
            sim.set_price(symbol, Decimal(value))
        except InvalidOperation as error:
            raise ValueError(f"bad price {value!r}") from error
    return {"ok": True}


def status(sim: SimGmo, body: dict[str, Any]) -> dict[str, Any]:
    sim.set_status(str(body.get("status")))
    return {"ok": True, "status": sim.status}


def maintenance(sim: SimGmo, body: dict[str, Any]) -> dict[str, Any]:
    on = body.get("on")
    if not isinstance(on, bool):
        raise ValueError("'on' must be true or false")
    sim.set_maintenance(on)
    return {"ok": True, "status": sim.status}


def latency(sim: SimGmo, body: dict[str, Any]) -> dict[str, Any]:
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ValueError("'seconds' must be a number")
    sim.set_latency(float(seconds))
    return {"ok": True}


def rate_limits(sim: SimGmo, body: dict[str, Any]) -> dict[str, Any]:
    rates = [body.get("get_per_s"), body.get("post_per_s")]
    if any(r is not None and (isinstance(r, bool) or not isinstance(r, int | float)) for r in rates):
        raise ValueError("rates must be numbers or null")
    sim.set_rate_limits(*rates)
    return {"ok": True, "rate_limits": sim.limiter.rates}


def fault(sim: SimGmo, body: dict[str, Any]) -> dict[str, Any]:
    sim.inject(SimFault.from_json(body))
    return {"ok": True, "pending": len(sim.faults.pending)}


def clear_faults(sim: SimGmo, body: dict[str, Any]) -> dict[str, Any]:
    sim.clear_faults()
    return {"ok": True}


def orders(sim: SimGmo, body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        order_view(
            o,
            losscut=sim.losscut.get(o.order_id),
            cancel_type=sim.venue.cancel_type(o.order_id),
            show_cancel_type=True,
        )
        for o in sim.venue.all_orders()
    ]


def fills(sim: SimGmo, body: dict[str, Any]) -> list[dict[str, Any]]:
    all_fills = sim.venue.all_fills()
    sim.see_fills(all_fills)
    return [execution_view(f, sim.positions.position_of(f)) for f in all_fills]


TABLE: list[tuple[str, str, Action]] = [
    ("GET", "/sim/state", state),
    ("POST", "/sim/price", price),
    ("POST", "/sim/status", status),
    ("POST", "/sim/maintenance", maintenance),
    ("POST", "/sim/latency", latency),
    ("POST", "/sim/rate_limits", rate_limits),
    ("POST", "/sim/fault", fault),
    ("POST", "/sim/faults/clear", clear_faults),
    ("GET", "/sim/orders", orders),
    ("GET", "/sim/fills", fills),
]


def routes(sim: SimGmo) -> list[BaseRoute]:
    return [Route(path, _endpoint(sim, action), methods=[method]) for method, path, action in TABLE]


def _endpoint(sim: SimGmo, action: Action) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else {}
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            return JSONResponse(action(sim, body))
        except ValueError as error:  # also JSON errors and the control methods' refusals
            return JSONResponse({"error": str(error)}, status_code=400)

    return endpoint
