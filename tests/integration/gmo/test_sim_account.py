"""Positions, account and public endpoints of the simulated GMO (reference §3.3, §4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from adapters.paper import VenueSettings
from tests.integration.gmo.sim import SimHandle, running_sim

LIMITLESS: dict[str, Any] = {"get_per_s": None, "post_per_s": None}


async def market(
    gmo: SimHandle, c: httpx.AsyncClient, symbol: str, side: str, size: str, path: str = "/v1/order"
) -> str:
    body = {"symbol": symbol, "side": side, "executionType": "MARKET", "size": size}
    reply = await gmo.private(c, "POST", path, body=body)
    assert reply["status"] == 0, reply
    return str(reply["data"])


async def get(gmo: SimHandle, c: httpx.AsyncClient, path: str, **params: str) -> Any:
    reply = await gmo.private(c, "GET", path, params=params)
    assert reply["status"] == 0, reply
    return reply["data"]


async def test_positions_are_kept_per_side_with_ids_that_end_when_flat() -> None:
    async with running_sim(**LIMITLESS) as gmo, httpx.AsyncClient() as c:
        await market(gmo, c, "BTC_JPY", "BUY", "0.02")
        await market(gmo, c, "BTC_JPY", "SELL", "0.01")
        await market(gmo, c, "ETH_JPY", "BUY", "0.1")
        positions = (await get(gmo, c, "/v1/openPositions", symbol="BTC_JPY"))["list"]
        by_side = {p["side"]: p for p in positions}
        assert set(by_side) == {"BUY", "SELL"}
        assert by_side["BUY"]["positionId"] != by_side["SELL"]["positionId"]
        assert set(by_side["BUY"]) >= {"orderdSize", "lossGain", "leverage", "losscutPrice", "timestamp"}
        [net] = [p.quantity for p in gmo.sim.venue.positions() if p.symbol == "BTC_JPY"]
        assert Decimal(by_side["BUY"]["size"]) - Decimal(by_side["SELL"]["size"]) == net
        # Unrealized P&L is the mark against the entry price, per side.
        mark = gmo.sim.venue.market_price("BTC_JPY")
        assert mark is not None
        for p in positions:
            sign = 1 if p["side"] == "BUY" else -1
            expected = (mark - Decimal(p["price"])) * Decimal(p["size"]) * sign
            assert Decimal(p["lossGain"]) == expected
        summary = (await get(gmo, c, "/v1/positionSummary"))["list"]
        assert {(s["symbol"], s["side"]) for s in summary} == {
            ("BTC_JPY", "BUY"), ("BTC_JPY", "SELL"), ("ETH_JPY", "BUY")
        }
        only_eth = (await get(gmo, c, "/v1/positionSummary", symbol="ETH_JPY"))["list"]
        assert [s["sumPositionQuantity"] for s in only_eth] == ["0.1"]
        # Flat, then open again: a new position id.
        await market(gmo, c, "BTC_JPY", "SELL", "0.02", path="/v1/closeBulkOrder")
        await market(gmo, c, "BTC_JPY", "BUY", "0.01")
        reopened = (await get(gmo, c, "/v1/openPositions", symbol="BTC_JPY"))["list"]
        new_buy = next(p for p in reopened if p["side"] == "BUY")
        assert new_buy["positionId"] not in {p["positionId"] for p in positions}


async def test_margin_counts_open_positions_at_the_leverage() -> None:
    async with running_sim(**LIMITLESS) as gmo, httpx.AsyncClient() as c:
        assert (await get(gmo, c, "/v1/account/margin"))["margin"] == "0"
        await market(gmo, c, "BTC_JPY", "BUY", "0.02")
        await market(gmo, c, "ETH_JPY", "SELL", "0.5")
        margin = await get(gmo, c, "/v1/account/margin")
        assert margin["marginCallStatus"] == "NORMAL"
        assert all(isinstance(v, str) for v in margin.values())
        positions = [p for s in ("BTC_JPY", "ETH_JPY")
                     for p in (await get(gmo, c, "/v1/openPositions", symbol=s))["list"]]
        notional = sum(Decimal(p["price"]) * Decimal(p["size"]) for p in positions)
        assert Decimal(margin["margin"]) == notional / 2
        assert Decimal(margin["profitLoss"]) == sum(Decimal(p["lossGain"]) for p in positions)


async def test_assets_hold_back_what_live_orders_need() -> None:
    settings = VenueSettings(jpy_balance=Decimal("1000000"), holdings={"BTC": Decimal("1")})
    async with running_sim(venue_settings=settings) as gmo, httpx.AsyncClient() as c:
        buy = {"symbol": "ETH", "side": "BUY", "executionType": "LIMIT", "price": "300000", "size": "1"}
        sell = {"symbol": "BTC", "side": "SELL", "executionType": "LIMIT", "price": "11000000", "size": "0.3"}
        for body in (buy, sell):
            assert (await gmo.private(c, "POST", "/v1/order", body=body))["status"] == 0
        assets = await get(gmo, c, "/v1/account/assets")
        assert assets[0]["symbol"] == "JPY"
        by_symbol = {a["symbol"]: a for a in assets}
        assert by_symbol["BTC"]["amount"] == "1" and by_symbol["BTC"]["available"] == "0.7"
        eth_taker = gmo.sim.rules["ETH"].taker_fee
        held = Decimal("300000") * (1 + eth_taker)
        assert Decimal(by_symbol["JPY"]["available"]) == Decimal("1000000") - held
        assert by_symbol["BTC"]["conversionRate"] == "10000000"


async def test_public_status_ticker_and_symbols() -> None:
    async with running_sim() as gmo, httpx.AsyncClient() as c:
        assert (await gmo.public(c, "/v1/status"))["data"] == {"status": "OPEN"}
        gmo.sim.set_price("BTC", "10500000")
        gmo.sim.set_price("BTC", "9800000")
        [btc] = (await gmo.public(c, "/v1/ticker", {"symbol": "BTC"}))["data"]
        assert (btc["last"], btc["high"], btc["low"]) == ("9800000", "10500000", "9800000")
        assert Decimal(btc["bid"]) < Decimal(btc["last"]) < Decimal(btc["ask"])
        everything = (await gmo.public(c, "/v1/ticker"))["data"]
        assert {t["symbol"] for t in everything} == set(gmo.sim.rules)
        unknown = await gmo.public(c, "/v1/ticker", {"symbol": "NOPE"})
        assert unknown["messages"][0]["message_code"] == "ERR-5106"
        symbols = (await gmo.public(c, "/v1/symbols"))["data"]
        assert {s["symbol"]: Decimal(s["sizeStep"]) for s in symbols} == {
            name: rules.size_step for name, rules in gmo.sim.rules.items()
        }


async def test_an_unknown_path_or_method_is_404_with_err_5204() -> None:
    async with running_sim() as gmo, httpx.AsyncClient() as c:
        for response in (
            await c.get(gmo.private_url + "/v1/nothing"),
            await c.get(gmo.private_url + "/v1/order"),
            await c.post(gmo.public_url + "/v1/status"),
        ):
            assert response.status_code == 404
            assert response.json()["messages"][0]["message_code"] == "ERR-5204"
