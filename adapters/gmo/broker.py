"""GmoBroker: the Broker port on GMO Coin's private REST API (live trading).

Each port call is one or a few HTTP calls through :class:`~adapters.gmo.client.GmoClient`, which
signs, rate-limits, bounds and classifies them; this module only chooses the endpoints and maps
the replies (:mod:`adapters.gmo.mapping`). A reply that cannot be read is ``AmbiguousOutcome``:
never guessed. Nothing connects before :meth:`GmoBroker.open` is entered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from adapters.gmo import mapping
from adapters.gmo.client import (
    DEFAULT_RATES,
    DEFAULT_TIMEOUTS,
    GmoClient,
    HttpTimeouts,
    RateLimits,
    list_of,
)
from adapters.gmo.schemas import (
    WireAsset,
    WireExecution,
    WireOrder,
    WirePositionSummary,
    WireSymbol,
    structure_list,
)
from adapters.gmo.wire import WireError
from hexexec.domain.errors import AmbiguousOutcome, BrokerRejected, OrderNotFound
from hexexec.domain.fills import Fill
from hexexec.domain.orders import OrderIntent
from hexexec.domain.symbols import SymbolRules
from hexexec.domain.venue import VenueOrder, VenuePosition

ORDERS_PER_QUERY = 10  # GMO's cap on ids per /v1/orders


@contextmanager
def readable(what: str) -> Iterator[None]:
    """A reply that does not fit GMO's schema is no answer at all."""
    try:
        yield
    except WireError as exc:
        raise AmbiguousOutcome(f"{what}: unreadable reply: {exc}") from None


def _venue_id(order_id: str) -> int | None:
    """GMO order ids are integers; anything else cannot name an order there."""
    return int(order_id) if order_id.isdigit() else None


class GmoBroker:
    """Implements :class:`ports.broker.Broker` over ``client`` for ``exchange`` (default "gmo")."""

    def __init__(self, client: GmoClient, *, exchange: str = "gmo") -> None:
        self.client = client
        self.exchange = exchange
        self._rules: dict[str, SymbolRules] | None = None

    @classmethod
    @asynccontextmanager
    async def open(cls, base_url: str, api_key: str, api_secret: Any, *, exchange: str = "gmo",
                   timeouts: HttpTimeouts = DEFAULT_TIMEOUTS, rates: RateLimits = DEFAULT_RATES,
                   **http: Any) -> AsyncIterator[GmoBroker]:
        """A broker for the block's duration (one HTTP connection pool, closed on exit).
        ``api_secret``: a str or pydantic ``SecretStr``; it is held only in masked form."""
        client_cm = GmoClient.open(base_url, api_key, api_secret, timeouts=timeouts, rates=rates,
                                   **http)
        del api_secret  # no frame of this generator keeps it in plain text
        async with client_cm as client:
            yield cls(client, exchange=exchange)

    def __repr__(self) -> str:
        return f"GmoBroker(exchange={self.exchange!r}, client={self.client!r})"

    async def symbol_rules(self) -> Mapping[str, SymbolRules]:
        data = await self.client.public("/v1/symbols")
        with readable("symbols"):
            rules = {r.symbol: r for r in map(mapping.symbol_rules, structure_list(data, WireSymbol))}
        self._rules = rules
        return dict(rules)

    async def place(self, intent: OrderIntent) -> str:
        if intent.exchange != self.exchange:
            raise BrokerRejected("HX-EXCHANGE", f"this broker trades {self.exchange!r}, "
                                 f"not {intent.exchange!r}")
        try:
            path, body = mapping.order_request(intent)
        except ValueError as exc:  # refused before sending: definitive
            raise BrokerRejected("HX-INTENT", str(exc)) from None
        data = await self.client.post(path, body)
        # Accepted: the new id is in data (a string). Without one, the order exists unknown to us.
        if isinstance(data, bool) or not isinstance(data, str | int) or not str(data).isdigit():
            raise AmbiguousOutcome(f"{path} accepted but returned no order id: {data!r}")
        return str(int(data))

    async def cancel(self, order_id: str) -> None:
        venue_id = _venue_id(order_id)
        if venue_id is None:
            raise OrderNotFound(f"{order_id!r} is not a GMO order id")
        await self.client.post("/v1/cancelOrder", {"orderId": venue_id})

    async def orders(self, order_ids: Sequence[str]) -> Sequence[VenueOrder]:
        """In the order asked, unknown ids left out; queried 10 ids at a time."""
        wanted = list(dict.fromkeys(i for i in order_ids if _venue_id(i) is not None))
        found: dict[str, VenueOrder] = {}
        for start in range(0, len(wanted), ORDERS_PER_QUERY):
            for order in await self._orders_chunk(wanted[start:start + ORDERS_PER_QUERY]):
                found[order.order_id] = order
        return [found[i] for i in wanted if i in found]

    async def _orders_chunk(self, ids: list[str]) -> list[VenueOrder]:
        try:
            data = await self.client.get("/v1/orders", {"orderId": ",".join(ids)})
        except OrderNotFound:
            if len(ids) == 1:
                return []
            # The venue refused the batch for an unknown id: ask one by one to keep the others.
            return [o for i in ids for o in await self._orders_chunk([i])]
        with readable("orders"):
            return mapping.venue_orders(structure_list(list_of(data), WireOrder))

    async def fills(self, order_id: str) -> Sequence[Fill]:
        venue_id = _venue_id(order_id)
        if venue_id is None:
            return []
        try:
            data = await self.client.get("/v1/executions", {"orderId": venue_id})
        except OrderNotFound:
            return []
        with readable("executions"):
            wires = structure_list(list_of(data), WireExecution)
            return [mapping.fill(w, self.exchange) for w in wires]

    async def active_orders(self, symbol: str) -> Sequence[VenueOrder]:
        items = await self._all_pages("/v1/activeOrders", symbol)
        with readable("activeOrders"):
            orders = mapping.venue_orders(structure_list(items, WireOrder))
        return list({o.order_id: o for o in orders}.values())  # a page boundary may repeat one

    async def latest_fills(self, symbol: str, limit: int | None = None) -> Sequence[Fill]:
        if limit is not None:
            with readable("/v1/latestExecutions"):
                items = await self.client.pages(
                    "/v1/latestExecutions", {"symbol": symbol}, count=min(max(limit, 1), 100),
                    enough=limit)
        else:
            items = await self._all_pages("/v1/latestExecutions", symbol)
        with readable("latestExecutions"):
            fills = [mapping.fill(w, self.exchange) for w in structure_list(items, WireExecution)]
        unique = {f.execution_id: f for f in fills}
        return sorted(unique.values(), key=lambda f: f.timestamp, reverse=True)[:limit]

    async def positions(self) -> Sequence[VenuePosition]:
        rules = self._rules if self._rules is not None else await self.symbol_rules()
        summary = await self.client.get("/v1/positionSummary")
        assets = await self.client.get("/v1/account/assets")
        with readable("positions"):
            return mapping.positions(structure_list(list_of(summary), WirePositionSummary),
                                     structure_list(list_of(assets), WireAsset), rules)

    async def _all_pages(self, path: str, symbol: str) -> list[Any]:
        with readable(path):
            return await self.client.pages(path, {"symbol": symbol})
