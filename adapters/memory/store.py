"""MemoryStore: the Store port in memory, with a database's guarantees (tests, the demo).

Transactions are serializable: one trio.Lock is held from the start of a transaction to its end,
so they run one after another (which also honours any ``lock`` name trivially). A transaction
buffers its writes and reads its own writes; the buffer is applied in one synchronous step when
the block ends normally, and dropped on any exception or cancellation. Every repository call is
a checkpoint, so a cancellation can interrupt a transaction between any two calls — and still
leaves nothing half-written.

:meth:`MemoryStore.snapshot` lets tests look at everything committed, outside any transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType

import trio

from adapters.memory.store_orders import MemoryFillRepository, MemoryOrderRepository
from adapters.memory.store_records import (
    MemoryDecisionRepository,
    MemoryPositionRepository,
    MemoryRiskRepository,
    MemorySignalRepository,
)
from adapters.memory.store_tables import Changes, Tables
from hexexec.domain.accounting import ClosedTrip, Position
from hexexec.domain.equity import EquityPoint
from hexexec.domain.errors import StoreUnavailable
from hexexec.domain.fills import Fill
from hexexec.domain.orders import Order
from hexexec.domain.records import DecisionRecord, SignalRecord
from hexexec.domain.signal import MessageRef
from hexexec.domain.trading_state import RiskState
from ports.store import (
    DecisionRepository,
    FillRepository,
    OrderRepository,
    PositionRepository,
    RiskRepository,
    SignalRepository,
)


class MemoryUnitOfWork:
    """The six repositories of one transaction."""

    def __init__(self, tables: Tables, changes: Changes) -> None:
        # Typed as the ports so that this class is a ports.store.UnitOfWork for mypy.
        self.signals: SignalRepository = MemorySignalRepository(tables, changes)
        self.decisions: DecisionRepository = MemoryDecisionRepository(tables, changes)
        self.orders: OrderRepository = MemoryOrderRepository(tables, changes)
        self.fills: FillRepository = MemoryFillRepository(tables, changes)
        self.positions: PositionRepository = MemoryPositionRepository(tables, changes)
        self.risk: RiskRepository = MemoryRiskRepository(tables, changes)


@dataclass(frozen=True)
class StoreSnapshot:
    """Everything committed at one moment, in insertion order (risk states: oldest first)."""

    signals: tuple[SignalRecord, ...]
    decisions: tuple[DecisionRecord, ...]
    orders: tuple[Order, ...]
    fills: tuple[tuple[Fill, str], ...]  # (fill, client order id)
    positions: tuple[Position, ...]
    risk_states: tuple[RiskState, ...]
    equity_points: tuple[EquityPoint, ...]
    trips: tuple[ClosedTrip, ...]
    commits: int

    def signal(self, ref: MessageRef) -> SignalRecord | None:
        return next((s for s in self.signals if s.source == ref), None)

    def order(self, client_order_id: str) -> Order | None:
        return next((o for o in self.orders if o.client_order_id == client_order_id), None)

    def fills_of(self, client_order_id: str) -> tuple[Fill, ...]:
        return tuple(f for f, cid in self.fills if cid == client_order_id)

    def position(self, exchange: str, symbol: str) -> Position:
        found = (p for p in self.positions if (p.exchange, p.symbol) == (exchange, symbol))
        return next(found, Position(exchange, symbol))

    @property
    def risk_state(self) -> RiskState:
        return self.risk_states[-1] if self.risk_states else RiskState()


class MemoryLease:
    def __init__(self, name: str) -> None:
        self.name = name
        self.lost = False

    async def check(self) -> None:
        await trio.lowlevel.checkpoint()
        if self.lost:
            raise StoreUnavailable(f"memory store: lease {self.name!r} lost")


class MemoryStore:
    """The Store port in memory. Open it with ``async with`` like any adapter (a no-op here)."""

    def __init__(self) -> None:
        self._tables = Tables()
        self._lock = trio.Lock()
        self._leases: dict[str, trio.Semaphore] = {}  # not task-owned, like a session lock
        self._held: dict[str, MemoryLease] = {}
        # Outages for the services' tests: each transaction takes the next one, if any.
        # "refused": raises StoreUnavailable at the start; "lost_commit": commits, then raises
        # StoreUnavailable as a connection lost inside the commit would (the outcome unknown).
        self.outages: list[str] = []

    async def __aenter__(self) -> MemoryStore:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        return None

    @asynccontextmanager
    async def transaction(self, lock: str | None = None, *, locks: Collection[str] = ()
                          ) -> AsyncIterator[MemoryUnitOfWork]:
        """A serializable unit of work; ``lock`` and ``locks`` are honoured by the store-wide
        lock."""
        if (lock is not None and not isinstance(lock, str)) or isinstance(locks, str) or any(
                not isinstance(name, str) for name in locks):
            raise TypeError("a lock is named by a string")
        async with self._lock:
            outage = self.outages.pop(0) if self.outages else None
            if outage == "refused":
                raise StoreUnavailable("memory store: outage (refused)")
            changes = Changes()
            try:
                yield MemoryUnitOfWork(self._tables, changes)
                # Reached only when the block ended normally. No checkpoint from here on: the
                # commit is one synchronous step.
                self._tables.apply(changes)
            finally:
                changes.closed = True
            if outage == "lost_commit":
                raise StoreUnavailable("memory store: outage (committed, reply lost)")

    @asynccontextmanager
    async def lease(self, name: str) -> AsyncIterator[MemoryLease]:
        """Exclusive use of ``name`` among the tasks (workers) sharing this store."""
        lock = self._leases.setdefault(name, trio.Semaphore(1))
        await lock.acquire()
        held = self._held[name] = MemoryLease(name)
        try:
            yield held
        finally:
            if not held.lost:  # a lost lease was given up when it was lost
                del self._held[name]
                lock.release()

    def lose_lease(self, name: str) -> None:
        """What a PostgreSQL session dying under a lease does: the lease is free for anyone
        again, and its holder is not told (until it checks)."""
        held = self._held.pop(name)
        held.lost = True
        self._leases[name].release()

    def leased(self, name: str) -> bool:
        lock = self._leases.get(name)
        return lock is not None and lock.value == 0

    @property
    def in_transaction(self) -> bool:
        return self._lock.locked()

    def snapshot(self) -> StoreSnapshot:
        """What is committed now (a transaction in progress is invisible)."""
        t = self._tables
        return StoreSnapshot(
            signals=tuple(t.signals.values()),
            decisions=tuple(t.decisions),
            orders=tuple(t.orders.values()),
            fills=tuple(t.fills.values()),
            positions=tuple(t.positions[k] for k in sorted(t.positions)),
            risk_states=tuple(t.risk_states),
            equity_points=tuple(t.equity),
            trips=tuple(t.trips),
            commits=t.commits,
        )
