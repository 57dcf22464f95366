"""The memory store's committed tables, and the buffer of one transaction's writes.

A transaction never touches :class:`Tables`: it writes to its own :class:`Changes`, and reads
merge the two (its own writes win). Committing is :meth:`Tables.apply`, one synchronous call, so
a commit is atomic under trio and a rollback is just dropping the buffer. The tables keep the
indexes a database would (by venue order id, by signal, by status, by creation time) so that
queries stay cheap when the demo has pushed a hundred thousand signals through.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import trio

from adapters.memory.rows import IntegrityError
from hexexec.domain.accounting import ClosedTrip, Position
from hexexec.domain.equity import EquityPoint
from hexexec.domain.fills import Fill
from hexexec.domain.order_status import OrderStatus
from hexexec.domain.orders import Order
from hexexec.domain.records import DecisionRecord, SignalRecord
from hexexec.domain.signal import MessageRef
from hexexec.domain.trading_state import RiskState

OPEN_STATUSES = frozenset({
    OrderStatus.PENDING, OrderStatus.SUBMITTING, OrderStatus.UNKNOWN,
    OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED,
})

__all__ = ["OPEN_STATUSES", "Changes", "IntegrityError", "Repository", "Tables"]

PositionKey = tuple[str, str]
K = TypeVar("K")


@dataclass
class Changes:
    """One transaction's writes, in the order they were made."""

    signals: dict[MessageRef, SignalRecord] = field(default_factory=dict)
    decisions: list[DecisionRecord] = field(default_factory=list)
    orders: dict[str, Order] = field(default_factory=dict)
    order_seq: dict[str, int] = field(default_factory=dict)  # orders inserted here
    fills: dict[str, tuple[Fill, str]] = field(default_factory=dict)
    fill_positions: dict[str, Position] = field(default_factory=dict)  # after each fill
    positions: dict[PositionKey, Position] = field(default_factory=dict)
    risk_states: list[RiskState] = field(default_factory=list)
    equity: list[EquityPoint] = field(default_factory=list)
    trips: list[ClosedTrip] = field(default_factory=list)
    closed: bool = False

    def check_open(self) -> None:
        if self.closed:
            raise RuntimeError("this unit of work has ended: open a new transaction")


def _discard(index: dict[K, dict[str, None]], key: K, cid: str) -> None:
    members = index.get(key)
    if members is not None:
        members.pop(cid, None)


class Tables:
    """Committed rows and their indexes."""

    def __init__(self) -> None:
        self.signals: dict[MessageRef, SignalRecord] = {}
        self.decisions: list[DecisionRecord] = []
        self.decisions_by_signal: dict[MessageRef, list[DecisionRecord]] = {}
        self.orders: dict[str, Order] = {}  # insertion order is creation order
        self.order_seq: dict[str, int] = {}
        self.order_by_venue: dict[str, str] = {}
        self.order_by_signal: dict[MessageRef, str] = {}
        self.orders_by_status: dict[OrderStatus, dict[str, None]] = {}  # ordered sets of ids
        self.open_by_symbol: dict[PositionKey, dict[str, None]] = {}
        self.created: dict[str, list[datetime]] = {}  # per exchange, sorted
        self.fills: dict[str, tuple[Fill, str]] = {}
        self.fills_by_order: dict[str, list[str]] = {}
        self.fills_by_symbol: dict[PositionKey, list[str]] = {}
        self.fill_positions: dict[str, Position] = {}
        self.positions: dict[PositionKey, Position] = {}
        self.risk_states: list[RiskState] = []
        self.equity: list[EquityPoint] = []  # sorted by time, stable
        self.trips: list[ClosedTrip] = []  # sorted by close time, stable
        self.commits = 0

    @property
    def next_order_seq(self) -> int:
        return len(self.order_seq)

    def apply(self, ch: Changes) -> None:
        """Commit ``ch``: synchronous, so no other task can ever see half of it."""
        self.signals.update(ch.signals)
        for d in ch.decisions:
            self.decisions.append(d)
            self.decisions_by_signal.setdefault(d.source, []).append(d)
        for cid, order in ch.orders.items():
            self._put_order(cid, order, ch.order_seq.get(cid))
        for eid, (fill, cid) in ch.fills.items():
            self.fills[eid] = (fill, cid)
            self.fills_by_order.setdefault(cid, []).append(eid)
            self.fills_by_symbol.setdefault((fill.exchange, fill.symbol), []).append(eid)
        self.fill_positions.update(ch.fill_positions)
        self.positions.update(ch.positions)
        self.risk_states.extend(ch.risk_states)
        for point in ch.equity:
            bisect.insort_right(self.equity, point, key=lambda p: p.at)
        for trip in ch.trips:
            bisect.insort_right(self.trips, trip, key=lambda t: t.closed_at)
        self.commits += 1

    def _put_order(self, cid: str, order: Order, seq: int | None) -> None:
        old = self.orders.get(cid)
        if old is not None:
            if old.order_id is not None:
                self.order_by_venue.pop(old.order_id, None)
            self.order_by_signal.pop(old.source, None)
            _discard(self.orders_by_status, old.status, cid)
            _discard(self.open_by_symbol, (old.intent.exchange, old.symbol), cid)
            created = self.created[old.intent.exchange]
            del created[bisect.bisect_left(created, old.created_at)]
        elif seq is not None:
            self.order_seq[cid] = seq
        self.orders[cid] = order
        if order.order_id is not None:
            self.order_by_venue[order.order_id] = cid
        self.order_by_signal[order.source] = cid
        self.orders_by_status.setdefault(order.status, {})[cid] = None
        if order.status in OPEN_STATUSES:
            self.open_by_symbol.setdefault((order.intent.exchange, order.symbol), {})[cid] = None
        bisect.insort(self.created.setdefault(order.intent.exchange, []), order.created_at)


class Repository:
    """Base of the memory repositories: the committed tables and this transaction's writes."""

    def __init__(self, tables: Tables, changes: Changes) -> None:
        self._t = tables
        self._c = changes

    async def _begin(self) -> None:
        """What a database round trip would be: a checkpoint, where a cancellation can land."""
        await trio.lowlevel.checkpoint()
        self._c.check_open()
