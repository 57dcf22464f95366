"""PostgresUnitOfWork: the six repositories of one transaction, on one pooled connection.

A thread hop costs more than a statement on loopback (the trio side, the worker thread's wake-up
and the GIL going back and forth), so a unit of work spends as few as it can:

* the connection is taken, and the transaction's locks waited for, in the first hop — together
  with the first statement — rather than in a hop of its own when the block opens;
* writes whose outcome the caller does not read (inserts, updates) are not sent at once: they are
  kept in order and run at the start of the next hop, before the statement that needs a reply,
  or with the commit. A read thus always sees the transaction's earlier writes, and a failed
  write (an integrity error, ``VenueOrderOwned``, ``LookupError``) is raised by the next call of
  the unit of work or by the end of the block — before anything commits, and it rolls back all.

A trio cancel during a hop cancels the running statement on the server (see blocking.py). When
the transaction ends the unit of work is closed, so a reference kept past the ``async with``
block cannot write outside its transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import outcome
import psycopg
import trio

from adapters.postgres.blocking import run_blocking
from adapters.postgres.decisions import PostgresDecisionRepository
from adapters.postgres.fills import PostgresFillRepository
from adapters.postgres.orders import PostgresOrderRepository
from adapters.postgres.positions import PostgresPositionRepository
from adapters.postgres.risk import PostgresRiskRepository
from adapters.postgres.signals import PostgresSignalRepository
from adapters.postgres.statements import Read, Write, run_reads, run_writes

T = TypeVar("T")
Row = dict[str, Any]
Params = dict[str, Any] | Sequence[Any] | None
Connection = psycopg.Connection[Any]
Work = Callable[[Connection], object]


class UnitOfWorkClosed(RuntimeError):
    """A repository was used after its transaction ended."""


class Abandoned(Exception):
    """The hop was cancelled before its next statement started (raised on the worker thread)."""


class _Gathering:
    """Reads of several tasks bound for one hop; each gets its own outcome."""

    def __init__(self, works: list[Callable[[Connection], Any]]) -> None:
        self.works = works
        self.results: list[outcome.Outcome[Any]] = []
        self.error: BaseException | None = None
        self.done = trio.Event()

    async def join(self, fn: Callable[[Connection], T]) -> T:
        index = len(self.works)
        self.works.append(fn)
        await self.done.wait()
        if index < len(self.results):
            return cast("T", self.results[index].unwrap())
        if isinstance(self.error, Exception):
            raise self.error
        raise RuntimeError("the shared hop did not run: its first caller was cancelled")

    def run_all(self, conn: Connection) -> None:
        """On the worker thread: every work, in one pipeline when all are plain reads."""
        self.results = run_reads(conn, self.works)


class PostgresUnitOfWork:
    """One transaction: repositories plus the means to run statements in it.

    ``acquire`` (run on the worker thread) takes a connection and returns it; ``lock`` takes one
    named lock on it. The store ends the transaction with :meth:`finish`.
    """

    def __init__(self, acquire: Callable[[], Connection], lock: Callable[[Connection, str], None],
                 locks: Sequence[str], cancel_timeout: float) -> None:
        self._acquire = acquire
        self._lock = lock
        self._locks = locks
        self._cancel_timeout = cancel_timeout
        self._conn: Connection | None = None  # set on the worker thread by the first hop
        self._pending: list[Work] = []
        self._gathering: _Gathering | None = None
        self._turn = trio.Lock()
        self._open = True
        self.signals = PostgresSignalRepository(self)
        self.decisions = PostgresDecisionRepository(self)
        self.orders = PostgresOrderRepository(self)
        self.fills = PostgresFillRepository(self)
        self.positions = PostgresPositionRepository(self)
        self.risk = PostgresRiskRepository(self)

    @property
    def connection(self) -> Connection | None:
        """The transaction's connection once a hop has taken it (for the store to end it)."""
        return self._conn

    @property
    def pending(self) -> bool:
        """Whether writes wait for the next hop."""
        return bool(self._pending)

    def close(self) -> None:
        self._open = False
        self._pending.clear()

    def _check_open(self) -> None:
        if not self._open:
            raise UnitOfWorkClosed("this unit of work has ended: open a new transaction")

    async def later(self, work: Work) -> None:
        """Run ``work(connection)`` inside this transaction before its next statement or commit.
        Still a checkpoint, as every call of a unit of work: a cancellation is delivered here."""
        self._check_open()
        self._pending.append(work)
        await trio.lowlevel.checkpoint()

    async def run(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(connection)`` on a worker thread inside this transaction, after the writes
        kept for later (and, in the first hop, after taking the connection and the locks).

        Calls made at the same moment by several tasks (a service reading independent things
        at once) share one hop: the first waits its turn (at least one checkpoint) while the
        others join, then the hop runs them in the order they came. When one fails, all of
        them fail with its error (the transaction is lost anyway).
        """
        self._check_open()
        gathering = self._gathering
        if gathering is not None:
            return await gathering.join(fn)
        gathering = self._gathering = _Gathering([fn])
        try:
            # Hops of one unit of work never overlap (one connection). Taking the turn is a
            # checkpoint: the other calls of this moment join meanwhile, and so do all that come
            # while an earlier hop is still running.
            async with self._turn:
                if self._gathering is gathering:
                    self._gathering = None
                pending, self._pending = self._pending, []
                await self._hop(pending, gathering.run_all)
        except BaseException as exc:
            if self._gathering is gathering:
                self._gathering = None
            gathering.error = exc  # the writes, the locks or the hop failed: all of us fail
            raise
        finally:
            gathering.done.set()
        return cast("T", gathering.results[0].unwrap())

    async def finish(self, end: Callable[[Connection], None]) -> None:
        """Run the writes kept for later, then ``end(connection)`` (commit), in one hop."""
        self._check_open()
        async with self._turn:
            pending, self._pending = self._pending, []
            self._open = False
            await self._hop(pending, end)

    async def _hop(self, pending: list[Work], fn: Callable[[Connection], T]) -> T:
        abandoned = threading.Event()

        def work() -> T:
            conn = self._conn
            if conn is None:
                conn = self._conn = self._acquire()
                for name in self._locks:
                    if abandoned.is_set():
                        raise Abandoned
                    self._lock(conn, name)
            if abandoned.is_set():
                raise Abandoned
            run_writes(conn, pending)
            return fn(conn)

        def cancel() -> None:
            abandoned.set()
            if (conn := self._conn) is not None:
                conn.cancel_safe(timeout=self._cancel_timeout)

        return await run_blocking(work, on_cancel=cancel)

    async def fetchone(self, query: str, params: Params = None) -> Row | None:
        return cast("Row | None", await self.run(Read(query, params, one=True)))

    async def fetchall(self, query: str, params: Params = None) -> list[Row]:
        return cast("list[Row]", await self.run(Read(query, params, one=False)))

    async def execute(self, query: str, params: Params = None) -> int:
        """Run a statement now; the number of rows it touched."""
        return await self.run(lambda conn: execute(conn, query, params))

    async def execute_later(self, query: str, params: Params = None) -> None:
        """Run a statement whose reply nobody reads, with the next hop."""
        await self.later(Write(query, params))

    async def executemany_later(self, query: str, params: Sequence[dict[str, Any] | Sequence[Any]]
                                ) -> None:
        """Run a statement once per set of parameters, with the next hop."""
        await self.later(Write(query, params, many=True))


def execute(conn: Connection, query: str, params: Params = None) -> int:
    """Run one statement on ``conn``; the number of rows it touched."""
    with conn.cursor() as cur:
        return cur.execute(query, params).rowcount
