"""Store: the system of record, used through units of work that commit or roll back whole."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from hexexec.domain.accounting import ClosedTrip, Position
from hexexec.domain.equity import EquityPoint
from hexexec.domain.fills import Fill
from hexexec.domain.order_status import OrderStatus
from hexexec.domain.orders import Order
from hexexec.domain.records import DecisionRecord, SignalRecord, SignalStatus
from hexexec.domain.signal import MessageRef
from hexexec.domain.trading_state import RiskState


class SignalRepository(Protocol):
    async def add(self, record: SignalRecord) -> bool:
        """Insert; False (and nothing changed) when (stream, message id) is already there."""
        ...

    async def get(self, ref: MessageRef) -> SignalRecord | None: ...

    async def add_many(self, records: Sequence[SignalRecord]) -> None:
        """Insert each (one round trip); one whose (stream, message id) is already there is left
        as it is."""
        ...

    async def get_many(self, refs: Sequence[MessageRef]) -> Mapping[MessageRef, SignalRecord]:
        """The stored ones among ``refs`` (one round trip)."""
        ...

    async def set_status(self, ref: MessageRef, status: SignalStatus, reason: str | None) -> None: ...


class DecisionRepository(Protocol):
    async def add(self, decision: DecisionRecord) -> None: ...

    async def add_many(self, decisions: Sequence[DecisionRecord]) -> None:
        """Insert each, in order (one round trip)."""
        ...

    async def for_signal(self, ref: MessageRef) -> Sequence[DecisionRecord]: ...


T = TypeVar("T")


class Deferred(Generic[T]):
    """A result a unit of work learns in its commit hop: read ``value`` once the transaction's
    block has ended normally (it has committed)."""

    def __init__(self) -> None:
        self._known = False
        self._value: T | None = None

    def set(self, value: T) -> None:
        self._value, self._known = value, True

    @property
    def value(self) -> T:
        if not self._known:
            raise RuntimeError("a deferred result is known only once its transaction committed")
        return self._value  # type: ignore[return-value]


class OrderRepository(Protocol):
    async def add(self, order: Order) -> None:
        """Insert a new order (its client_order_id must be new)."""
        ...

    async def add_many(self, orders: Sequence[Order]) -> None:
        """Insert each new order, in order (one round trip)."""
        ...

    async def get(self, client_order_id: str) -> Order | None: ...

    async def update(self, order: Order) -> None:
        """Replace the stored order with this one. Raises if the venue ``order_id`` is already
        owned by another row: one venue order never belongs to two rows."""
        ...

    async def change_at_commit(self, client_order_id: str, change: Callable[[Order], Order]
                               ) -> Deferred[tuple[Order, Order] | None]:
        """Read the order with the transaction's commit (after its locks) and store what
        ``change`` makes of it — nothing when it returns the order it was given. The result:
        (the order as read, as stored), or None when there is no such order. A store may call
        ``change`` on another thread: it must be pure. Refusals are those of ``update``, raised
        by the end of the block. One round trip less than ``get`` and then ``update``."""
        ...

    async def by_venue_id(self, order_id: str) -> Order | None: ...

    async def for_signal(self, ref: MessageRef) -> Order | None: ...

    async def with_status(self, statuses: Collection[OrderStatus]) -> Sequence[Order]:
        """Orders in any of these statuses, oldest first."""
        ...

    async def open_for_symbol(self, exchange: str, symbol: str) -> Sequence[Order]:
        """Orders of the symbol that may still fill: PENDING up to PARTIALLY_FILLED."""
        ...

    async def open_for_symbols(self, exchange: str, symbols: Collection[str]) -> Sequence[Order]:
        """``open_for_symbol`` of several symbols at once (one round trip)."""
        ...

    async def count_created_since(self, exchange: str, since: datetime) -> int: ...


class FillRepository(Protocol):
    async def add(self, fill: Fill, client_order_id: str) -> bool:
        """Insert; False (and nothing changed) when the execution id is already there."""
        ...

    async def for_order(self, client_order_id: str) -> Sequence[Fill]: ...

    async def replay_from(self, fill: Fill) -> tuple[Position, Sequence[Fill]]:
        """Where booking ``fill`` out of the venue's order starts: the position recorded right
        after the symbol's last fill (in the venue's order, ``booking_order``) dated before
        ``fill``, and every fill of the symbol dated at or after ``fill`` (``fill`` among them, in
        no particular order). From a flat position when no fill is dated before ``fill``; from a
        flat position and every fill of the symbol when that last fill has no position recorded
        (stored before positions were recorded per fill)."""
        ...

    async def record_positions(self, after: Sequence[tuple[str, Position]]) -> None:
        """Keep the position as it stood right after each fill (by execution id), replacing one
        kept before: what ``replay_from`` starts from. Written with the commit."""
        ...


class PositionRepository(Protocol):
    async def get(self, exchange: str, symbol: str) -> Position:
        """The stored position, or a flat one when none is stored."""
        ...

    async def put(self, position: Position) -> None: ...

    async def all(self) -> Sequence[Position]: ...


class RiskRepository(Protocol):
    async def state(self) -> RiskState:
        """The current trading state (ACTIVE when never set)."""
        ...

    async def set_state(self, state: RiskState) -> None:
        """Persist a new trading state; the history of states is kept."""
        ...

    async def add_equity_point(self, point: EquityPoint) -> None: ...

    async def equity_points(self, since: datetime) -> Sequence[EquityPoint]:
        """Points at or after ``since``, oldest first."""
        ...

    async def peak(self, since: datetime) -> EquityPoint | None:
        """The point of highest equity at or after ``since`` (the latest of several as high);
        None when there is none. Asked on every decision and booking, so its cost must not grow
        with the points stored."""
        ...

    async def add_trip(self, trip: ClosedTrip) -> None: ...

    async def trips(self, since: datetime, limit: int | None = None) -> Sequence[ClosedTrip]:
        """Round trips closed at or after ``since``, newest first; the latest ``limit`` of them
        when a limit is given."""
        ...


class UnitOfWork(Protocol):
    # Read-only members, so an adapter may hold its own repository classes.
    @property
    def signals(self) -> SignalRepository: ...

    @property
    def decisions(self) -> DecisionRepository: ...

    @property
    def orders(self) -> OrderRepository: ...

    @property
    def fills(self) -> FillRepository: ...

    @property
    def positions(self) -> PositionRepository: ...

    @property
    def risk(self) -> RiskRepository: ...


class Lease(Protocol):
    async def check(self) -> None:
        """Raise ``StoreUnavailable`` if this lease may have been lost since it was taken (the
        session that held it died, so another worker may hold it now): what is about to be
        decided under it must not be. Returns when it is still held."""
        ...


class Store(Protocol):
    def transaction(self, lock: str | None = None, *, locks: Collection[str] = ()
                    ) -> AbstractAsyncContextManager[UnitOfWork]:
        """A unit of work: commits when the block ends normally, rolls back on any exception or
        cancellation, so nothing is ever half-written.

        ``lock`` names an exclusive lock held until the end of the transaction (the decide step
        locks ``exchange:symbol`` so that several workers never spend the same room twice);
        ``locks`` names several, taken in sorted order (so two such transactions never deadlock).
        An adapter may take them with the transaction's first read or write rather than when the
        block opens: they guard what the transaction reads and writes, nothing else.

        A failed write may be reported by a later call of the same unit of work, or when the
        block ends, rather than by the write itself (an adapter may send writes together with
        its next statement); either way nothing of the transaction is committed.
        """
        ...

    def lease(self, name: str) -> AbstractAsyncContextManager[Lease]:
        """Exclusive use of ``name`` among every worker sharing this store while the block runs,
        network calls included (it is not a transaction). Waits for a holder to finish; released
        when the block ends, on cancellation, and when the holder's process dies. Submitting and
        resolving a symbol's orders happen under its lease, so no look-alike order of another
        worker is ever in flight while the venue is searched for an ambiguous one. A lease can be
        lost without its holder knowing (its session dies): :meth:`Lease.check` says so before
        anything is concluded under it."""
        ...
