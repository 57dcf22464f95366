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
from typing import Any, TypeVar

import psycopg
import trio
from psycopg.rows import dict_row

from adapters.postgres.blocking import run_blocking
from adapters.postgres.decisions import PostgresDecisionRepository
from adapters.postgres.fills import PostgresFillRepository
from adapters.postgres.orders import PostgresOrderRepository
from adapters.postgres.positions import PostgresPositionRepository
from adapters.postgres.risk import PostgresRiskRepository
from adapters.postgres.signals import PostgresSignalRepository

T = TypeVar("T")
Row = dict[str, Any]
Params = dict[str, Any] | Sequence[Any] | None
Connection = psycopg.Connection[Any]
Work = Callable[[Connection], object]


class UnitOfWorkClosed(RuntimeError):
    """A repository was used after its transaction ended."""


class Abandoned(Exception):
    """The hop was cancelled before its next statement started (raised on the worker thread)."""


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
        kept for later (and, in the first hop, after taking the connection and the locks)."""
        self._check_open()
        pending, self._pending = self._pending, []
        return await self._hop(pending, fn)

    async def finish(self, end: Callable[[Connection], None]) -> None:
        """Run the writes kept for later, then ``end(connection)`` (commit), in one hop."""
        self._check_open()
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
            for write in pending:
                if abandoned.is_set():
                    raise Abandoned
                write(conn)
            return fn(conn)

        def cancel() -> None:
            abandoned.set()
            if (conn := self._conn) is not None:
                conn.cancel_safe(timeout=self._cancel_timeout)

        return await run_blocking(work, on_cancel=cancel)

    async def fetchone(self, query: str, params: Params = None) -> Row | None:
        def work(conn: Connection) -> Row | None:
            with conn.cursor(row_factory=dict_row) as cur:
                return cur.execute(query, params).fetchone()

        return await self.run(work)

    async def fetchall(self, query: str, params: Params = None) -> list[Row]:
        def work(conn: Connection) -> list[Row]:
            with conn.cursor(row_factory=dict_row) as cur:
                return cur.execute(query, params).fetchall()

        return await self.run(work)

    async def execute(self, query: str, params: Params = None) -> int:
        """Run a statement now; the number of rows it touched."""
        return await self.run(lambda conn: execute(conn, query, params))

    async def execute_later(self, query: str, params: Params = None) -> None:
        """Run a statement whose reply nobody reads, with the next hop."""
        await self.later(lambda conn: execute(conn, query, params))

    async def executemany_later(self, query: str, params: Sequence[dict[str, Any] | Sequence[Any]]
                          ) -> None:
        """Run a statement once per set of parameters (pipelined), with the next hop."""

        def work(conn: Connection) -> None:
            with conn.cursor() as cur:
                cur.executemany(query, params)

        await self.later(work)


def execute(conn: Connection, query: str, params: Params = None) -> int:
    """Run one statement on ``conn``; the number of rows it touched."""
    with conn.cursor() as cur:
        return cur.execute(query, params).rowcount
