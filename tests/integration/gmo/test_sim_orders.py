"""Orders through the simulated GMO's HTTP API: GMO's reply shapes, its validation codes, and
closing and cancelling with the venue really changing (reference §2, §3, §8)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import httpx
import pytest

from adapters.paper import VenueSettings
from hexexec.domain.order_status import VenueStatus
from tests.integration.gmo.sim import SimHandle, running_sim

ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
LIMITLESS: dict[str, Any] = {"get_per_s": None, "post_per_s": None}


def code(reply: dict[str, Any]) -> str:
    assert reply["status"] != 0, reply
    return str(reply["messages"][0]["message_code"])


async def order(gmo: SimHandle, c: httpx.AsyncClient, path: str = "/v1/order", **fields: Any) -> Any:
    return await gmo.private(c, "POST", path, body=fields)


def market(symbol: str, side: str, size: str) -> dict[str, str]:
    return {"symbol": symbol, "side": side, "executionType": "MARKET", "size": size}


def resting(symbol: str, side: str, size: str, price: str) -> dict[str, str]:
    return {"symbol": symbol, "side": side, "executionType": "LIMIT", "size": size, "price": price}


async def test_a_new_order_answers_its_id_as_a_string_and_lists_it_with_numbers() -> None:
    async with running_sim() as gmo, httpx.AsyncClient() as c:
        reply = await order(gmo, c, **market("BTC_JPY", "BUY", "0.01"))
        assert reply["status"] == 0 and set(reply) == {"status", "data", "responsetime"}
        assert isinstance(reply["data"], str) and reply["data"].isdigit()
        assert ISO_MS.fullmatch(reply["responsetime"])
        listed = await gmo.private(c, "GET", "/v1/orders", params={"orderId": reply["data"]})
        [view] = listed["data"]["list"]
        assert view["orderId"] == view["rootOrderId"] == int(reply["data"])
        assert (view["executionType"], view["price"], view["timeInForce"]) == ("MARKET", "0", "FAK")
        assert view["status"] == "EXECUTED" and view["executedSize"] == view["size"] == "0.01"
        assert ISO_MS.fullmatch(view["timestamp"]) and "cancelType" not in view
        [recorded] = gmo.sim.venue.all_orders()
        assert recorded.order_id == reply["data"]


BAD_ORDERS: list[tuple[dict[str, Any], str]] = [
    (market("BTC", "BUY", "0.00015"), "ERR-5114"),  # not a multiple of sizeStep
    (market("BTC", "BUY", "6"), "ERR-5126"),  # above maxOrderSize
    (resting("BTC", "BUY", "0.001", "9500000.5"), "ERR-5114"),  # off the tick
    ({**market("BTC", "BUY", "0.001"), "timeInForce": "FAS"}, "ERR-5111"),
    ({**resting("BTC", "BUY", "0.001", "9500000"), "timeInForce": "GTC"}, "ERR-5111"),
    ({**resting("ETH_JPY", "BUY", "0.01", "390000"), "timeInForce": "SOK"}, "ERR-5111"),
    ({**market("BTC", "BUY", "0.001"), "size": Decimal("0.001")}, "ERR-5106"),  # a JSON number
    (market("BTC", "LONG", "0.001"), "ERR-5106"),
    (market("DOGE", "BUY", "1"), "ERR-5106"),  # not listed
    ({**resting("BTC", "BUY", "0.001", "1"), "price": None}, "ERR-5106"),
    ({**resting("BTC", "BUY", "0.001", "9500000"), "losscutPrice": "9000000"}, "ERR-5118"),
    ({**market("BTC_JPY", "BUY", "0.01"), "losscutPrice": "9000000"}, "ERR-5118"),
    ({**market("BTC", "BUY", "0.001"), "executionType": "STOP", "price": "1"}, "ERR-5106"),
]


@pytest.mark.parametrize(("body", "expected"), BAD_ORDERS)
async def test_a_bad_order_gets_gmos_code_and_never_reaches_the_venue(
    body: dict[str, Any], expected: str
) -> None:
    async with running_sim() as gmo, httpx.AsyncClient() as c:
        text = json.dumps(body, default=float)  # a Decimal goes out as a JSON number
        reply = await gmo.private(c, "POST", "/v1/order", body=text)
        assert (reply["status"], code(reply)) == (1, expected)
        assert gmo.sim.venue.all_orders() == []


async def test_a_body_that_is_not_json_is_refused() -> None:
    async with running_sim() as gmo, httpx.AsyncClient() as c:
        assert code(await gmo.private(c, "POST", "/v1/order", body="symbol=BTC")) == "ERR-5106"


async def test_funds_and_price_band_are_checked() -> None:
    settings = VenueSettings(jpy_balance=Decimal("100000"))
    sim = running_sim(venue_settings=settings, price_band=Decimal("0.2"))
    async with sim as gmo, httpx.AsyncClient() as c:
        assert code(await order(gmo, c, **market("BTC", "BUY", "0.01"))) == "ERR-201"
        assert code(await order(gmo, c, **market("BTC", "SELL", "0.001"))) == "ERR-208"
        assert code(await order(gmo, c, **resting("BTC", "BUY", "0.001", "7900000"))) == "ERR-5121"
        assert (await order(gmo, c, **resting("BTC", "BUY", "0.001", "8100000")))["status"] == 0
        assert len(gmo.sim.venue.all_orders()) == 1


async def test_close_bulk_order_closes_by_side_and_reports_the_realized_loss_gain() -> None:
    async with running_sim() as gmo, httpx.AsyncClient() as c:
        nothing = await order(gmo, c, "/v1/closeBulkOrder", **market("BTC_JPY", "SELL", "0.01"))
        assert code(nothing) == "ERR-422"
        assert (await order(gmo, c, **market("BTC_JPY", "BUY", "0.01")))["status"] == 0
        gmo.sim.set_price("BTC_JPY", "10100000")
        closed = await order(gmo, c, "/v1/closeBulkOrder", **market("BTC_JPY", "SELL", "0.01"))
        assert closed["status"] == 0 and isinstance(closed["data"], str)
        fills = await gmo.private(c, "GET", "/v1/executions", params={"orderId": closed["data"]})
        [fill] = fills["data"]["list"]
        assert fill["settleType"] == "CLOSE" and isinstance(fill["positionId"], int)
        [venue_fill] = gmo.sim.venue.fills(closed["data"])
        assert Decimal(fill["lossGain"]) == venue_fill.loss_gain and venue_fill.loss_gain > 0
        positions = await gmo.private(c, "GET", "/v1/openPositions", params={"symbol": "BTC_JPY"})
        assert positions["data"] == {}


async def test_close_order_closes_one_position_with_gmos_checks() -> None:
    async with running_sim(**LIMITLESS) as gmo, httpx.AsyncClient() as c:
        await order(gmo, c, **market("BTC_JPY", "BUY", "0.02"))
        listed = await gmo.private(c, "GET", "/v1/openPositions", params={"symbol": "BTC_JPY"})
        [position] = listed["data"]["list"]
        pid = position["positionId"]

        def close(side: str, size: str, position_id: int = pid) -> dict[str, Any]:
            settle = [{"positionId": position_id, "size": size}]
            return {"symbol": "BTC_JPY", "side": side, "executionType": "MARKET", "settlePosition": settle}

        async def close_order(body: dict[str, Any]) -> Any:
            return await order(gmo, c, "/v1/closeOrder", **body)

        assert code(await close_order(close("BUY", "0.01"))) == "ERR-70"
        assert code(await close_order(close("SELL", "0.03"))) == "ERR-189"
        assert code(await close_order(close("SELL", "0.01", position_id=pid + 100))) == "ERR-254"
        two = close("SELL", "0.01")
        two["settlePosition"] = two["settlePosition"] * 2
        assert code(await close_order(two)) == "ERR-5106"
        # A resting close order holds half the position: closing the other half twice is ERR-200.
        holding = {**close("SELL", "0.01"), "executionType": "LIMIT", "price": "12000000"}
        assert (await close_order(holding))["status"] == 0
        after = await gmo.private(c, "GET", "/v1/openPositions", params={"symbol": "BTC_JPY"})
        assert after["data"]["list"][0]["orderdSize"] == "0.01"
        done = await close_order(close("SELL", "0.01"))
        assert done["status"] == 0 and isinstance(done["data"], str)
        assert code(await close_order(close("SELL", "0.01"))) == "ERR-200"
        left = await gmo.private(c, "GET", "/v1/openPositions", params={"symbol": "BTC_JPY"})
        [still] = left["data"]["list"]
        assert (still["positionId"], still["size"]) == (pid, "0.01")


async def test_cancel_order_answers_no_data_and_then_err_5122_and_5123() -> None:
    async with running_sim() as gmo, httpx.AsyncClient() as c:
        placed = await order(gmo, c, **resting("BTC", "BUY", "0.001", "9000000"))
        number = int(placed["data"])
        reply = await gmo.private(c, "POST", "/v1/cancelOrder", body={"orderId": number})
        assert reply["status"] == 0 and "data" not in reply
        [cancelled] = gmo.sim.venue.orders([placed["data"]])
        assert cancelled.status is VenueStatus.CANCELED
        again = await gmo.private(c, "POST", "/v1/cancelOrder", body={"orderId": number})
        unknown = await gmo.private(c, "POST", "/v1/cancelOrder", body={"orderId": number + 50})
        as_text = await gmo.private(c, "POST", "/v1/cancelOrder", body={"orderId": str(number)})
        assert [code(again), code(unknown), code(as_text)] == ["ERR-5122", "ERR-5123", "ERR-5106"]
        listed = await gmo.private(c, "GET", "/v1/orders", params={"orderId": placed["data"]})
        assert listed["data"]["list"][0]["cancelType"] == "USER"


async def test_cancel_orders_reports_each_id_with_status_0() -> None:
    async with running_sim() as gmo, httpx.AsyncClient() as c:
        live = int((await order(gmo, c, **resting("BTC", "BUY", "0.001", "9000000")))["data"])
        done = int((await order(gmo, c, **market("BTC", "BUY", "0.001")))["data"])
        reply = await gmo.private(c, "POST", "/v1/cancelOrders", body={"orderIds": [live, done, 999]})
        assert reply["status"] == 0
        assert reply["data"]["success"] == [live]
        failed = {f["orderId"]: f["message_code"] for f in reply["data"]["failed"]}
        assert failed == {done: "ERR-5122", 999: "ERR-5123"}
        too_many = await gmo.private(c, "POST", "/v1/cancelOrders", body={"orderIds": list(range(1, 12))})
        assert code(too_many) == "ERR-5106"


async def test_cancel_bulk_order_cancels_at_most_ten_matching_oldest_or_newest_first() -> None:
    async with running_sim(**LIMITLESS) as gmo, httpx.AsyncClient() as c:
        buys = [int((await order(gmo, c, **resting("BTC_JPY", "BUY", "0.01", str(9_000_000 + i))))["data"])
                for i in range(12)]
        sells = [int((await order(gmo, c, **resting("BTC_JPY", "SELL", "0.01", "11000000")))["data"])
                 for _ in range(2)]
        body = {"symbols": ["BTC_JPY"], "side": "BUY"}
        first = await gmo.private(c, "POST", "/v1/cancelBulkOrder", body=body)
        assert first["status"] == 0 and first["data"] == buys[:10]
        gmo.sim.venue.cancel(str(buys[10]))  # one more gone: only buys[11] is left to match
        rest = await gmo.private(c, "POST", "/v1/cancelBulkOrder", body={**body, "desc": True})
        assert rest["data"] == [buys[11]]
        live = {int(o.order_id) for o in gmo.sim.venue.active_orders("BTC_JPY")}
        assert live == set(sells)
