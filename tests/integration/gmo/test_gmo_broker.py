"""GmoBroker over real HTTP to the simulated GMO: each endpoint's request, and its reply parsed.

Requests are observed on the wire by a transport that records them before handing them to
httpx's real one; what the venue made of them is read from the venue itself.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from adapters.gmo import GmoBroker, RateLimits
from adapters.gmo.signing import api_sign
from adapters.paper import VenueSettings
from hexexec.domain.errors import OrderNotCancellable, OrderNotFound
from hexexec.domain.order_status import OrderStatus, VenueStatus
from hexexec.domain.orders import OrderIntent, SettleType, Side
from hexexec.domain.signal import OrderType, TimeInForce
from tests.integration.gmo.sim import SimHandle, running_sim

PRICE = Decimal("10000000")
T = TypeVar("T")
UNLIMITED = RateLimits(get_per_s=None, post_per_s=None, public_per_s=None)


@dataclass
class Sent:
    method: str
    path: str
    query: dict[str, list[str]]
    body: str
    headers: httpx.Headers


class RecordingTransport(httpx.AsyncBaseTransport):
    """httpx's own transport, with every request noted on the way out."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.sent: list[Sent] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = urlsplit(str(request.url))
        self.sent.append(Sent(request.method, url.path, parse_qs(url.query),
                              request.content.decode(), request.headers))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def to(self, path: str) -> list[Sent]:
        return [s for s in self.sent if s.path == path]


@dataclass
class Rig:
    gmo: SimHandle
    broker: GmoBroker
    wire: RecordingTransport


@asynccontextmanager
async def rig(**sim: Any) -> AsyncIterator[Rig]:
    wire = RecordingTransport()
    sim = {"get_per_s": None, "post_per_s": None, **sim}  # the venue's limits: another test's
    async with running_sim(venue_settings=VenueSettings(jpy_balance=Decimal("100000000")),
                           **sim) as gmo:
        async with GmoBroker.open(gmo.base_url, gmo.key, gmo.secret, rates=UNLIMITED,
                                  transport=wire) as broker:
            yield Rig(gmo, broker, wire)


