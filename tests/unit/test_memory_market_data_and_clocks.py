"""MemoryMarketData, and the system clocks the memory world runs on (adapters/system)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import trio

from adapters.memory.market_data import MemoryMarketData
from adapters.system.clock import SystemClock, TrioWallClock

T0 = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


async def test_prices_are_set_replaced_and_forgotten() -> None:
    market = MemoryMarketData({"BTC_JPY": Decimal("10000000")})
    assert await market.last_price("BTC_JPY") == Decimal("10000000")
    assert await market.last_price("ETH_JPY") is None
    market.set_price("BTC_JPY", Decimal("10000001.5"))
    assert await market.last_price("BTC_JPY") == Decimal("10000001.5")
    market.forget("BTC_JPY")
    assert await market.last_price("BTC_JPY") is None


@pytest.mark.parametrize("bad", [Decimal(0), Decimal(-1), Decimal("NaN"), Decimal("Infinity"), 1.5])
def test_a_price_is_a_positive_finite_decimal(bad: object) -> None:
    with pytest.raises(ValueError):
        MemoryMarketData().set_price("BTC_JPY", bad)  # type: ignore[arg-type]


def test_the_system_clock_is_aware_utc() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    assert now.utcoffset() == timedelta(0) and now >= before


async def test_the_trio_wall_clock_moves_with_virtual_time(autojump_clock: object) -> None:
    tokyo = T0.astimezone(timezone(timedelta(hours=9)))
    clock = TrioWallClock(tokyo)
    assert clock.now() == T0 and clock.now().utcoffset() == timedelta(0)
    await trio.sleep(3600.25)
    assert clock.now() == T0 + timedelta(seconds=3600.25)


async def test_the_trio_wall_clock_needs_an_aware_start() -> None:
    with pytest.raises(ValueError):
        TrioWallClock(datetime(2024, 5, 1))
