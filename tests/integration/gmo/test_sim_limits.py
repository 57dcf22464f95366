"""Rate limits per key (ERR-5003), maintenance (status 5, ERR-5201) and PREOPEN (ERR-5203) on
the simulated GMO (reference §7, §8, §10.16). The limiter's clock is driven by the test."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.gmo.sim import SimHandle, running_sim

SECOND_KEY = {"sim-key-DO-NOT-USE": "sim-secret-DO-NOT-USE", "other-key": "other-secret"}


class Ticks:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def outcome(reply: dict[str, Any]) -> str:
    return "ok" if reply["status"] == 0 else str(reply["messages"][0]["message_code"])


async def assets(gmo: SimHandle, c: httpx.AsyncClient) -> str:
    return outcome(await gmo.private(c, "GET", "/v1/account/assets"))


async def buy(gmo: SimHandle, c: httpx.AsyncClient, price: str = "9000000") -> dict[str, Any]:
    body = {"symbol": "BTC", "side": "BUY", "executionType": "LIMIT", "price": price, "size": "0.001"}
    reply: dict[str, Any] = await gmo.private(c, "POST", "/v1/order", body=body)
    return reply


async def test_a_burst_over_the_limit_gets_err_5003_per_key_and_per_method() -> None:
    ticks = Ticks()
    async with running_sim(monotonic=ticks, credentials=SECOND_KEY) as gmo, httpx.AsyncClient() as c:
        burst = [await assets(gmo, c) for _ in range(21)]
        assert burst == ["ok"] * 20 + ["ERR-5003"]
        refused = await gmo.private(c, "GET", "/v1/account/assets")
        assert refused["status"] == 1
        # POST is a separate budget: orders still pass, and a refused GET took no token.
        posts = [outcome(await buy(gmo, c)) for _ in range(21)]
        assert posts == ["ok"] * 20 + ["ERR-5003"]
        assert len(gmo.sim.venue.all_orders()) == 20  # the refused order never reached the venue
        other = SimHandle(gmo.base_url, "other-key", "other-secret", gmo.sim)
        assert await assets(other, c) == "ok"
        ticks.now += 0.05  # one twentieth of a second buys one request
        assert [await assets(gmo, c) for _ in range(2)] == ["ok", "ERR-5003"]
        ticks.now += 1.0
        assert [await assets(gmo, c) for _ in range(20)] == ["ok"] * 20


async def test_requests_within_the_limit_are_never_refused() -> None:
    ticks = Ticks()
    async with running_sim(monotonic=ticks) as gmo, httpx.AsyncClient() as c:
        results = []
        for _ in range(60):
            results.append(await assets(gmo, c))
            ticks.now += 1 / 20
        assert results == ["ok"] * 60


async def test_limits_can_be_lifted_and_changed_while_running() -> None:
    ticks = Ticks()
    async with running_sim(monotonic=ticks, get_per_s=None) as gmo, httpx.AsyncClient() as c:
        assert [await assets(gmo, c) for _ in range(40)] == ["ok"] * 40
        changed = await c.post(gmo.base_url + "/sim/rate_limits", json={"get_per_s": 3, "post_per_s": None})
        assert changed.status_code == 200
        assert [await assets(gmo, c) for _ in range(4)] == ["ok"] * 3 + ["ERR-5003"]
        bad = await c.post(gmo.base_url + "/sim/rate_limits", json={"get_per_s": "fast"})
        assert bad.status_code == 400


async def test_maintenance_answers_status_5_everywhere_but_status() -> None:
    async with running_sim() as gmo, httpx.AsyncClient() as c:
        resting = await buy(gmo, c, "9900000")
        assert resting["status"] == 0
        switched = await c.post(gmo.base_url + "/sim/maintenance", json={"on": True})
        assert switched.json()["status"] == "MAINTENANCE"
        assert (await gmo.public(c, "/v1/status"))["data"] == {"status": "MAINTENANCE"}
        for reply in (
            await gmo.public(c, "/v1/ticker"),
            await buy(gmo, c),
            await gmo.private(c, "GET", "/v1/activeOrders", params={"symbol": "BTC"}),
        ):
            assert reply["status"] == 5
            assert reply["messages"][0]["message_code"] == "ERR-5201"
        gmo.sim.set_price("BTC", "9800000")  # crosses the resting buy, but nothing matches now
        [order] = gmo.sim.venue.all_orders()
        assert order.executed_size == 0
        gmo.sim.set_maintenance(False)
        assert (await gmo.public(c, "/v1/status"))["data"] == {"status": "OPEN"}
        [order] = gmo.sim.venue.all_orders()
        assert order.executed_size == order.size  # matched when the market reopened


async def test_preopen_refuses_new_orders_but_answers_the_rest() -> None:
    async with running_sim() as gmo, httpx.AsyncClient() as c:
        live = await buy(gmo, c)
        response = await c.post(gmo.base_url + "/sim/status", json={"status": "PREOPEN"})
        assert response.json()["status"] == "PREOPEN"
        assert (await gmo.public(c, "/v1/status"))["data"] == {"status": "PREOPEN"}
        refused = await buy(gmo, c)
        assert (refused["status"], outcome(refused)) == (1, "ERR-5203")
        cancel = await gmo.private(c, "POST", "/v1/cancelOrder", body={"orderId": int(live["data"])})
        assert outcome(cancel) == "ok"
        assert len(gmo.sim.venue.all_orders()) == 1
        await c.post(gmo.base_url + "/sim/status", json={"status": "OPEN"})
        assert outcome(await buy(gmo, c)) == "ok"
