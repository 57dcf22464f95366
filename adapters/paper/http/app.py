"""The ASGI app: GMO's routes under ``/public/v1`` and ``/private/v1``, control under ``/sim``.

Every GMO request goes through one pipeline, in this order: scripted faults (:mod:`.faults`) and
latency; maintenance (ERR-5201, status 5; ``/v1/status`` still answers); for private calls the
signature (:mod:`.auth`) then the key's rate limit (ERR-5003); PREOPEN refuses new orders
(ERR-5203); then the handler, whose result is wrapped in GMO's envelope. Errors are HTTP 200 with
a non-zero ``status``; an unknown path is HTTP 404 with ERR-5204.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import trio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.paper.http import control, private_account, private_orders, private_queries, public
from adapters.paper.http.auth import authenticate
from adapters.paper.http.calls import Call, Handler
from adapters.paper.http.faults import SimFault
from adapters.paper.http.parsing import json_body
from adapters.paper.http.replies import LostReply, gateway_error
from adapters.paper.http.wire import GmoError, error_response, from_broker_error, ok_response
from hexexec.domain.errors import BrokerError

if TYPE_CHECKING:
    from adapters.paper.http.sim import SimGmo

PRIVATE: list[tuple[str, str, Handler]] = [
    ("POST", "/v1/order", private_orders.new_order),
    ("POST", "/v1/closeOrder", private_orders.close_order),
    ("POST", "/v1/closeBulkOrder", private_orders.close_bulk_order),
    ("POST", "/v1/cancelOrder", private_orders.cancel_order),
    ("POST", "/v1/cancelOrders", private_orders.cancel_orders),
    ("POST", "/v1/cancelBulkOrder", private_orders.cancel_bulk_order),
    ("GET", "/v1/orders", private_queries.orders),
    ("GET", "/v1/activeOrders", private_queries.active_orders),
    ("GET", "/v1/executions", private_queries.executions),
    ("GET", "/v1/latestExecutions", private_queries.latest_executions),
    ("GET", "/v1/openPositions", private_account.open_positions),
    ("GET", "/v1/positionSummary", private_account.position_summary),
    ("GET", "/v1/account/margin", private_account.margin),
    ("GET", "/v1/account/assets", private_account.assets),
]
PUBLIC: list[tuple[str, str, Handler]] = [
    ("GET", "/v1/status", public.status),
    ("GET", "/v1/ticker", public.ticker),
    ("GET", "/v1/symbols", public.symbols),
]
NEW_ORDERS = frozenset({"/v1/order", "/v1/closeOrder", "/v1/closeBulkOrder"})
ALWAYS_ANSWERED = frozenset({"/v1/status"})  # even during maintenance


def build_app(sim: SimGmo) -> Starlette:
    """The Starlette app serving ``sim``."""
    routes: list[BaseRoute] = []
    for prefix, table, private in (("/private", PRIVATE, True), ("/public", PUBLIC, False)):
        for method, path, handler in table:
            endpoint = _endpoint(sim, path, handler, private=private)
            routes.append(Route(prefix + path, endpoint, methods=[method]))
    routes.extend(control.routes(sim))

    async def not_found(request: Request, exc: Exception) -> Response:
        return error_response(GmoError("ERR-5204"), sim.now(), http_status=404)

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})


def _endpoint(
    sim: SimGmo, path: str, handler: Handler, *, private: bool
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        sim.requests[f"{request.method} {path}"] += 1
        faults = sim.faults.take(request.method, request.url.path)
        extra = sum(f.delay_s for f in faults if f.kind == "latency")
        fault: SimFault | None = next((f for f in faults if f.kind != "latency"), None)
        raw = await request.body()
        half = sim.latency_s / 2
        await trio.sleep(half + extra)  # also a checkpoint between requests
        if fault is not None and fault.kind == "timeout":
            return LostReply(None, sim.settings.hold_s, sim.holds)
        if fault is not None and fault.kind == "http_error" and not fault.after:
            return gateway_error(fault.http_status)
        if fault is not None and fault.kind == "error":
            reply: Response = error_response(GmoError(fault.code, status=fault.status), sim.now())
        else:
            reply = _answer(sim, request, raw, path, handler, private=private)
        await trio.sleep(half)
        if fault is not None and fault.kind == "drop_reply":
            return LostReply(reply, sim.settings.hold_s if fault.mode == "hold" else 0.0, sim.holds)
        if fault is not None and fault.kind == "http_error":
            return gateway_error(fault.http_status)
        return reply

    return endpoint


def _answer(
    sim: SimGmo, request: Request, raw: bytes, path: str, handler: Handler, *, private: bool
) -> Response:
    """Run the checks and the handler at once (no await: the venue is never seen half-done)."""
    method = request.method
    try:
        if sim.venue.maintenance and path not in ALWAYS_ANSWERED:
            raise GmoError("ERR-5201")
        key = None
        if private:
            key = authenticate(
                request.headers,
                method,
                request.url.path,
                raw,
                credentials=sim.settings.credentials,
                now_ms=sim.now_ms(),
                stale_after_ms=sim.settings.stale_after_ms,
                ahead_after_ms=sim.settings.ahead_after_ms,
            )
            sim.limiter.check(key, method)
        if path in NEW_ORDERS and sim.status == "PREOPEN":
            raise GmoError("ERR-5203")
        body = json_body(raw) if method == "POST" else {}
        call = Call(method, path, dict(request.query_params), body, key)
        return ok_response(handler(sim, call), sim.now())
    except GmoError as error:
        return error_response(error, sim.now())
    except BrokerError as error:
        return error_response(from_broker_error(error), sim.now())
