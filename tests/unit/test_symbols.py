"""Symbol rules: rounding to the size step and the price tick, and the order size bounds."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hexexec.domain.symbols import SymbolRules, default_rules, is_leverage
from tests.unit.strategies import STEPS, loose_decimals, many_digit_decimals, symbol_rules

# Huge values too: rounding must stay exact past Decimal's default 28 digits.
SIZES = st.one_of(
    loose_decimals(), many_digit_decimals(), st.integers(1, 10**40).map(Decimal).map(lambda d: d / 7)
)
# The checks do their own arithmetic with 100 digits, so they are exact for these inputs (the
# code under test keeps the default 28).
EXACT = 100


def on_grid(value: Decimal, step: Decimal) -> bool:
    return value % step == 0


@given(symbol_rules(), SIZES)
@example(default_rules("BTC_JPY"), Decimal("0.00099999999999999999999999999999"))
@example(default_rules("BTC"), Decimal("0.99999999999999999999999999999999"))
def test_round_size_never_increases_and_lands_on_a_step(rules: SymbolRules, size: Decimal) -> None:
    # The first example is a regression: dividing with 28 digits rounded it *up* to 0.001.
    rounded = rules.round_size(size)
    with localcontext(prec=EXACT):
        assert rounded <= size
        assert size - rounded < rules.size_step  # the largest step multiple not above it
        assert on_grid(rounded, rules.size_step)
        assert rounded >= 0
    assert rules.round_size(rounded) == rounded


@given(symbol_rules(), st.integers(0, 10**9))
def test_round_size_keeps_sizes_already_on_the_grid(rules: SymbolRules, steps: int) -> None:
    size = steps * rules.size_step
    assert rules.round_size(size) == size


@given(symbol_rules(), SIZES)
@example(default_rules("BTC_JPY"), Decimal("1.49999999999999999999999999999"))
def test_round_price_lands_on_the_nearest_tick(rules: SymbolRules, price: Decimal) -> None:
    rounded = rules.round_price(price)
    with localcontext(prec=EXACT):
        assert on_grid(rounded, rules.tick_size)
        assert abs(rounded - price) * 2 <= rules.tick_size
        # No other tick is closer.
        assert abs(rounded - price) <= abs(rounded + rules.tick_size - price)
        assert abs(rounded - price) <= abs(rounded - rules.tick_size - price)
    assert rules.round_price(rounded) == rounded


def test_round_price_breaks_ties_to_even_ticks() -> None:
    rules = SymbolRules("BTC_JPY", Decimal("0.01"), Decimal("5"), Decimal("0.01"), Decimal("1"))
    assert rules.round_price(Decimal("100.5")) == Decimal("100")
    assert rules.round_price(Decimal("101.5")) == Decimal("102")


@given(symbol_rules(), SIZES)
def test_size_problem_iff_outside_bounds(rules: SymbolRules, size: Decimal) -> None:
    problem = rules.size_problem(size)
    inside = rules.min_order_size <= size <= rules.max_order_size
    assert (problem is None) == inside
    if problem is not None:
        assert rules.symbol in problem
        assert ("below" in problem) == (size < rules.min_order_size)


@given(symbol_rules())
def test_size_problem_bounds_are_inclusive(rules: SymbolRules) -> None:
    assert rules.size_problem(rules.min_order_size) is None
    assert rules.size_problem(rules.max_order_size) is None
    assert rules.size_problem(rules.min_order_size - rules.size_step) is not None
    assert rules.size_problem(rules.max_order_size + rules.size_step) is not None


@pytest.mark.parametrize("field", ["min_order_size", "max_order_size", "size_step", "tick_size"])
@pytest.mark.parametrize("bad", [Decimal("0"), Decimal("-1"), Decimal("NaN"), Decimal("Infinity"), 1])
def test_rules_refuse_non_positive_or_non_decimal_values(field: str, bad: object) -> None:
    values = {
        "min_order_size": Decimal("0.01"),
        "max_order_size": Decimal("5"),
        "size_step": Decimal("0.01"),
        "tick_size": Decimal("1"),
        field: bad,
    }
    with pytest.raises(ValueError, match=field):
        SymbolRules("BTC_JPY", **values)  # type: ignore[arg-type]


def test_rules_refuse_min_above_max() -> None:
    with pytest.raises(ValueError, match="min_order_size"):
        SymbolRules("BTC", Decimal("2"), Decimal("1"), Decimal("0.1"), Decimal("1"))


@pytest.mark.parametrize("symbol", ["BTC", "BTC_JPY", "ETH", "ETH_JPY", "XRP_JPY"])
def test_default_rules_are_valid_and_match_the_symbol_kind(symbol: str) -> None:
    rules = default_rules(symbol)
    assert rules.symbol == symbol
    assert rules.leverage == is_leverage(symbol) == symbol.endswith("_JPY")
    assert rules.size_step in STEPS
    assert rules.size_problem(rules.min_order_size) is None
