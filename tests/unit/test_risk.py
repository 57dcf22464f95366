"""Risk rules (DESIGN §4): each a pure function of stored state and the order.

The max-position property replays what the decide step does for a stream of entry signals
(plan the order, then evaluate it with the open entries not yet filled) while fills and cancels
arrive at random times, and checks that the limit holds whatever happens next.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hexexec.domain.accounting import ClosedTrip, Position, apply_fill
from hexexec.domain.fills import Fill
from hexexec.domain.orders import OrderIntent, SettleType, Side
from hexexec.domain.planning import plan_order
from hexexec.domain.risk import (
    RiskContext,
    RiskLimits,
    RuleResult,
    consecutive_losses,
    drawdown_breaker,
    drawdown_window_start,
    evaluate,
)
from hexexec.domain.signal import Action, MessageRef, OrderType, Signal
from hexexec.domain.symbols import SymbolRules
from hexexec.domain.trading_state import RiskState, TradingState
from tests.unit.strategies import EXCHANGE, LEVERAGE, T0, decimals_on_grid, times

NOW = T0 + timedelta(days=40)
BASE_EQUITY = Decimal("1000000")
RULES = SymbolRules(LEVERAGE, Decimal("0.001"), Decimal("5"), Decimal("0.001"), Decimal("1"))
STATES = st.sampled_from(list(TradingState))


def limits(**changes: object) -> RiskLimits:
    return replace(RiskLimits(max_position_size=Decimal("1"), base_equity=BASE_EQUITY), **changes)


def context(**changes: object) -> RiskContext:
    calm = RiskContext(
        now=NOW,
        state=RiskState(),
        position=Position(EXCHANGE, LEVERAGE),
        open_entry_size=Decimal(0),
        peak_equity=None,
        current_equity=BASE_EQUITY,
        trips=(),
        orders_last_minute=0,
        market_price=None,
    )
    return replace(calm, **changes)


def intent(
    side: Side = Side.BUY,
    settle: SettleType = SettleType.OPEN,
    size: str | Decimal = "0.1",
    price: str | Decimal | None = "5000000",
) -> OrderIntent:
    order_type = OrderType.MARKET if price is None else OrderType.LIMIT
    return OrderIntent(
        EXCHANGE, LEVERAGE, side, settle, order_type, Decimal(size),
        None if price is None else Decimal(price), None,
    )


def result(verdict_results: tuple[RuleResult, ...], rule: str) -> RuleResult:
    (found,) = [r for r in verdict_results if r.rule == rule]
    return found


def held(side: Side, size: str) -> Position:
    return Position(EXCHANGE, LEVERAGE, quantity=side.sign * Decimal(size), average_price=Decimal("5e6"))


# ---------------------------------------------------------------- max position


@dataclass
class OpenEntry:
    side: Side
    remaining: Decimal


EVENTS = st.lists(
    st.one_of(
        st.tuples(
            st.just("signal"),
            st.sampled_from([Action.ENTER_LONG, Action.ENTER_SHORT]),
            decimals_on_grid(Decimal("0.0001"), 20_000),  # off the 0.001 step half the time
        ),
        st.tuples(st.just("fill"), st.integers(0, 50), st.integers(1, 4)),
        st.tuples(st.just("cancel"), st.integers(0, 50), st.just(0)),
    ),
    max_size=40,
)


@given(EVENTS, decimals_on_grid(Decimal("0.001"), 3000), decimals_on_grid(Decimal("1"), 100))
def test_approved_entries_never_exceed_the_max_position(
    events: list[tuple[str, object, object]], max_size: Decimal, price: Decimal
) -> None:
    lim = limits(max_position_size=max_size)
    position = Position(EXCHANGE, LEVERAGE)
    open_entries: list[OpenEntry] = []
    for n, (kind, a, b) in enumerate(events):
        at = T0 + timedelta(seconds=n)
        if kind == "signal":
            assert isinstance(a, Action) and isinstance(b, Decimal)
            signal = Signal(
                MessageRef("signal:gmo", f"{n}-0"), EXCHANGE, LEVERAGE, a, b, OrderType.MARKET,
                None, None, None, None, at,
            )
            planned = plan_order(signal, RULES, position, Decimal(0))
            if isinstance(planned, RuleResult):
                assert planned.rule == "order_size"
                continue
            same_way = sum(
                (o.remaining for o in open_entries if o.side is planned.side), Decimal(0)
            )
            verdict = evaluate(
                planned, context(now=at, position=position, open_entry_size=same_way), lim
            )
            fits = position.size + same_way + planned.size <= max_size
            against = position.quantity != 0 and position.direction != planned.side.sign
            assert verdict.approved == (fits and not against)
            if verdict.approved:
                open_entries.append(OpenEntry(planned.side, planned.size))
        elif open_entries:
            assert isinstance(a, int) and isinstance(b, int)
            order = open_entries[a % len(open_entries)]
            if kind == "fill":
                # Fill a quarter, a half, three quarters or all of what remains (on the step).
                size = max(RULES.round_size(order.remaining * b / 4), RULES.size_step)
                size = min(size, order.remaining)
                fill = Fill(f"e{n}", f"o{n}", EXCHANGE, LEVERAGE, order.side, SettleType.OPEN,
                            price, size, Decimal(0), at)
                position = apply_fill(position, fill).position
                order.remaining -= size
            else:
                order.remaining = Decimal(0)
            open_entries = [o for o in open_entries if o.remaining > 0]
        # Whatever fills next, the position cannot pass the limit in either direction.
        for side in Side:
            pending = sum((o.remaining for o in open_entries if o.side is side), Decimal(0))
            assert side.sign * position.quantity + pending <= max_size
        assert position.size <= max_size


@given(st.sampled_from(list(Side)), decimals_on_grid(Decimal("0.001"), 5000),
       decimals_on_grid(Decimal("0.001"), 100))
def test_entry_against_an_open_opposite_position_is_rejected(
    side: Side, held_size: Decimal, size: Decimal
) -> None:
    lim = limits(max_position_size=Decimal("1000"))  # room is not the reason
    verdict = evaluate(intent(side, size=size), context(position=held(side.opposite, str(held_size))), lim)
    assert not verdict.approved
    rule = result(verdict.results, "max_position")
    assert not rule.passed and "opposite" in rule.detail
    # The same entry on the same side as the position is fine.
    assert evaluate(intent(side, size=size), context(position=held(side, str(held_size))), lim).approved


@given(st.sampled_from(list(Side)), decimals_on_grid(Decimal("0.001"), 100))
def test_entry_while_opposite_entries_are_open_is_rejected(side: Side, open_other_way: Decimal) -> None:
    """Flat, with an entry still open the other way: both could fill, so the new one waits."""
    lim = limits(max_position_size=Decimal("1000"))
    verdict = evaluate(intent(side), context(open_opposite_entry_size=open_other_way), lim)
    assert not verdict.approved
    assert "other side" in result(verdict.results, "max_position").detail
    assert evaluate(intent(side), context(open_opposite_entry_size=Decimal(0)), lim).approved


def test_max_position_per_symbol_override() -> None:
    lim = limits(max_position_size_by_symbol={LEVERAGE: Decimal("0.05")})
    assert not evaluate(intent(size="0.1"), context(), lim).approved
    assert evaluate(intent(size="0.05"), context(), lim).approved
    assert lim.max_position_for("ETH_JPY") == Decimal("1")


# ---------------------------------------------------------------- trading state and exits


HOSTILE = context(
    # Everything an entry could trip on at once: drawdown, losses, pace, an odd price.
    peak_equity=Decimal("2000000"),
    current_equity=Decimal("1"),
    trips=tuple(
        ClosedTrip(EXCHANGE, LEVERAGE, Decimal("-1"), None, NOW - timedelta(minutes=i))
        for i in range(10)
    ),
    orders_last_minute=1000,
    market_price=Decimal("1"),
    open_entry_size=Decimal("1000"),
)


@given(STATES, st.sampled_from(list(Side)), st.booleans())
def test_exits_are_allowed_unless_halted(state: TradingState, side: Side, market: bool) -> None:
    exit_intent = intent(side, SettleType.CLOSE, size="3", price=None if market else "5000000")
    ctx = replace(HOSTILE, state=RiskState(state))
    lim = limits(max_order_notional=Decimal("1"), max_orders_per_min=1, price_band_pct=Decimal("1"))
    verdict = evaluate(exit_intent, ctx, lim)
    assert verdict.approved == (state is not TradingState.HALTED)
    assert [r.rule for r in verdict.results] == ["trading_state"]
    assert verdict.trip is None


@given(STATES, st.sampled_from(list(Side)))
def test_entries_only_when_active(state: TradingState, side: Side) -> None:
    verdict = evaluate(intent(side), context(state=RiskState(state)), limits())
    assert verdict.approved == (state is TradingState.ACTIVE)
    assert result(verdict.results, "trading_state").passed == (state is TradingState.ACTIVE)


@given(STATES, times(), st.text(max_size=10))
def test_breakers_only_tighten_the_state(state: TradingState, at: datetime, reason: str) -> None:
    current = RiskState(state, "before", "ops", T0, T0)
    order = list(TradingState)  # ACTIVE, REDUCING, HALTED
    for wanted in TradingState:
        after = current.tripped(wanted, reason, at)
        assert order.index(after.state) == max(order.index(state), order.index(wanted))
        assert after.resumed_at == current.resumed_at
        if after != current:
            assert (after.reason, after.set_by, after.set_at) == (reason, "risk", at)
    resumed = current.halted("stop", "ops", at).resumed("go", "ops", at)
    assert resumed.state is TradingState.ACTIVE and resumed.resumed_at == at


# ---------------------------------------------------------------- drawdown


PEAKS = st.none() | decimals_on_grid(Decimal("1000"), 3000)


@given(PEAKS, decimals_on_grid(Decimal("1000"), 3000), decimals_on_grid(Decimal("0.5"), 40),
       times(T0, days=40), STATES)
def test_drawdown_trips_to_reducing_at_the_limit(
    recorded: Decimal | None, current: Decimal, limit_pct: Decimal, resumed_at: datetime,
    state: TradingState,
) -> None:
    lim = limits(max_drawdown_pct=limit_pct, drawdown_window=timedelta(days=30))
    risk_state = RiskState(state, resumed_at=resumed_at)
    ctx = context(peak_equity=recorded, current_equity=current, state=risk_state)
    peak = current if recorded is None else max(recorded, current)
    # (peak − current) / peak × 100 ≥ limit, without a division.
    reached = (peak - current) * 100 >= limit_pct * peak
    verdict = evaluate(intent(), ctx, lim)
    assert result(verdict.results, "max_drawdown").passed != reached
    if reached and state is TradingState.ACTIVE:
        assert verdict.trip is not None and not verdict.approved
        assert verdict.trip.state is TradingState.REDUCING
        assert verdict.trip.reason.startswith("max_drawdown")
        assert verdict.trip.set_at == NOW and verdict.trip.resumed_at == resumed_at
    else:
        assert verdict.trip is None  # nothing to trip, or already at least as strict
    assert drawdown_breaker(risk_state, recorded, current, lim, NOW) == verdict.trip


@given(times(T0, days=40), st.sampled_from([timedelta(hours=1), timedelta(days=30)]))
def test_the_window_starts_at_the_later_of_its_length_and_the_resume(
    resumed_at: datetime, window: timedelta
) -> None:
    lim = limits(drawdown_window=window)
    start = drawdown_window_start(NOW, lim, RiskState(resumed_at=resumed_at))
    assert start == max(NOW - window, resumed_at)
    inputs = result(evaluate(intent(), context(state=RiskState(resumed_at=resumed_at)),
                             lim).results, "max_drawdown").inputs
    assert inputs["since"] == start.isoformat()


def test_drawdown_exactly_at_the_limit_trips() -> None:
    lim = limits(max_drawdown_pct=Decimal("5"))
    peak = Decimal("1000000")
    at_limit = evaluate(intent(), context(peak_equity=peak, current_equity=Decimal("950000")), lim)
    assert not at_limit.approved and at_limit.trip is not None
    below = evaluate(intent(), context(peak_equity=peak, current_equity=Decimal("950001")), lim)
    assert below.approved and below.trip is None


# ---------------------------------------------------------------- consecutive losses


TRIP_TIMES = st.lists(st.integers(0, 40 * 24 * 60), min_size=0, max_size=12, unique=True)


@given(TRIP_TIMES, st.data(), st.integers(1, 5), st.integers(1, 180), times(T0, days=40))
def test_consecutive_losses_pause_entries_until_cooldown_or_resume(
    minutes: list[int], data: st.DataObject, max_losses: int, cooldown_min: int,
    resumed_at: datetime,
) -> None:
    closed = sorted((T0 + timedelta(minutes=m) for m in minutes), reverse=True)  # newest first
    pnls = data.draw(st.lists(st.integers(-100, 100), min_size=len(closed), max_size=len(closed)))
    trips = [ClosedTrip(EXCHANGE, LEVERAGE, Decimal(p), None, at) for p, at in zip(pnls, closed, strict=True)]
    now = data.draw(times(T0, days=41))
    lim = limits(max_consecutive_losses=max_losses, loss_cooldown=timedelta(minutes=cooldown_min))
    ctx = context(now=now, trips=tuple(trips), state=RiskState(resumed_at=resumed_at))

    run = []  # the newest unbroken losing trips since the resume; a win or break-even ends it
    for trip in trips:
        if trip.pnl >= 0 or trip.closed_at < resumed_at:
            break
        run.append(trip)
    assert consecutive_losses(trips, resumed_at) == run
    paused = len(run) >= max_losses and now < run[0].closed_at + lim.loss_cooldown
    verdict = evaluate(intent(), ctx, lim)
    assert result(verdict.results, "consecutive_losses").passed != paused
    assert verdict.approved != paused
    # Exits are never paused by it.
    assert evaluate(intent(Side.SELL, SettleType.CLOSE), ctx, lim).approved


def test_a_winning_trip_resets_the_loss_run_and_a_resume_releases_it() -> None:
    lim = limits(max_consecutive_losses=3, loss_cooldown=timedelta(minutes=60))
    losses = [ClosedTrip(EXCHANGE, LEVERAGE, Decimal("-5"), None, NOW - timedelta(minutes=i))
              for i in (1, 2, 3)]
    assert not evaluate(intent(), context(trips=tuple(losses)), lim).approved
    win = ClosedTrip(EXCHANGE, LEVERAGE, Decimal("5"), None, NOW)
    assert evaluate(intent(), context(trips=(win, *losses)), lim).approved
    resumed = RiskState(resumed_at=NOW - timedelta(seconds=30))
    assert evaluate(intent(), context(trips=tuple(losses), state=resumed), lim).approved
    # The newest loss closed a minute ago: the 60-minute pause ends 59 minutes from now.
    paused = context(trips=tuple(losses), now=NOW + timedelta(minutes=58, seconds=59))
    assert not evaluate(intent(), paused, lim).approved
    assert evaluate(intent(), replace(paused, now=NOW + timedelta(minutes=59)), lim).approved


# ---------------------------------------------------------------- notional, pace, price band


SIZES = decimals_on_grid(Decimal("0.001"), 1000)
PRICES = decimals_on_grid(Decimal("1"), 10_000_000)


@given(SIZES, PRICES, st.none() | PRICES, st.booleans(), decimals_on_grid(Decimal("1000"), 10_000))
def test_notional_rule(size: Decimal, price: Decimal, market: Decimal | None, is_market: bool,
                       max_notional: Decimal) -> None:
    order = intent(size=size, price=None if is_market else price)
    verdict = evaluate(order, context(market_price=market), limits(max_order_notional=max_notional))
    valued_at = market if is_market else price
    expected = valued_at is not None and valued_at * size <= max_notional
    assert result(verdict.results, "max_order_notional").passed == expected
    assert verdict.approved == expected
    unlimited = evaluate(order, context(market_price=market), limits())
    assert "max_order_notional" not in {r.rule for r in unlimited.results}


@given(st.integers(0, 100), st.integers(1, 100))
def test_pace_rule(recent: int, per_minute: int) -> None:
    verdict = evaluate(intent(), context(orders_last_minute=recent), limits(max_orders_per_min=per_minute))
    assert result(verdict.results, "max_orders_per_min").passed == (recent < per_minute)
    assert verdict.approved == (recent < per_minute)


@given(PRICES, st.none() | PRICES, decimals_on_grid(Decimal("0.1"), 200), st.booleans())
def test_price_band_rule(price: Decimal, market: Decimal | None, band: Decimal, is_market: bool) -> None:
    order = intent(price=None if is_market else price)
    verdict = evaluate(order, context(market_price=market), limits(price_band_pct=band))
    rules = {r.rule: r for r in verdict.results}
    if is_market:
        assert "price_band" not in rules  # the band guards limit prices only
        return
    if market is None:
        assert rules["price_band"].passed  # nothing to compare with
    else:
        # |price − market| / market × 100 ≤ band, without a division.
        assert rules["price_band"].passed == (abs(price - market) * 100 <= band * market)


def test_price_band_ignores_a_zero_market_price() -> None:
    # Regression: a zero price from the feed divided by zero instead of returning a verdict.
    verdict = evaluate(intent(), context(market_price=Decimal(0)), limits(price_band_pct=Decimal("5")))
    assert result(verdict.results, "price_band").passed


@given(STATES, st.integers(0, 3), st.booleans())
def test_approval_is_all_rules_passing(state: TradingState, recent: int, wide: bool) -> None:
    lim = limits(max_orders_per_min=2, price_band_pct=Decimal("10" if wide else "0.001"))
    verdict = evaluate(intent(), context(state=RiskState(state), orders_last_minute=recent,
                                         market_price=Decimal("5001000")), lim)
    assert verdict.approved == all(r.passed for r in verdict.results)
    assert verdict.failed == tuple(r for r in verdict.results if not r.passed)
    for r in verdict.results:
        assert r.detail and all(isinstance(v, str) for v in r.inputs.values())


@pytest.mark.parametrize("settle", list(SettleType))
def test_every_rule_records_its_inputs(settle: SettleType) -> None:
    lim = limits(max_order_notional=Decimal("1e9"), max_orders_per_min=5, price_band_pct=Decimal("5"))
    verdict = evaluate(intent(settle=settle), context(market_price=Decimal("5000000")), lim)
    assert verdict.approved
    expected = {"trading_state"} if settle is SettleType.CLOSE else {
        "trading_state", "max_position", "max_drawdown", "consecutive_losses",
        "max_order_notional", "max_orders_per_min", "price_band",
    }
    assert {r.rule for r in verdict.results} == expected
    assert all(r.inputs for r in verdict.results)
