"""GmoMarketData over real HTTP to the simulated GMO's public ticker: prices cached and refreshed
in the background; reading one never touches the network; outages keep the last known price."""

from __future__ import annotations

from decimal import Decimal

import httpx
import trio

from adapters.gmo import GmoMarketData
from tests.integration.gmo.sim import DEFAULT_PRICES, running_sim


class CountingTransport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def until_price(market: GmoMarketData, symbol: str, price: Decimal) -> None:
    with trio.fail_after(5):
        while True:
            if await market.last_price(symbol) == price:
                return
            await trio.sleep(0.01)


async def test_prices_come_from_the_ticker_and_follow_the_market() -> None:
    async with running_sim() as gmo:
        async with GmoMarketData.open(gmo.base_url, ["BTC", "BTC_JPY"], refresh_s=0.02) as market:
            # ready once the first refresh is done: the prices are there already
            assert await market.last_price("BTC") == DEFAULT_PRICES["BTC"]
            assert await market.last_price("BTC_JPY") == DEFAULT_PRICES["BTC_JPY"]
            assert await market.last_price("ETH") is None  # listed, but not asked for
            assert await market.last_price("DOGE") is None
            gmo.sim.set_price("BTC_JPY", Decimal("10123456"))
            await until_price(market, "BTC_JPY", Decimal("10123456"))
            assert market.as_of("BTC_JPY") is not None


async def test_reading_a_price_never_calls_the_venue() -> None:
    wire = CountingTransport()
    async with running_sim() as gmo:
        async with GmoMarketData.open(gmo.base_url, refresh_s=3600, transport=wire) as market:
            calls = list(wire.paths)
            prices = [await market.last_price(s) for s in ("BTC", "ETH", "BTC_JPY") * 100]
            assert wire.paths == calls == ["/public/v1/ticker"]
            assert set(prices) == {DEFAULT_PRICES["BTC"], DEFAULT_PRICES["ETH"]}


async def test_an_outage_keeps_the_last_price_and_refreshing_resumes_by_itself() -> None:
    async with running_sim() as gmo:
        async with GmoMarketData.open(gmo.base_url, ["ETH"], refresh_s=0.02,
                                      max_pause_s=0.1) as market:
            gmo.sim.set_maintenance(True)
            failures = market.failures
            with trio.fail_after(5):
                while True:
                    if market.failures > failures:
                        break
                    await trio.sleep(0.01)
            gmo.sim.set_price("ETH", Decimal("390000"))  # moves while the ticker is down
            assert await market.last_price("ETH") == DEFAULT_PRICES["ETH"]
            gmo.sim.set_maintenance(False)
            await until_price(market, "ETH", Decimal("390000"))