def on_the_wire(value: T) -> T:
    """``value`` with its timestamp as GMO sends it: to the millisecond."""
    stamp = value.timestamp  # type: ignore[attr-defined]
    return replace(value, timestamp=stamp.replace(microsecond=stamp.microsecond // 1000 * 1000))


def intent(symbol: str, side: Side, size: str, price: Decimal | None = None,
           settle: SettleType = SettleType.OPEN, tif: TimeInForce | None = None) -> OrderIntent:
    kind = OrderType.MARKET if price is None else OrderType.LIMIT
    return OrderIntent("gmo", symbol, side, settle, kind, Decimal(size), price, tif)


async def test_a_new_order_is_signed_sent_as_gmo_wants_and_read_back() -> None:
    async with rig() as r:
        sent = intent("BTC_JPY", Side.BUY, "0.010", PRICE - 5000, tif=TimeInForce.SOK)
        order_id = await r.broker.place(sent)
        [wire] = r.wire.to("/private/v1/order")
        assert wire.method == "POST" and wire.headers["Content-Type"] == "application/json"
        assert wire.body == ('{"symbol":"BTC_JPY","side":"BUY","executionType":"LIMIT",'
                             '"timeInForce":"SOK","price":"9995000","size":"0.01"}')
        stamp = wire.headers["API-TIMESTAMP"]
        assert wire.headers["API-KEY"] == r.gmo.key
        assert wire.headers["API-SIGN"] == api_sign(r.gmo.secret, stamp, "POST", "/v1/order",
                                                    wire.body)
        [venue] = r.gmo.sim.venue.all_orders()
        [seen] = await r.broker.orders([order_id])
        assert seen == on_the_wire(venue)  # every field, as the venue holds it
        assert (seen.symbol, seen.side, seen.settle_type, seen.order_type, seen.price, seen.size,
                seen.time_in_force) == ("BTC_JPY", Side.BUY, SettleType.OPEN, OrderType.LIMIT,
                                        sent.price, sent.size, TimeInForce.SOK)
        assert seen.status is VenueStatus.ORDERED and seen.timestamp.tzinfo is not None


async def test_closes_go_to_close_bulk_on_leverage_and_to_a_sell_on_spot() -> None:
    async with rig() as r:
        await r.broker.place(intent("BTC_JPY", Side.BUY, "0.02"))
        await r.broker.place(intent("BTC", Side.BUY, "0.002"))
        closed = await r.broker.place(intent("BTC_JPY", Side.SELL, "0.02", settle=SettleType.CLOSE))
        sold = await r.broker.place(intent("BTC", Side.SELL, "0.002", settle=SettleType.CLOSE))
        [bulk] = r.wire.to("/private/v1/closeBulkOrder")
        assert json.loads(bulk.body) == {"symbol": "BTC_JPY", "side": "SELL",
                                         "executionType": "MARKET", "size": "0.02"}
        assert [json.loads(s.body)["side"] for s in r.wire.to("/private/v1/order")] == [
            "BUY", "BUY", "SELL"]
        by_id = {o.order_id: o for o in await r.broker.orders([closed, sold])}
        assert by_id[closed].settle_type is SettleType.CLOSE and by_id[closed].price is None
        assert by_id[sold].settle_type is SettleType.OPEN  # GMO's way for spot
        assert {o.our_status for o in by_id.values()} == {OrderStatus.FILLED}
        assert await r.broker.positions() == []


async def test_orders_are_asked_ten_ids_at_a_time_and_unknown_ids_left_out() -> None:
    async with rig() as r:
        placed = [await r.broker.place(intent("ETH_JPY", Side.BUY, "0.1", Decimal("390000")))
                  for _ in range(14)]
        asked = ["9999", *placed[:7], "8888", "x-not-a-number", *placed[7:], placed[0]]
        found = await r.broker.orders(asked)
        assert [o.order_id for o in found] == placed  # the order asked, once each
        queries = [q.query["orderId"][0].split(",") for q in r.wire.to("/private/v1/orders")]
        assert [len(q) for q in queries] == [10, 6]
        assert sorted(i for q in queries for i in q) == sorted({*placed, "9999", "8888"})


async def test_lists_are_read_page_by_page_until_a_short_page() -> None:
    async with rig() as r:
        placed = [await r.broker.place(intent("BTC_JPY", Side.BUY, "0.001", PRICE - 1000 - i))
                  for i in range(230)]
        active = await r.broker.active_orders("BTC_JPY")
        assert sorted(o.order_id for o in active) == sorted(placed)
        pages = [(s.query["page"], s.query["count"]) for s in r.wire.to("/private/v1/activeOrders")]
        assert pages == [(["1"], ["100"]), (["2"], ["100"]), (["3"], ["100"])]
        r.gmo.sim.set_price("BTC_JPY", PRICE - 10_000)  # crosses every one of them
        fills = await r.broker.latest_fills("BTC_JPY")
        assert sorted({f.order_id for f in fills}) == sorted(placed)
        assert [f.timestamp for f in fills] == sorted((f.timestamp for f in fills), reverse=True)
        assert await r.broker.active_orders("BTC_JPY") == []


async def test_nothing_found_is_an_empty_list() -> None:
    async with rig() as r:
        assert await r.broker.active_orders("ETH") == []
        assert await r.broker.latest_fills("ETH") == []
        assert await r.broker.fills("424242") == []
        assert await r.broker.orders(["424242"]) == []
        assert await r.broker.positions() == []
        raw = await r.broker.client.get("/v1/activeOrders", {"symbol": "ETH"})
        assert "list" not in raw  # the simulator did send GMO's bare "nothing"


async def test_fills_carry_fees_and_the_venue_loss_gain() -> None:
    async with rig() as r:
        opened = await r.broker.place(intent("BTC_JPY", Side.SELL, "0.05"))
        r.gmo.sim.set_price("BTC_JPY", PRICE - 200_000)
        closed = await r.broker.place(intent("BTC_JPY", Side.BUY, "0.05", settle=SettleType.CLOSE))
        bought = await r.broker.place(intent("BTC", Side.BUY, "0.003"))
        venue = {f.execution_id: f for f in r.gmo.sim.venue.all_fills()}
        for order_id in (opened, closed, bought):
            for fill in await r.broker.fills(order_id):
                assert fill == on_the_wire(venue.pop(fill.execution_id))
        assert venue == {}
        [close] = await r.broker.fills(closed)
        assert close.loss_gain is not None and close.loss_gain > 0
        [spot] = await r.broker.fills(bought)
        assert spot.fee > 0 and spot.loss_gain is None


async def test_positions_net_the_leverage_sides_and_list_spot_holdings() -> None:
    async with rig() as r:
        await r.broker.place(intent("BTC_JPY", Side.BUY, "0.05"))
        await r.broker.place(intent("BTC_JPY", Side.SELL, "0.02"))  # GMO keeps both sides
        await r.broker.place(intent("ETH_JPY", Side.SELL, "0.3"))
        await r.broker.place(intent("ETH", Side.BUY, "0.25"))
        held = {p.symbol: p for p in await r.broker.positions()}
        assert held == {p.symbol: p for p in r.gmo.sim.venue.positions()}
        assert {s: p.quantity for s, p in held.items()} == {
            "BTC_JPY": Decimal("0.03"), "ETH_JPY": Decimal("-0.3"), "ETH": Decimal("0.25")}


async def test_cancel_then_cancel_again_and_unknown_ids() -> None:
    async with rig() as r:
        order_id = await r.broker.place(intent("BTC_JPY", Side.SELL, "0.01", PRICE + 50_000))
        await r.broker.cancel(order_id)
        assert json.loads(r.wire.to("/private/v1/cancelOrder")[0].body) == {"orderId": int(order_id)}
        [seen] = await r.broker.orders([order_id])
        assert seen.our_status is OrderStatus.CANCELED
        with pytest.raises(OrderNotCancellable, match="ERR-5122"):
            await r.broker.cancel(order_id)
        with pytest.raises(OrderNotFound, match="ERR-5123"):
            await r.broker.cancel("77777")
        sent = len(r.wire.sent)
        with pytest.raises(OrderNotFound):
            await r.broker.cancel("not-a-gmo-id")
        assert len(r.wire.sent) == sent  # refused without asking


async def test_symbol_rules_are_the_venue_table() -> None:
    async with rig() as r:
        rules = await r.broker.symbol_rules()
        assert rules == r.gmo.sim.rules
        assert [s.path for s in r.wire.sent] == ["/public/v1/symbols"]
        assert "API-SIGN" not in r.wire.sent[0].headers  # public calls are not signed


async def test_a_batch_refused_for_an_unknown_id_is_asked_again_one_by_one() -> None:
    """GMO may refuse a whole /v1/orders batch with ERR-5123; the known orders still come back."""
    async with rig() as r:
        known = await r.broker.place(intent("BTC_JPY", Side.BUY, "0.01", PRICE - 5000))
        r.gmo.sim.error_next("ERR-5123", "/v1/orders")
        assert [o.order_id for o in await r.broker.orders(["31337", known])] == [known]
        asked = [q.query["orderId"][0] for q in r.wire.to("/private/v1/orders")]
        assert asked == [f"31337,{known}", "31337", known]
        r.gmo.sim.error_next("ERR-5123", "/v1/executions")
        assert await r.broker.fills("31337") == []
