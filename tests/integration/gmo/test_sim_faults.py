"""Faults on demand (reference §6, §11): an order accepted whose reply is lost, requests that time
out, gateway 5xx, injected error codes and latency; driven in-process and over ``/sim/...``."""

from __future__ import annotations

import json

import httpx
import pytest
import trio

from adapters.paper.http import SimFault
from hexexec.domain.order_status import VenueStatus
from tests.integration.gmo.sim import SimHandle, running_sim

RESTING = {"symbol": "BTC", "side": "BUY", "executionType": "LIMIT", "price": "9000000", "size": "0.001"}
MARKET = {"symbol": "BTC_JPY", "side": "BUY", "executionType": "MARKET", "size": "0.01"}


async def released(gmo: SimHandle) -> None:
    """Wait until the server has let go of every held request (the client hung up)."""
    with trio.fail_after(5):
        await gmo.sim.holds.wait_idle()
    assert gmo.sim.holds.count == 0


async def test_an_order_whose_reply_is_withheld_is_recorded_by_the_venue() -> None:
    async with running_sim() as gmo, httpx.AsyncClient(timeout=0.3) as c:
        gmo.sim.drop_next_reply("/v1/order", mode="hold")
        with pytest.raises(httpx.ReadTimeout):
            await gmo.private(c, "POST", "/v1/order", body=RESTING)
        await released(gmo)
        [order] = gmo.sim.venue.all_orders()
        assert (order.symbol, str(order.price), order.status) == ("BTC", "9000000", VenueStatus.ORDERED)
        # A reconciling client finds it on the venue through the API.
        active = await gmo.private(c, "GET", "/v1/activeOrders", params={"symbol": "BTC"})
        assert [o["orderId"] for o in active["data"]["list"]] == [int(order.order_id)]
        assert gmo.sim.faults.pending == []
        assert (await gmo.private(c, "POST", "/v1/order", body=RESTING))["status"] == 0


async def test_an_order_whose_connection_closes_mid_reply_is_recorded_and_filled() -> None:
    async with running_sim() as gmo, httpx.AsyncClient(timeout=5) as c:
        gmo.sim.drop_next_reply("/v1/order", mode="close")
        with pytest.raises(httpx.RemoteProtocolError):
            await gmo.private(c, "POST", "/v1/order", body=MARKET)
        [order] = gmo.sim.venue.all_orders()
        assert order.status is VenueStatus.EXECUTED
        fills = await gmo.private(c, "GET", "/v1/executions", params={"orderId": order.order_id})
        assert len(fills["data"]["list"]) == 1


async def test_a_request_that_times_out_never_reaches_the_venue() -> None:
    async with running_sim() as gmo, httpx.AsyncClient(timeout=0.3) as c:
        gmo.sim.timeout_next("/v1/order")
        with pytest.raises(httpx.ReadTimeout):
            await gmo.private(c, "POST", "/v1/order", body=RESTING)
        await released(gmo)
        assert gmo.sim.venue.all_orders() == []


async def test_a_held_request_is_closed_after_hold_s_if_the_client_waits() -> None:
    async with running_sim(hold_s=0.2) as gmo, httpx.AsyncClient(timeout=5) as c:
        gmo.sim.timeout_next()
        with pytest.raises(httpx.RemoteProtocolError):
            await gmo.private(c, "GET", "/v1/account/assets")


@pytest.mark.parametrize(("after", "status", "placed"), [(False, 503, 0), (True, 502, 1)])
async def test_a_gateway_error_comes_before_or_after_the_venue_acts(
    after: bool, status: int, placed: int
) -> None:
    async with running_sim() as gmo, httpx.AsyncClient(timeout=5) as c:
        gmo.sim.http_error_next(status, "/v1/order", after=after)
        body = json.dumps(MARKET)
        headers = gmo.signed_headers("POST", "/v1/order", body)
        response = await c.post(gmo.private_url + "/v1/order", content=body, headers=headers)
        assert response.status_code == status
        assert response.headers["content-type"].startswith("text/html")
        assert len(gmo.sim.venue.all_orders()) == placed


@pytest.mark.parametrize(("code", "status"), [("ERR-5003", 1), ("ERR-554", 1), ("ERR-5202", 5)])
async def test_an_injected_error_code_is_answered_without_acting(code: str, status: int) -> None:
    async with running_sim() as gmo, httpx.AsyncClient(timeout=5) as c:
        gmo.sim.error_next(code, "/v1/order", status=status)
        reply = await gmo.private(c, "POST", "/v1/order", body=MARKET)
        assert (reply["status"], reply["messages"][0]["message_code"]) == (status, code)
        assert gmo.sim.venue.all_orders() == []


async def test_latency_delays_requests_past_a_short_client_timeout() -> None:
    async with running_sim(latency_s=0.4) as gmo, httpx.AsyncClient(timeout=5) as c:
        started = trio.current_time()
        assert (await gmo.public(c, "/v1/status"))["status"] == 0
        assert trio.current_time() - started >= 0.4
        with pytest.raises(httpx.ReadTimeout):
            await c.get(gmo.public_url + "/v1/status", timeout=0.1)
        gmo.sim.set_latency(0)
        gmo.sim.delay_next(0.3, "/v1/ticker")
        started = trio.current_time()
        await gmo.public(c, "/v1/status")  # not the delayed path: the fault stays
        assert len(gmo.sim.faults.pending) == 1
        await gmo.public(c, "/v1/ticker")
        assert trio.current_time() - started >= 0.3
        assert gmo.sim.faults.pending == []


async def test_faults_are_driven_and_checked_over_http() -> None:
    async with running_sim() as gmo, httpx.AsyncClient(timeout=5) as c:
        control = gmo.base_url + "/sim"
        for bad in ({"kind": "explode"}, {"kind": "timeout", "colour": "red"}, {"path": "/v1/order"}):
            assert (await c.post(control + "/fault", json=bad)).status_code == 400
        fault = {"kind": "drop_reply", "path": "/v1/order", "mode": "close"}
        assert (await c.post(control + "/fault", json=fault)).json()["pending"] == 1
        state = (await c.get(control + "/state")).json()
        assert [f["kind"] for f in state["pending_faults"]] == ["drop_reply"]
        with pytest.raises(httpx.RemoteProtocolError):
            await gmo.private(c, "POST", "/v1/order", body=RESTING)
        orders = (await c.get(control + "/orders")).json()
        assert [(o["symbol"], o["status"]) for o in orders] == [("BTC", "ORDERED")]
        await c.post(control + "/fault", json={"kind": "error", "code": "ERR-5003", "count": 2})
        await c.post(control + "/faults/clear")
        assert (await c.get(control + "/state")).json()["pending_faults"] == []
        await c.post(control + "/price", json={"symbol": "BTC", "price": "8900000"})
        fills = (await c.get(control + "/fills")).json()
        assert [f["orderId"] for f in fills] == [orders[0]["orderId"]]


def test_a_fault_is_checked_when_made() -> None:
    for bad in (
        {"kind": "latency", "delay_s": -1},
        {"kind": "http_error", "http_status": 404},
        {"kind": "drop_reply", "mode": "sometimes"},
        {"kind": "timeout", "count": 0},
        {"kind": "timeout", "path": "v1/order"},
    ):
        with pytest.raises(ValueError):
            SimFault.from_json(bad)
