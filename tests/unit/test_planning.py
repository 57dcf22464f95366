"""From a validated signal to the exact order (DESIGN §1): side and settlement by action, sizes
rounded down to the step and kept within bounds, exits clamped to what is held and not already
being closed."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from hexexec.domain.accounting import Position
from hexexec.domain.orders import OrderIntent, SettleType, Side
from hexexec.domain.planning import plan_order
from hexexec.domain.risk import RuleResult
from hexexec.domain.signal import Action, MessageRef, OrderType, Signal, TimeInForce
from hexexec.domain.symbols import SymbolRules, is_leverage
from tests.unit.strategies import (
    EXCHANGE,
    LEVERAGE,
    SPOT,
    T0,
    decimals_on_grid,
    loose_decimals,
    symbol_rules,
)

SIZES = loose_decimals(Decimal("20"), places=6)
PRICES = loose_decimals(Decimal("20000000"), places=3)
HELD = st.just(Decimal(0)) | decimals_on_grid(Decimal("0.0001"), 100_000)


def signal(
    action: Action,
    size: Decimal | None,
    symbol: str = LEVERAGE,
    order_type: OrderType = OrderType.LIMIT,
    price: Decimal | None = Decimal("5000000"),
    tif: TimeInForce | None = None,
) -> Signal:
    return Signal(
        MessageRef("signal:gmo", "1-0"), EXCHANGE, symbol, action, size, order_type,
        price if order_type is OrderType.LIMIT else None, tif, 7, "s", T0,
    )


def position(symbol: str, quantity: Decimal) -> Position:
    return Position(EXCHANGE, symbol, quantity=quantity,
                    average_price=Decimal("5000000") if quantity else Decimal(0), trip_opened_at=T0)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Signal, SymbolRules, Position, Decimal]:
    """A signal, rules, a position and the size already being closed: often plannable, not always."""
    symbol = draw(st.sampled_from([LEVERAGE, SPOT]))
    actions = list(Action) if is_leverage(symbol) else [Action.ENTER_LONG, Action.EXIT_LONG]
    action = draw(st.sampled_from(actions))
    order_type = draw(st.sampled_from(list(OrderType)))
    rules = draw(symbol_rules(symbol))
    step = rules.size_step
    # Within the bounds plus a bit less than a step (so rounding has work), or anything.
    fitting = st.builds(
        lambda n, extra: n * step + extra * step / 1000,
        st.integers(int(rules.min_order_size / step), int(rules.max_order_size / step)),
        st.integers(0, 999),
    )
    sizes = fitting | SIZES
    size = draw(sizes if action.is_entry else st.none() | sizes)
    tif = draw(st.none() | st.just(TimeInForce.FAK))
    sig = signal(action, size, symbol, order_type, draw(PRICES), tif)
    # Mostly the book the action is about, sometimes the other one (leverage only).
    d = action.direction
    sign = draw(st.sampled_from([d, d, -d] if is_leverage(symbol) else [1]))
    open_exit = draw(st.just(Decimal(0)) | decimals_on_grid(Decimal("0.0001"), 20_000))
    enough = fitting.map(lambda f: f + open_exit)  # room for an exit of a fitting size
    held = draw(enough | enough | HELD)
    return sig, rules, position(symbol, sign * held), open_exit


@given(cases())
def test_action_maps_to_side_and_settlement(case: tuple[Signal, SymbolRules, Position, Decimal]) -> None:
    sig, rules, pos, open_exit = case
    planned = plan_order(sig, rules, pos, open_exit)
    assume(isinstance(planned, OrderIntent))
    assert isinstance(planned, OrderIntent)
    # Leverage: enter_long BUY, enter_short SELL (order); exit_long SELL, exit_short BUY (close).
    # Spot: enter_long BUY, exit_long SELL.
    expected_side = {
        Action.ENTER_LONG: Side.BUY, Action.ENTER_SHORT: Side.SELL,
        Action.EXIT_LONG: Side.SELL, Action.EXIT_SHORT: Side.BUY,
    }[sig.action]
    assert planned.side is expected_side
    assert planned.settle_type is (SettleType.OPEN if sig.action.is_entry else SettleType.CLOSE)
    # An entry adds to the book of its action; an exit takes from it.
    assert planned.side.sign == (sig.action.direction if sig.action.is_entry else -sig.action.direction)
    assert (planned.exchange, planned.symbol) == (sig.exchange, sig.symbol)
    assert planned.order_type is sig.order_type and planned.time_in_force is sig.time_in_force


@given(cases())
def test_sizes_are_rounded_down_within_bounds(case: tuple[Signal, SymbolRules, Position, Decimal]) -> None:
    sig, rules, pos, open_exit = case
    planned = plan_order(sig, rules, pos, open_exit)
    if isinstance(planned, RuleResult):
        assert not planned.passed and planned.detail
        assert planned.rule in {"order_size", "position_to_close", "order_price"}
        return
    assert planned.size % rules.size_step == 0
    assert rules.min_order_size <= planned.size <= rules.max_order_size
    if sig.action.is_entry:
        assert sig.size is not None
        assert planned.size == rules.round_size(sig.size) <= sig.size
    else:
        available = pos.size - open_exit
        wanted = available if sig.size is None else min(sig.size, available)
        assert planned.size == rules.round_size(wanted)
        assert planned.size <= available  # never closes more than held and not being closed


@given(cases())
def test_prices_are_rounded_to_the_tick(case: tuple[Signal, SymbolRules, Position, Decimal]) -> None:
    sig, rules, pos, open_exit = case
    planned = plan_order(sig, rules, pos, open_exit)
    if isinstance(planned, RuleResult):
        return
    if sig.order_type is OrderType.MARKET:
        assert planned.price is None
    else:
        assert sig.price_ref is not None and planned.price is not None
        assert planned.price == rules.round_price(sig.price_ref) > 0


@given(st.sampled_from([Action.EXIT_LONG, Action.EXIT_SHORT]), st.none() | SIZES, HELD, st.booleans())
def test_exit_without_a_position_to_close_is_rejected(
    action: Action, size: Decimal | None, held: Decimal, opposite: bool
) -> None:
    # Flat, or holding the other side: nothing of this book to close.
    quantity = -action.direction * held if opposite else Decimal(0)
    planned = plan_order(signal(action, size), SymbolRules(LEVERAGE, Decimal("0.0001"), Decimal("100"),
                         Decimal("0.0001"), Decimal("1")), position(LEVERAGE, quantity), Decimal(0))
    assert isinstance(planned, RuleResult)
    assert planned.rule == "position_to_close" and not planned.passed
    assert ("long" if action is Action.EXIT_LONG else "short") in planned.detail


@given(decimals_on_grid(Decimal("0.001"), 5000), decimals_on_grid(Decimal("0.001"), 5000))
def test_exit_is_rejected_when_open_exits_already_cover_the_position(
    held: Decimal, open_exit: Decimal
) -> None:
    assume(open_exit >= held)
    rules = SymbolRules(LEVERAGE, Decimal("0.001"), Decimal("100"), Decimal("0.001"), Decimal("1"))
    planned = plan_order(signal(Action.EXIT_LONG, None), rules, position(LEVERAGE, held), open_exit)
    assert isinstance(planned, RuleResult) and planned.rule == "position_to_close"


@given(decimals_on_grid(Decimal("0.0001"), 9))
def test_sizes_below_the_minimum_are_rejected(size: Decimal) -> None:
    rules = SymbolRules(LEVERAGE, Decimal("0.001"), Decimal("5"), Decimal("0.0001"), Decimal("1"))
    for planned in (
        plan_order(signal(Action.ENTER_LONG, size), rules, position(LEVERAGE, Decimal(0)), Decimal(0)),
        # An exit clamped to a remainder below the minimum cannot be sent either.
        plan_order(signal(Action.EXIT_LONG, None), rules, position(LEVERAGE, size), Decimal(0)),
    ):
        assert isinstance(planned, RuleResult)
        assert planned.rule == "order_size" and "below" in planned.detail
        assert planned.inputs["min"] == "0.001"


def test_sizes_above_the_maximum_are_rejected() -> None:
    rules = SymbolRules(LEVERAGE, Decimal("0.001"), Decimal("5"), Decimal("0.001"), Decimal("1"))
    planned = plan_order(signal(Action.ENTER_SHORT, Decimal("5.0019")), rules,
                         position(LEVERAGE, Decimal(0)), Decimal(0))
    assert isinstance(planned, RuleResult) and "above" in planned.detail
    ok = plan_order(signal(Action.ENTER_SHORT, Decimal("5.0009")), rules, position(LEVERAGE, Decimal(0)),
                    Decimal(0))
    assert isinstance(ok, OrderIntent) and ok.size == Decimal("5.000")


def test_limit_price_that_rounds_to_zero_is_rejected() -> None:
    rules = SymbolRules(LEVERAGE, Decimal("0.001"), Decimal("5"), Decimal("0.001"), Decimal("1"))
    planned = plan_order(signal(Action.ENTER_LONG, Decimal("1"), price=Decimal("0.4")), rules,
                         position(LEVERAGE, Decimal(0)), Decimal(0))
    assert isinstance(planned, RuleResult) and planned.rule == "order_price"


def test_exit_of_the_whole_position_minus_open_exits() -> None:
    rules = SymbolRules(LEVERAGE, Decimal("0.001"), Decimal("5"), Decimal("0.001"), Decimal("1"))
    short = position(LEVERAGE, Decimal("-0.7355"))
    planned = plan_order(signal(Action.EXIT_SHORT, None), rules, short, Decimal("0.2"))
    assert isinstance(planned, OrderIntent)
    assert (planned.side, planned.settle_type, planned.size) == (Side.BUY, SettleType.CLOSE, Decimal("0.535"))
    # Asking for more than is left closes only what is left.
    bigger = plan_order(signal(Action.EXIT_SHORT, Decimal("3")), rules, short, Decimal("0.2"))
    assert isinstance(bigger, OrderIntent) and bigger.size == planned.size
