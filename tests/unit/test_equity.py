"""Equity and drawdown (DESIGN §4): equity = base + realized after fees + unrealized at the
latest known price; drawdown = (peak − current) / peak × 100 over the points and the current."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, localcontext

from hypothesis import given
from hypothesis import strategies as st

from hexexec.domain.accounting import Position, apply_fill
from hexexec.domain.equity import EquityPoint, drawdown_pct, equity
from hexexec.domain.fills import Fill
from tests.unit.strategies import EXCHANGE, FILL_PRICES, LEVERAGE, T0, fill_lists, times

BASE = Decimal("1000000")
EQUITIES = st.integers(1, 10**9).map(lambda n: Decimal(n) / 100)  # positive, to the yen cent
POINTS = st.lists(st.builds(EquityPoint, times(), EQUITIES), max_size=20)


def book(fills: list[Fill], symbol: str) -> Position:
    position = Position(EXCHANGE, symbol)
    for fill in fills:
        position = apply_fill(position, fill).position
    return position


@given(fill_lists(max_size=15), fill_lists(max_size=15, symbol="ETH_JPY"), FILL_PRICES,
       st.booleans())
def test_equity_is_base_plus_realized_plus_unrealized(
    btc_fills: list[Fill], eth_fills: list[Fill], mark: Decimal, eth_has_price: bool
) -> None:
    btc, eth = book(btc_fills, LEVERAGE), book(eth_fills, "ETH_JPY")
    marks = {LEVERAGE: mark, **({"ETH_JPY": mark / 100} if eth_has_price else {})}
    total = equity(BASE, [btc, eth], marks)
    parts = [BASE, btc.realized_pnl, btc.unrealized(mark), eth.realized_pnl]
    if eth_has_price:
        parts.append(eth.unrealized(mark / 100))
    # Sums of 28-digit amounts round by half a unit in the last place, whatever the order.
    tolerance = sum(abs(p) for p in parts) * Decimal("1e-26")
    assert abs(total - sum(parts)) <= tolerance
    # With no price at all, open positions count at their average price: realized only.
    assert equity(BASE, [btc, eth], {}) == BASE + btc.realized_pnl + eth.realized_pnl
    assert equity(BASE, [], marks) == BASE


@given(POINTS, EQUITIES)
def test_drawdown_is_the_fall_from_the_peak_in_percent(points: list[EquityPoint], current: Decimal) -> None:
    dd = drawdown_pct(points, current)
    peak = max([p.equity for p in points] + [current])
    assert 0 <= dd < 100  # positive equities: never below zero, never a total loss
    assert (dd == 0) == (current == peak)
    with localcontext(prec=60):  # check without the code's 28-digit rounding
        assert abs(dd * peak / 100 - (peak - current)) <= peak * Decimal("1e-26")


@given(POINTS, EQUITIES, EQUITIES)
def test_drawdown_falls_as_equity_rises(points: list[EquityPoint], a: Decimal, b: Decimal) -> None:
    low, high = sorted([a, b])
    assert drawdown_pct(points, high) <= drawdown_pct(points, low)


@given(POINTS, EQUITIES, times(), EQUITIES)
def test_a_new_high_point_can_only_deepen_the_drawdown(
    points: list[EquityPoint], current: Decimal, at: datetime, extra: Decimal
) -> None:
    before = drawdown_pct(points, current)
    after = drawdown_pct([*points, EquityPoint(at, extra)], current)
    peak = max([p.equity for p in points] + [current])
    if extra <= peak:
        assert after == before  # a point below the peak changes nothing
    else:
        assert after > before


@given(POINTS, st.integers(-10**9, 0).map(Decimal))
def test_drawdown_with_a_loss_beyond_the_base(points: list[EquityPoint], current: Decimal) -> None:
    # Equity at or below zero after a positive peak: the whole peak and more is gone.
    dd = drawdown_pct(points, current)
    if points:
        assert dd >= 100
    else:
        assert dd == 0  # the current equity is its own peak


def test_drawdown_when_the_peak_is_not_positive() -> None:
    below = [EquityPoint(T0, Decimal("-10"))]
    assert drawdown_pct(below, Decimal("-20")) == 100
    assert drawdown_pct(below, Decimal("-10")) == 0
    assert drawdown_pct([], Decimal("-5")) == 0
