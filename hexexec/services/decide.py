"""Decide: one transaction per signal (DESIGN §3 step 1).

Inside a transaction that holds the symbol's lock: insert the signal keyed by (stream, message id)
— if it is already there this is a redelivery and nothing else happens — then run the risk rules
on the stored position, open orders and risk state, store the decision, and for an approval insert
the order as PENDING. The caller acknowledges the entry only after this commits.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from hexexec.domain.accounting import ZERO, Position
from hexexec.domain.equity import equity
from hexexec.domain.order_status import OrderStatus
from hexexec.domain.orders import Order, OrderIntent, SettleType, client_order_id_for
from hexexec.domain.planning import plan_order
from hexexec.domain.records import DecisionRecord, SignalRecord, SignalStatus
from hexexec.domain.risk import RiskContext, RuleResult, drawdown_window_start, evaluate
from hexexec.domain.signal import InboundMessage, Signal
from hexexec.domain.signal_parsing import InvalidSignal, parse_signal
from hexexec.services.engine import Engine
from ports.store import UnitOfWork

log = logging.getLogger("hexexec.decide")


class Outcome(enum.Enum):
    ACCEPTED = "accepted"  # a PENDING order was stored: hand it to submit
    REJECTED = "rejected"  # a rule said no
    INVALID = "invalid"  # bad input: dead-letter it
    EXPIRED = "expired"  # too old to trade
    REDELIVERY = "redelivery"  # decided earlier: acknowledge (or dead-letter again if INVALID)


@dataclass(frozen=True)
class Decided:
    outcome: Outcome
    reason: str | None = None
    client_order_id: str | None = None
    symbol: str | None = None
    previous: SignalStatus | None = None  # for a redelivery: what was decided the first time
    rules: tuple[str, ...] = ()


async def decide(engine: Engine, message: InboundMessage) -> Decided:
    """Decide one entry and commit the decision. Safe to call again for the same entry."""
    opts = engine.options
    try:
        signal = parse_signal(
            message.ref, dict(message.fields),
            exchange_name=opts.exchange_name, symbols=opts.symbols,
        )
    except InvalidSignal as bad:
        return await _record_invalid(engine, message, bad.reason)
    if message.deliveries > opts.max_deliveries:
        reason = f"delivered {message.deliveries} times (MAX_DELIVERIES={opts.max_deliveries})"
        return await _record_invalid(engine, message, reason)
    return await _decide_signal(engine, message, signal)


async def _record_invalid(engine: Engine, message: InboundMessage, reason: str) -> Decided:
    async with engine.store.transaction() as uow:
        existing = await uow.signals.get(message.ref)
        if existing is not None:
            return _redelivery(existing)
        await uow.signals.add(SignalRecord(
            message.ref, message.fields, SignalStatus.INVALID, engine.clock.now(),
            reason=reason, deliveries=message.deliveries,
        ))
    log.warning("signal invalid", extra={
        "stream": message.ref.stream, "message_id": message.ref.message_id, "reason": reason})
    return Decided(Outcome.INVALID, reason=reason)


def _redelivery(existing: SignalRecord) -> Decided:
    return Decided(Outcome.REDELIVERY, reason=existing.reason, previous=existing.status)


async def _marks(engine: Engine) -> dict[str, Decimal]:
    marks: dict[str, Decimal] = {}
    for symbol in engine.options.symbols:
        price = await engine.market_data.last_price(symbol)
        if price is not None:
            marks[symbol] = price
    return marks


async def _decide_signal(engine: Engine, message: InboundMessage, signal: Signal) -> Decided:
    # Prices are read before the transaction: the symbol lock is held for store work only.
    marks = await _marks(engine)
    opts = engine.options
    async with engine.store.transaction(lock=engine.symbol_lock(signal.symbol)) as uow:
        existing = await uow.signals.get(message.ref)
        if existing is not None:
            return _redelivery(existing)
        now = engine.clock.now()

        def record(status: SignalStatus, reason: str | None) -> SignalRecord:
            return SignalRecord(message.ref, message.fields, status, now, reason=reason,
                                signal=signal, deliveries=message.deliveries)

        max_age = opts.max_signal_age.total_seconds()
        if (age := signal.age_seconds(now)) > max_age:
            reason = f"signal is {age:.1f}s old (MAX_SIGNAL_AGE_S={max_age:g})"
            await uow.signals.add(record(SignalStatus.EXPIRED, reason))
            return Decided(Outcome.EXPIRED, reason=reason)

        position = await uow.positions.get(signal.exchange, signal.symbol)
        open_orders = await uow.orders.open_for_symbol(signal.exchange, signal.symbol)
        results, intent = await _judge(engine, uow, signal, position, open_orders, marks, now)
        approved = intent is not None
        cid = client_order_id_for(message.ref) if intent is not None else None
        why_not = "; ".join(f"{r.rule}: {r.detail}" for r in results if not r.passed) or None
        status = SignalStatus.ACCEPTED if approved else SignalStatus.REJECTED
        await uow.signals.add(record(status, why_not))
        await uow.decisions.add(DecisionRecord(message.ref, approved, results, now, cid))
        if intent is not None and cid is not None:
            await uow.orders.add(Order(
                client_order_id=cid, source=message.ref, intent=intent,
                status=OrderStatus.PENDING, created_at=now, updated_at=now,
                signal_time=signal.timestamp,
            ))
    if cid is not None:
        return Decided(Outcome.ACCEPTED, client_order_id=cid, symbol=signal.symbol)
    log.info("signal rejected", extra={
        "stream": message.ref.stream, "message_id": message.ref.message_id, "reason": why_not})
    return Decided(Outcome.REJECTED, reason=why_not,
                   rules=tuple(r.rule for r in results if not r.passed))


async def _judge(
    engine: Engine,
    uow: UnitOfWork,
    signal: Signal,
    position: Position,
    open_orders: Sequence[Order],
    marks: dict[str, Decimal],
    now: datetime,
) -> tuple[tuple[RuleResult, ...], OrderIntent | None]:
    """Plan the order and run the risk rules; persist a breaker that fires. The intent is None
    when anything said no."""
    open_exit = sum((o.remaining for o in open_orders
                     if o.intent.settle_type is SettleType.CLOSE), ZERO)
    planned = plan_order(signal, engine.rules[signal.symbol], position, open_exit)
    if isinstance(planned, RuleResult):
        return (planned,), None
    limits = engine.options.limits
    state = await uow.risk.state()
    direction = planned.side.sign
    entries = [o for o in open_orders if o.intent.settle_type is SettleType.OPEN]
    open_entry = sum((o.remaining for o in entries if o.intent.side.sign == direction), ZERO)
    opposite = sum((o.remaining for o in entries if o.intent.side.sign != direction), ZERO)
    ctx = RiskContext(
        now=now,
        state=state,
        position=position,
        open_entry_size=open_entry,
        peak_equity=await uow.risk.peak_equity(drawdown_window_start(now, limits, state)),
        current_equity=equity(limits.base_equity, await uow.positions.all(), marks),
        trips=await uow.risk.trips(state.resumed_at, limit=limits.max_consecutive_losses),
        orders_last_minute=await uow.orders.count_created_since(
            signal.exchange, now - timedelta(minutes=1)),
        market_price=marks.get(signal.symbol),
        open_opposite_entry_size=opposite,
    )
    verdict = evaluate(planned, ctx, limits)
    if verdict.trip is not None:
        await uow.risk.set_state(verdict.trip)
        log.warning("breaker tripped", extra={
            "state": verdict.trip.state.value, "reason": verdict.trip.reason})
    return verdict.results, (planned if verdict.approved else None)
