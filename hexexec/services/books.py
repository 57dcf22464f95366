"""The books a batch of decisions reads: loaded once inside the decide transaction, then carried
forward entry by entry as the batch decides (new PENDING orders, the order count, a breaker).

Nothing else can change them meanwhile: the transaction holds the lock of every symbol in the
batch, and fills of other symbols only move the equity, which the one-at-a-time path would have
read at some instant too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial

from hexexec.domain.accounting import ZERO, ClosedTrip, Position
from hexexec.domain.equity import EquityPoint, equity
from hexexec.domain.orders import Order, OrderIntent, SettleType
from hexexec.domain.planning import plan_order
from hexexec.domain.records import SignalRecord
from hexexec.domain.risk import (
    RiskContext,
    RiskLimits,
    RuleResult,
    drawdown_window_start,
    evaluate,
)
from hexexec.domain.signal import MessageRef, Signal
from hexexec.domain.trading_state import RiskState
from hexexec.services.concurrently import at_once
from hexexec.services.engine import Engine
from ports.store import UnitOfWork

EVER = datetime.min.replace(tzinfo=UTC)  # "since the beginning", for a query's ``since``


@dataclass
class Books:
    state: RiskState
    peak_equity: Decimal | None
    current_equity: Decimal
    trips: Sequence[ClosedTrip]
    positions: dict[tuple[str, str], Position]
    open_orders: dict[tuple[str, str], list[Order]]
    orders_last_minute: int
    marks: dict[str, Decimal]
    tripped: RiskState | None = None  # a breaker that fired in this batch: to be stored

    def position(self, exchange: str, symbol: str) -> Position:
        return self.positions.get((exchange, symbol), Position(exchange, symbol))

    def add_order(self, order: Order) -> None:
        """A PENDING order this batch decided: open from now on, and one more in the minute."""
        self.open_orders.setdefault((order.intent.exchange, order.symbol), []).append(order)
        self.orders_last_minute += 1


async def load_books(engine: Engine, uow: UnitOfWork, refs: Sequence[MessageRef],
                     signals: Sequence[Signal], marks: dict[str, Decimal], now: datetime
                     ) -> tuple[Mapping[MessageRef, SignalRecord], Books]:
    """The entries already stored (of ``refs``) and the books the rules need for ``signals``.

    Independent reads are made at once, so that a store able to send them together (the
    PostgreSQL unit of work does) spends two round trips on all of them, whatever the batch.
    """
    limits = engine.options.limits
    exchange = engine.options.exchange_name
    stored: Mapping[MessageRef, SignalRecord]
    state: RiskState
    positions: Sequence[Position]
    opened: Sequence[Order]
    pace: int
    point: EquityPoint | None
    trips: Sequence[ClosedTrip]
    stored, state, positions, opened, pace, point, trips = await at_once(
        partial(uow.signals.get_many, refs),
        uow.risk.state,
        uow.positions.all,
        partial(uow.orders.open_for_symbols, exchange, {s.symbol for s in signals}),
        # Orders of the last minute matter only to a pace limit; without one they are not
        # counted (a count over a busy minute reads thousands of index entries).
        partial(uow.orders.count_created_since, exchange, now - timedelta(minutes=1))
        if limits.max_orders_per_min is not None else _not_counted,
        # Read with the rest, before the state is known (see window_peak); the latest trips
        # whatever the resume: the losses rule stops counting at the resume itself.
        partial(uow.risk.peak, now - limits.drawdown_window),
        partial(uow.risk.trips, EVER, limit=limits.max_consecutive_losses),
    )
    open_orders: dict[tuple[str, str], list[Order]] = {}
    for order in opened:
        open_orders.setdefault((order.intent.exchange, order.symbol), []).append(order)
    return stored, Books(
        state=state,
        peak_equity=await window_peak(uow, point, now, limits, state),
        current_equity=equity(limits.base_equity, positions, marks),
        trips=trips,
        positions={(p.exchange, p.symbol): p for p in positions},
        open_orders=open_orders,
        orders_last_minute=pace,
        marks=marks,
    )


async def _not_counted() -> int:
    return 0


async def window_peak(uow: UnitOfWork, point: EquityPoint | None, now: datetime,
                      limits: RiskLimits, state: RiskState) -> Decimal | None:
    """The drawdown peak (the highest equity since ``drawdown_window_start``), given ``point``:
    the peak since the window's start before any resume cuts it (``now`` − the window), read
    together with ``state`` rather than after it, to save a round trip. It is the answer unless
    the last resume came after it — then the window starts at the resume, and is read again."""
    start = drawdown_window_start(now, limits, state)
    if point is None or point.at >= start:  # nothing since now − window: nothing since start
        return None if point is None else point.equity
    again = await uow.risk.peak(start)
    return None if again is None else again.equity


def judge(engine: Engine, books: Books, signal: Signal, now: datetime
          ) -> tuple[tuple[RuleResult, ...], OrderIntent | None]:
    """Plan the order and run the risk rules on the books; a breaker that fires changes the
    books' state for the rest of the batch. The intent is None when anything said no."""
    position = books.position(signal.exchange, signal.symbol)
    open_orders = books.open_orders.get((signal.exchange, signal.symbol), [])
    open_exit = sum((o.remaining for o in open_orders
                     if o.intent.settle_type is SettleType.CLOSE), ZERO)
    planned = plan_order(signal, engine.rules[signal.symbol], position, open_exit)
    if isinstance(planned, RuleResult):
        return (planned,), None
    direction = planned.side.sign
    entries = [o for o in open_orders if o.intent.settle_type is SettleType.OPEN]
    ctx = RiskContext(
        now=now,
        state=books.state,
        position=position,
        open_entry_size=sum((o.remaining for o in entries if o.intent.side.sign == direction),
                            ZERO),
        peak_equity=books.peak_equity,
        current_equity=books.current_equity,
        trips=books.trips,
        orders_last_minute=books.orders_last_minute,
        market_price=books.marks.get(signal.symbol),
        open_opposite_entry_size=sum(
            (o.remaining for o in entries if o.intent.side.sign != direction), ZERO),
    )
    verdict = evaluate(planned, ctx, engine.options.limits)
    if verdict.trip is not None:
        books.state = books.tripped = verdict.trip
    return verdict.results, (planned if verdict.approved else None)
