"""Positions and PnL (DESIGN §5) for any fill sequence: random sides, sizes, prices, signed fees.

Tolerance. Money is Decimal with the default 28 significant digits. In these tests prices are
multiples of 0.5 up to 2e7 and sizes multiples of 0.0001 up to 5, so sizes, products and sums of
fills are exact. The only rounding is the weighted average price (a division) and the products
and sums that use it: each rounds once, with a relative error of at most half a unit in the 28th
digit (5e-28), on an amount no larger than N, the total traded notional Σ|price × size|. With
fewer than ten such operations per fill and at most 25 fills, the error is below
25 × 10 × 5e-28 × N = 1.25e-25 × N. We allow 1e-24 × (N + 1): eight times that bound, and still
less than a millionth of a yen on any realistic book. When no average is ever rounded (every fill
at one price) the identities hold exactly, and a test checks that too.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hexexec.domain.accounting import (
    ZERO,
    ClosedTrip,
    Position,
    PositionSide,
    apply_fill,
    order_fill_summary,
)
from hexexec.domain.fills import Fill
from hexexec.domain.orders import SettleType, Side
from tests.unit.strategies import (
    EXCHANGE,
    FEES,
    FILL_PRICES,
    FILL_SIZES,
    LEVERAGE,
    SIDES,
    T0,
    fill_lists,
)

MARKS = FILL_PRICES


def flat() -> Position:
    return Position(EXCHANGE, LEVERAGE)


def replay(fills: list[Fill], start: Position | None = None) -> tuple[Position, list[ClosedTrip]]:
    position = start or flat()
    trips: list[ClosedTrip] = []
    for fill in fills:
        effect = apply_fill(position, fill)
        position = effect.position
        if effect.closed_trip is not None:
            trips.append(effect.closed_trip)
    return position, trips


def tolerance(fills: list[Fill]) -> Decimal:
    notional = sum((f.price * f.size for f in fills), ZERO)
    return Decimal("1e-24") * (notional + 1)


def cash_flow(fill: Fill) -> Decimal:
    return -fill.side.sign * fill.price * fill.size


@given(fill_lists())
def test_quantity_is_the_signed_net_of_fills(fills: list[Fill]) -> None:
    position, _ = replay(fills)
    assert position.quantity == sum((f.side.sign * f.size for f in fills), ZERO)
    assert position.fees == sum((f.fee for f in fills), ZERO)
    assert position.size == abs(position.quantity)
    expected_side = {1: PositionSide.LONG, -1: PositionSide.SHORT, 0: None}[position.direction]
    assert position.side is expected_side


@given(fill_lists(), MARKS)
def test_realized_plus_unrealized_is_cash_plus_holdings_minus_fees(
    fills: list[Fill], mark: Decimal
) -> None:
    position, _ = replay(fills)
    left = position.realized_pnl + position.unrealized(mark)
    right = sum((cash_flow(f) for f in fills), ZERO) + position.quantity * mark - position.fees
    assert abs(left - right) <= tolerance(fills)


@given(fill_lists(), MARKS)
def test_identity_is_exact_when_every_fill_has_one_price(fills: list[Fill], mark: Decimal) -> None:
    assume(fills)
    fills = [replace(f, price=fills[0].price) for f in fills]
    position, trips = replay(fills)
    left = position.realized_pnl + position.unrealized(mark)
    right = sum((cash_flow(f) for f in fills), ZERO) + position.quantity * mark - position.fees
    assert left == right
    assert sum((t.pnl for t in trips), ZERO) + position.trip_pnl == position.realized_pnl


@given(fill_lists())
def test_round_trips_add_up_to_realized_pnl(fills: list[Fill]) -> None:
    position, trips = replay(fills)
    total = sum((t.pnl for t in trips), ZERO) + position.trip_pnl
    assert abs(total - position.realized_pnl) <= tolerance(fills)


@given(fill_lists())
def test_a_trip_closes_each_time_the_position_returns_to_flat_or_flips(fills: list[Fill]) -> None:
    position = flat()
    for fill in fills:
        before = position
        effect = apply_fill(position, fill)
        position = effect.position
        crossed = before.quantity != 0 and (
            position.quantity == 0 or position.direction != before.direction
        )
        assert (effect.closed_trip is not None) == crossed
        if effect.closed_trip is not None:
            assert effect.closed_trip.opened_at == before.trip_opened_at
            assert effect.closed_trip.closed_at == fill.timestamp
            assert effect.closed_trip.is_loss == (effect.closed_trip.pnl < 0)
        if position.quantity == 0:
            assert position.average_price == 0 and position.trip_opened_at is None
            assert position.trip_pnl == 0
        elif before.quantity == 0 or crossed:
            assert position.trip_opened_at == fill.timestamp


@given(fill_lists())
def test_replaying_the_same_fills_gives_the_same_position(fills: list[Fill]) -> None:
    first, first_trips = replay(fills)
    second, second_trips = replay(list(fills))
    assert first == second and first_trips == second_trips
    # Restarting from a stored intermediate position ends in the same place.
    cut = len(fills) // 2
    middle, _ = replay(fills[:cut])
    resumed, _ = replay(fills[cut:], start=middle)
    assert resumed == first


@st.composite
def position_and_fill(draw: st.DrawFn) -> tuple[Position, Fill]:
    fills = draw(fill_lists(max_size=10))
    position, _ = replay(fills)
    # Often larger than the position, so that flips are common.
    size = draw(FILL_SIZES | st.just(position.size) | st.just(position.size + Decimal("0.0001")))
    assume(size > 0)
    fill = Fill(
        "next", "o-next", EXCHANGE, LEVERAGE, draw(SIDES), SettleType.OPEN,
        draw(FILL_PRICES), size, draw(FEES), T0 + timedelta(days=60),
    )
    return position, fill


@given(position_and_fill())
def test_one_fill_grows_reduces_or_flips(case: tuple[Position, Fill]) -> None:
    before, fill = case
    effect = apply_fill(before, fill)
    after = effect.position
    q, signed = before.quantity, fill.side.sign * fill.size
    assert after.quantity == q + signed
    assert after.fees == before.fees + fill.fee
    assert after.realized_pnl == before.realized_pnl + effect.realized_gross - fill.fee
    assert after.updated_at == fill.timestamp
    if q == 0 or (q > 0) == (signed > 0):
        # Growing: nothing realized; the average moves by weight, between the old and the fill.
        assert effect.realized_gross == 0 and effect.closed_trip is None
        low, high = sorted([fill.price, before.average_price if q else fill.price])
        assert low <= after.average_price <= high
        if q == 0:
            assert after.average_price == fill.price
    else:
        closing = min(fill.size, abs(q))
        expected = (fill.price - before.average_price) * closing * before.direction
        assert effect.realized_gross == expected
        if fill.size < abs(q):
            assert after.average_price == before.average_price
            assert after.trip_pnl == before.trip_pnl + expected - fill.fee
            assert effect.closed_trip is None
        else:
            trip = effect.closed_trip
            assert trip is not None
            assert trip.pnl == before.trip_pnl + expected - fill.fee
            assert after.trip_pnl == 0
            if fill.size > abs(q):
                # A flip: the rest opens the other way at the fill price.
                assert after.direction == -before.direction
                assert after.size == fill.size - abs(q)
                assert after.average_price == fill.price
                assert after.trip_opened_at == fill.timestamp
            else:
                assert after.quantity == 0 and after.average_price == 0


@given(position_and_fill())
def test_apply_fill_does_not_change_its_input(case: tuple[Position, Fill]) -> None:
    before, fill = case
    copy = replace(before)
    apply_fill(before, fill)
    assert before == copy


def test_apply_fill_refuses_other_symbols_and_non_positive_sizes() -> None:
    base = Fill("e", "o", EXCHANGE, LEVERAGE, Side.BUY, SettleType.OPEN,
                Decimal("100"), Decimal("1"), Decimal("0"), T0)
    with pytest.raises(ValueError, match="ETH_JPY"):
        apply_fill(flat(), replace(base, symbol="ETH_JPY"))
    with pytest.raises(ValueError):
        apply_fill(flat(), replace(base, exchange="other"))
    for size in (Decimal("0"), Decimal("-1")):
        with pytest.raises(ValueError, match="non-positive"):
            apply_fill(flat(), replace(base, size=size))


@given(fill_lists(), MARKS)
def test_unrealized_pnl(fills: list[Fill], mark: Decimal) -> None:
    position, _ = replay(fills)
    assert position.unrealized(None) == 0
    if position.quantity != 0:
        assert position.unrealized(position.average_price) == 0
        # A long gains when the mark rises, a short when it falls.
        higher = position.unrealized(mark + 1) - position.unrealized(mark)
        assert (higher > 0) == (position.quantity > 0)
    else:
        assert position.unrealized(mark) == 0


@given(fill_lists(max_size=12))
def test_order_fill_summary(fills: list[Fill]) -> None:
    size, average = order_fill_summary(fills)
    assert size == sum((f.size for f in fills), ZERO)
    if not fills:
        assert average is None and size == 0
        return
    assert average is not None
    assert min(f.price for f in fills) <= average <= max(f.price for f in fills)
    assert abs(average * size - sum((f.price * f.size for f in fills), ZERO)) <= tolerance(fills)
    if len({f.price for f in fills}) == 1:
        assert average == fills[0].price
