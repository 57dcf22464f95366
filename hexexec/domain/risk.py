"""Risk rules (DESIGN §4): each a pure function of stored state and the order, returning a verdict
that names the rule and its inputs, so "why did it (not) trade" is one query.

Exits are allowed in every state but HALTED; the other rules guard entries only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from hexexec.domain.accounting import ClosedTrip, Position
from hexexec.domain.equity import drawdown_from_peak
from hexexec.domain.orders import OrderIntent, SettleType
from hexexec.domain.signal import OrderType
from hexexec.domain.trading_state import RiskState, TradingState


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule: str
    passed: bool
    detail: str
    inputs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RiskLimits:
    max_position_size: Decimal
    max_position_size_by_symbol: Mapping[str, Decimal] = field(default_factory=dict)
    max_drawdown_pct: Decimal = Decimal("5")
    drawdown_window: timedelta = timedelta(days=30)
    max_consecutive_losses: int = 5
    loss_cooldown: timedelta = timedelta(minutes=60)
    max_order_notional: Decimal | None = None
    max_orders_per_min: int | None = None
    price_band_pct: Decimal | None = None
    base_equity: Decimal = Decimal("1000000")

    def max_position_for(self, symbol: str) -> Decimal:
        return self.max_position_size_by_symbol.get(symbol, self.max_position_size)


@dataclass(frozen=True, slots=True)
class RiskContext:
    """Everything the rules read, gathered inside the decide transaction.

    ``open_entry_size`` is the remaining size of this symbol's live entry orders in the new
    order's direction (decided but not yet filled), so room already promised is not promised twice.
    ``open_opposite_entry_size`` is the same for entries the other way: while any is open, a new
    entry is refused (a long and a short entry filling together would leave the venue holding both
    sides while our net book says flat).
    ``peak_equity`` is the highest equity recorded in the drawdown window (see
    :func:`drawdown_window_start`), None when none was recorded. ``trips`` are the latest closed
    round trips across all symbols, newest first: at least ``max_consecutive_losses`` of them
    when there are that many (those closed before the last resume do not count).
    """

    now: datetime
    state: RiskState
    position: Position
    open_entry_size: Decimal
    peak_equity: Decimal | None
    current_equity: Decimal
    trips: Sequence[ClosedTrip]
    orders_last_minute: int
    market_price: Decimal | None
    open_opposite_entry_size: Decimal = Decimal("0")


def _s(value: object) -> str:
    return "" if value is None else str(value)


def check_trading_state(intent: OrderIntent, ctx: RiskContext) -> RuleResult:
    state = ctx.state.state
    entry = intent.settle_type is SettleType.OPEN
    allowed = state is TradingState.ACTIVE or (state is TradingState.REDUCING and not entry)
    detail = f"state {state.value} ({ctx.state.reason})"
    return RuleResult("trading_state", allowed, detail, {"state": state.value, "entry": str(entry)})


def check_max_position(intent: OrderIntent, ctx: RiskContext, limits: RiskLimits) -> RuleResult:
    limit = limits.max_position_for(intent.symbol)
    direction = intent.side.sign
    pos = ctx.position
    inputs = {
        "position": _s(pos.quantity),
        "open_entry_size": _s(ctx.open_entry_size),
        "order_size": _s(intent.size),
        "limit": _s(limit),
    }
    if pos.quantity != 0 and pos.direction != direction:
        return RuleResult(
            "max_position", False, "entry against an open opposite position: exit first", inputs
        )
    if ctx.open_opposite_entry_size > 0:
        # Both could fill: GMO would then hold a long and a short that our net book calls flat.
        inputs["open_opposite_entry_size"] = _s(ctx.open_opposite_entry_size)
        return RuleResult(
            "max_position", False, "entry orders on the other side are still open", inputs
        )
    projected = pos.size + ctx.open_entry_size + intent.size
    inputs["projected"] = _s(projected)
    ok = projected <= limit
    return RuleResult("max_position", ok, f"projected {projected} vs limit {limit}", inputs)


def drawdown_window_start(now: datetime, limits: RiskLimits, state: RiskState) -> datetime:
    """Equity recorded at or after this instant counts towards the drawdown peak: the window,
    cut at the last resume (a resume starts from the equity of that moment)."""
    return max(now - limits.drawdown_window, state.resumed_at)


def check_drawdown(ctx: RiskContext, limits: RiskLimits) -> RuleResult:
    dd = drawdown_from_peak(ctx.peak_equity, ctx.current_equity)
    peak = ctx.current_equity if ctx.peak_equity is None else max(ctx.peak_equity, ctx.current_equity)
    inputs = {
        "drawdown_pct": _s(round(dd, 6)),
        "limit_pct": _s(limits.max_drawdown_pct),
        "equity": _s(ctx.current_equity),
        "peak": _s(peak),
        "since": drawdown_window_start(ctx.now, limits, ctx.state).isoformat(),
    }
    ok = dd < limits.max_drawdown_pct
    return RuleResult("max_drawdown", ok, f"drawdown {round(dd, 4)}%", inputs)


def consecutive_losses(trips: Sequence[ClosedTrip], since: datetime) -> list[ClosedTrip]:
    """The unbroken run of losing trips ending at the latest one (``trips`` newest first)."""
    run: list[ClosedTrip] = []
    for trip in trips:
        if trip.closed_at < since or not trip.is_loss:
            break
        run.append(trip)
    return run


def check_consecutive_losses(ctx: RiskContext, limits: RiskLimits) -> RuleResult:
    run = consecutive_losses(ctx.trips, ctx.state.resumed_at)
    inputs = {"losses": str(len(run)), "limit": str(limits.max_consecutive_losses)}
    if len(run) < limits.max_consecutive_losses:
        return RuleResult("consecutive_losses", True, f"{len(run)} losses in a row", inputs)
    until = run[0].closed_at + limits.loss_cooldown
    inputs["cooldown_until"] = until.isoformat()
    ok = ctx.now >= until
    detail = f"{len(run)} losses in a row; entries paused until {until.isoformat()}"
    return RuleResult("consecutive_losses", ok, detail if not ok else "cooldown over", inputs)


def check_notional(
    intent: OrderIntent, ctx: RiskContext, limits: RiskLimits
) -> RuleResult | None:
    if limits.max_order_notional is None:
        return None
    price = intent.price if intent.price is not None else ctx.market_price
    inputs = {"price": _s(price), "size": _s(intent.size), "limit": _s(limits.max_order_notional)}
    if price is None:
        return RuleResult("max_order_notional", False, "no price to value a MARKET order", inputs)
    notional = price * intent.size
    inputs["notional"] = _s(notional)
    ok = notional <= limits.max_order_notional
    return RuleResult("max_order_notional", ok, f"notional {notional}", inputs)


def check_pace(ctx: RiskContext, limits: RiskLimits) -> RuleResult | None:
    if limits.max_orders_per_min is None:
        return None
    n = ctx.orders_last_minute
    ok = n < limits.max_orders_per_min
    inputs = {"orders_last_minute": str(n), "limit": str(limits.max_orders_per_min)}
    return RuleResult("max_orders_per_min", ok, f"{n} orders in the last minute", inputs)


def check_price_band(
    intent: OrderIntent, ctx: RiskContext, limits: RiskLimits
) -> RuleResult | None:
    if limits.price_band_pct is None or intent.order_type is not OrderType.LIMIT:
        return None
    inputs = {"price": _s(intent.price), "market": _s(ctx.market_price)}
    inputs["band_pct"] = _s(limits.price_band_pct)
    # A zero or negative "price" from a feed is no price at all (and would divide by zero).
    if ctx.market_price is None or ctx.market_price <= 0 or intent.price is None:
        return RuleResult("price_band", True, "no market price known: band not applied", inputs)
    off = abs(intent.price - ctx.market_price) / ctx.market_price * 100
    inputs["off_pct"] = _s(round(off, 6))
    ok = off <= limits.price_band_pct
    return RuleResult("price_band", ok, f"{round(off, 4)}% from the market price", inputs)


def drawdown_breaker(
    state: RiskState,
    peak_equity: Decimal | None,
    current_equity: Decimal,
    limits: RiskLimits,
    now: datetime,
) -> RiskState | None:
    """The tripped state when the drawdown limit is reached (checked after fills), else None.
    ``peak_equity`` is the highest recorded in the window, as for :class:`RiskContext`."""
    dd = drawdown_from_peak(peak_equity, current_equity)
    if dd < limits.max_drawdown_pct:
        return None
    tripped = state.tripped(TradingState.REDUCING, f"max_drawdown: drawdown {round(dd, 4)}%", now)
    return tripped if tripped != state else None


@dataclass(frozen=True, slots=True)
class RiskVerdict:
    approved: bool
    results: tuple[RuleResult, ...]
    trip: RiskState | None  # a breaker that fired and must be persisted

    @property
    def failed(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.results if not r.passed)


def evaluate(intent: OrderIntent, ctx: RiskContext, limits: RiskLimits) -> RiskVerdict:
    """Run every rule that applies; approve only when all pass. Exits meet only the state rule."""
    results: list[RuleResult] = [check_trading_state(intent, ctx)]
    trip: RiskState | None = None
    if intent.settle_type is SettleType.OPEN:
        results.append(check_max_position(intent, ctx, limits))
        dd = check_drawdown(ctx, limits)
        results.append(dd)
        if not dd.passed:
            tripped = ctx.state.tripped(TradingState.REDUCING, f"max_drawdown: {dd.detail}", ctx.now)
            trip = tripped if tripped != ctx.state else None
        results.append(check_consecutive_losses(ctx, limits))
        for extra in (
            check_notional(intent, ctx, limits),
            check_pace(ctx, limits),
            check_price_band(intent, ctx, limits),
        ):
            if extra is not None:
                results.append(extra)
    return RiskVerdict(all(r.passed for r in results), tuple(results), trip)
