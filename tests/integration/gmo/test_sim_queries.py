"""Queries through the simulated GMO: pagination, the missing ``list`` of an empty reply, id
limits, executions by order or by id, and the one-day window of latestExecutions (reference §2, §3)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from adapters.paper import ManualClock
from tests.integration.gmo.sim import SimHandle, running_sim

LIMITLESS: dict[str, Any] = {"get_per_s": None, "post_per_s": None}


def code(reply: dict[str, Any]) -> str:
    assert reply["status"] != 0, reply
    return str(reply["messages"][0]["message_code"])


async def place(gmo: SimHandle, c: httpx.AsyncClient, **fields: str) -> int:
    reply = await gmo.private(c, "POST", "/v1/order", body=fields)
    assert reply["status"] == 0, reply
    return int(reply["data"])


async def rest_buy(gmo: SimHandle, c: httpx.AsyncClient, price: int) -> int:
    return await place(
        gmo, c, symbol="BTC", side="BUY", executionType="LIMIT", price=str(price), size="0.001"
    )


async def market_buy(gmo: SimHandle, c: httpx.AsyncClient, symbol: str = "BTC", size: str = "0.001") -> int:
    return await place(gmo, c, symbol=symbol, side="BUY", executionType="MARKET", size=size)


async def get(gmo: SimHandle, c: httpx.AsyncClient, path: str, **params: str) -> Any:
    return await gmo.private(c, "GET", path, params=params)


async def test_active_orders_pages_newest_first_and_an_empty_page_has_no_list() -> None:
    async with running_sim(**LIMITLESS) as gmo, httpx.AsyncClient() as c:
        empty = await get(gmo, c, "/v1/activeOrders", symbol="BTC")
        assert empty["status"] == 0 and empty["data"] == {}
        ids = [await rest_buy(gmo, c, 9_000_000 + i) for i in range(5)]
        pages = [
            await get(gmo, c, "/v1/activeOrders", symbol="BTC", page=str(p), count="2") for p in (1, 2, 3, 4)
        ]
        for number, page in enumerate(pages[:3], start=1):
            assert page["data"]["pagination"] == {"currentPage": number, "count": 2}
        seen = [o["orderId"] for page in pages[:3] for o in page["data"]["list"]]
        assert seen == sorted(ids, reverse=True)
        assert [len(p["data"]["list"]) for p in pages[:3]] == [2, 2, 1]
        assert pages[3]["status"] == 0 and "list" not in pages[3]["data"]
        default = await get(gmo, c, "/v1/activeOrders", symbol="BTC")
        assert default["data"]["pagination"]["count"] == 100 and len(default["data"]["list"]) == 5


async def test_query_parameters_are_checked() -> None:
    async with running_sim() as gmo, httpx.AsyncClient() as c:
        replies = [
            await get(gmo, c, "/v1/activeOrders", symbol="BTC", count="101"),
            await get(gmo, c, "/v1/activeOrders", symbol="BTC", page="0"),
            await get(gmo, c, "/v1/activeOrders"),
            await get(gmo, c, "/v1/latestExecutions", symbol="NOPE"),
            await get(gmo, c, "/v1/orders", orderId=",".join(str(i) for i in range(1, 12))),
            await get(gmo, c, "/v1/executions", orderId="1", executionId="1"),
            await get(gmo, c, "/v1/executions"),
            await get(gmo, c, "/v1/executions", executionId=",".join(str(i) for i in range(1, 12))),
        ]
        expected = ["ERR-5106"] * 4 + ["ERR-5130", "ERR-5208", "ERR-5106", "ERR-5132"]
        assert [code(r) for r in replies] == expected


async def test_orders_lists_known_ids_with_cancel_type_and_nothing_as_no_list() -> None:
    async with running_sim() as gmo, httpx.AsyncClient() as c:
        assert (await get(gmo, c, "/v1/orders", orderId="1,2"))["data"] == {}
        live = await rest_buy(gmo, c, 9_000_000)
        post_only = await place(
            gmo, c, symbol="BTC", side="BUY", executionType="LIMIT", price="10100000", size="0.001",
            timeInForce="SOK",
        )  # it would take: GMO expires it
        reply = await get(gmo, c, "/v1/orders", orderId=f"{live},{post_only},777")
        views = {o["orderId"]: o for o in reply["data"]["list"]}
        assert set(views) == {live, post_only}
        assert views[live]["status"] == "ORDERED" and "cancelType" not in views[live]
        assert (views[post_only]["status"], views[post_only]["cancelType"]) == ("EXPIRED", "EXPIRED_SOK")


async def test_executions_by_order_or_by_id_carry_position_ids_on_leverage_only() -> None:
    async with running_sim(**LIMITLESS) as gmo, httpx.AsyncClient() as c:
        spot = await market_buy(gmo, c)
        lev = await market_buy(gmo, c, "BTC_JPY", "0.01")
        [spot_fill] = (await get(gmo, c, "/v1/executions", orderId=str(spot)))["data"]["list"]
        [lev_fill] = (await get(gmo, c, "/v1/executions", orderId=str(lev)))["data"]["list"]
        assert "positionId" not in spot_fill and isinstance(lev_fill["positionId"], int)
        assert spot_fill["orderId"] == spot and isinstance(spot_fill["executionId"], int)
        assert all(isinstance(spot_fill[k], str) for k in ("size", "price", "fee", "lossGain"))
        assert spot_fill["fee"] == str(gmo.sim.venue.fills(str(spot))[0].fee)
        wanted = f"{lev_fill['executionId']},{spot_fill['executionId']},999"
        by_id = (await get(gmo, c, "/v1/executions", executionId=wanted))["data"]["list"]
        assert sorted(f["executionId"] for f in by_id) == sorted(
            [lev_fill["executionId"], spot_fill["executionId"]]
        )
        assert (await get(gmo, c, "/v1/executions", orderId="999"))["data"] == {}


async def test_latest_executions_pages_newest_first_within_one_day() -> None:
    clock = ManualClock()
    async with running_sim(now=clock.now, **LIMITLESS) as gmo, httpx.AsyncClient() as c:
        old = await market_buy(gmo, c)
        clock.advance(timedelta(hours=25))
        recent = [await market_buy(gmo, c) for _ in range(3)]
        first = await get(gmo, c, "/v1/latestExecutions", symbol="BTC", count="2")
        second = await get(gmo, c, "/v1/latestExecutions", symbol="BTC", count="2", page="2")
        third = await get(gmo, c, "/v1/latestExecutions", symbol="BTC", count="2", page="3")
        got = [f["orderId"] for p in (first, second) for f in p["data"]["list"]]
        assert got == recent[::-1]
        assert third["data"] == {}
        # The old fill is out of the window but still found by its order.
        assert len((await get(gmo, c, "/v1/executions", orderId=str(old)))["data"]["list"]) == 1
