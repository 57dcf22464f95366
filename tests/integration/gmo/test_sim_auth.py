"""The simulated GMO checks private requests as GMO does: the reference's worked example (§1) is
accepted byte for byte, and every header problem gets its own error code (§8)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from adapters.paper.http import SimSettings
from adapters.paper.http.auth import sign
from tests.integration.gmo.sim import SimHandle, running_sim

# The reference's made-up credentials and its worked example (gmo-coin-api.md §1).
KEY = "my-key-DO-NOT-USE"
SECRET = "my-secret-DO-NOT-USE"
STAMP = "1700000000123"
AT_STAMP = datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
ORDER_BODY = (
    '{"symbol":"BTC","side":"BUY","executionType":"LIMIT","timeInForce":"SOK",'
    '"price":"9500000","size":"0.0001"}'
)
VECTORS = [
    ("GET", "/v1/activeOrders", "", "e98edf5031005d4eaee517c2372b7090f7f8b8d126d00a7fb9c60e6e54695e92"),
    ("POST", "/v1/order", ORDER_BODY, "04ed031f9d2de288103843f76d514e71c64eb294fc2709632090642457299a21"),
    ("PUT", "/v1/ws-auth", "", "19ed3d1b898676319068d4799a62a49f32aa597a47af02a9acfef1ff0e1623f0"),
    ("POST", "/v1/ws-auth", "{}", "0de993da99717016550120e7481cf74b1ff62e211d6cc6797aa00aab4f5ba39a"),
    ("POST", "/v1/ws-auth", "", "5e9661072fa5f0a878cd7c2dcf0b2a8d2d0286f043a701acae9141a637988cef"),
]


def at_stamp() -> datetime:
    return AT_STAMP


def code(reply: dict[str, object]) -> str:
    messages = reply["messages"]
    assert isinstance(messages, list)
    return str(messages[0]["message_code"])


@pytest.mark.parametrize(("method", "path", "body", "expected"), VECTORS)
def test_sign_reproduces_the_reference_vectors(method: str, path: str, body: str, expected: str) -> None:
    assert sign(SECRET, STAMP, method, path, body) == expected


def test_settings_never_show_a_secret() -> None:
    settings = SimSettings(credentials={KEY: SECRET})
    assert SECRET not in repr(settings) and SECRET not in str(settings)


async def test_the_reference_get_is_accepted_with_its_query_unsigned() -> None:
    async with running_sim(now=at_stamp, credentials={KEY: SECRET}) as gmo, httpx.AsyncClient() as c:
        headers = {"API-KEY": KEY, "API-TIMESTAMP": STAMP, "API-SIGN": VECTORS[0][3]}
        url = gmo.private_url + "/v1/activeOrders?symbol=BTC&page=1&count=100"
        reply = (await c.get(url, headers=headers)).json()
        assert reply["status"] == 0 and reply["data"] == {}
        # Signing the query as well (gogmocoin's way) is refused.
        query_signed = sign(SECRET, STAMP, "GET", "/v1/activeOrders?symbol=BTC&page=1&count=100")
        bad = (await c.get(url, headers={**headers, "API-SIGN": query_signed})).json()
        assert bad["status"] == 1 and code(bad) == "ERR-5010"


async def test_the_reference_post_places_the_order_and_any_other_bytes_do_not() -> None:
    async with running_sim(now=at_stamp, credentials={KEY: SECRET}) as gmo, httpx.AsyncClient() as c:
        headers = {"API-KEY": KEY, "API-TIMESTAMP": STAMP, "API-SIGN": VECTORS[1][3]}
        url = gmo.private_url + "/v1/order"
        respaced = ORDER_BODY.replace(",", ", ")  # the same JSON, other bytes
        with_prefix = sign(SECRET, STAMP, "POST", "/private/v1/order", ORDER_BODY)
        upper = VECTORS[1][3].upper()
        refused = [
            (await c.post(url, content=respaced, headers=headers)).json(),
            (await c.post(url, content=ORDER_BODY, headers={**headers, "API-SIGN": with_prefix})).json(),
            (await c.post(url, content=ORDER_BODY, headers={**headers, "API-SIGN": upper})).json(),
        ]
        assert [code(r) for r in refused] == ["ERR-5010"] * 3
        assert gmo.sim.venue.all_orders() == []
        reply = (await c.post(url, content=ORDER_BODY, headers=headers)).json()
        assert reply["status"] == 0 and isinstance(reply["data"], str)
        [order] = gmo.sim.venue.all_orders()
        assert order.order_id == reply["data"]
        assert (order.symbol, order.side.value, str(order.price), str(order.size)) == (
            "BTC", "BUY", "9500000", "0.0001",
        )


async def private_status(gmo: SimHandle, c: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, object]:
    response = await c.get(gmo.private_url + "/v1/account/assets", headers=headers)
    assert response.status_code == 200
    reply: dict[str, object] = response.json()
    return reply


async def test_each_header_problem_has_its_code() -> None:
    settings: dict[str, Any] = {"credentials": {KEY: SECRET}, "stale_after_ms": 2000, "ahead_after_ms": 1000}
    async with running_sim(now=at_stamp, **settings) as gmo, httpx.AsyncClient() as c:
        now = int(STAMP)

        def signed(stamp: str, key: str = KEY) -> dict[str, str]:
            return gmo.signed_headers("GET", "/v1/account/assets", timestamp=stamp) | {"API-KEY": key}

        good = signed(str(now))
        cases = {
            "ERR-5011": {k: v for k, v in good.items() if k != "API-KEY"},
            "ERR-5012": signed(str(now), key="someone-else"),
            "ERR-5007": {k: v for k, v in good.items() if k != "API-TIMESTAMP"},
            "ERR-5008": signed(str(now - 2001)),
            "ERR-5009": signed(str(now + 1001)),
            "ERR-5010": {**good, "API-SIGN": "0" * 64},
        }
        not_a_number = signed("1700000000.123")
        for expected, headers in [*cases.items(), ("ERR-5007", not_a_number)]:
            reply = await private_status(gmo, c, headers)
            assert (reply["status"], code(reply)) == (1, expected), expected
        for edge in (now - 2000, now + 1000, now):  # the window's ends are still inside
            assert (await private_status(gmo, c, signed(str(edge))))["status"] == 0


async def test_every_configured_key_signs_with_its_own_secret() -> None:
    credentials = {KEY: SECRET, "second-key": "second-secret"}
    async with running_sim(credentials=credentials) as gmo, httpx.AsyncClient() as c:
        stamp = str(gmo.sim.now_ms())
        for key, secret in credentials.items():
            right = {"API-KEY": key, "API-TIMESTAMP": stamp,
                     "API-SIGN": sign(secret, stamp, "GET", "/v1/account/margin")}
            other = credentials[KEY] if key != KEY else "second-secret"
            wrong = {**right, "API-SIGN": sign(other, stamp, "GET", "/v1/account/margin")}
            url = gmo.private_url + "/v1/account/margin"
            assert (await c.get(url, headers=right)).json()["status"] == 0
            assert code((await c.get(url, headers=wrong)).json()) == "ERR-5010"
