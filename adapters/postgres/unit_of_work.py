"""PostgresUnitOfWork: the six repositories of one transaction, on one pooled connection.

Every repository call is one hop to a worker thread that runs its statements on the
transaction's connection; a trio cancel during the hop cancels the statement on the server
(see blocking.py). When the transaction ends the unit of work is closed, so a reference kept
past the ``async with`` block cannot write outside its transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

import psycopg
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


class UnitOfWorkClosed(RuntimeError):
    """A repository was used after its transaction ended."""


class PostgresUnitOfWork:
    """One transaction: repositories plus the means to run statements in it."""

    def __init__(self, conn: psycopg.Connection[Any], cancel_timeout: float) -> None:
        self._conn: psycopg.Connection[Any] | None = conn
        self._cancel_timeout = cancel_timeout
        self.signals = PostgresSignalRepository(self)
        self.decisions = PostgresDecisionRepository(self)
        self.orders = PostgresOrderRepository(self)
        self.fills = PostgresFillRepository(self)
        self.positions = PostgresPositionRepository(self)
        self.risk = PostgresRiskRepository(self)

    def close(self) -> None:
        self._conn = None

    async def run(self, fn: Callable[[psycopg.Connection[Any]], T]) -> T:
        """Run ``fn(connection)`` on a worker thread, inside this transaction."""
        conn = self._conn
        if conn is None:
            raise UnitOfWorkClosed("this unit of work has ended: open a new transaction")
        cancel = partial(conn.cancel_safe, timeout=self._cancel_timeout)
        return await run_blocking(partial(fn, conn), on_cancel=cancel)

    async def fetchone(self, query: str, params: Params = None) -> Row | None:
        def work(conn: psycopg.Connection[Any]) -> Row | None:
            with conn.cursor(row_factory=dict_row) as cur:
                return cur.execute(query, params).fetchone()

        return await self.run(work)

    async def fetchall(self, query: str, params: Params = None) -> list[Row]:
        def work(conn: psycopg.Connection[Any]) -> list[Row]:
            with conn.cursor(row_factory=dict_row) as cur:
                return cur.execute(query, params).fetchall()

        return await self.run(work)

    async def executemany(self, query: str, params: Sequence[dict[str, Any] | Sequence[Any]]
                          ) -> None:
        """Run a statement once per set of parameters, pipelined in one hop."""

        def work(conn: psycopg.Connection[Any]) -> None:
            with conn.cursor() as cur:
                cur.executemany(query, params)

        await self.run(work)

    async def execute(self, query: str, params: Params = None) -> int:
        """Run a statement; the number of rows it touched."""

        def work(conn: psycopg.Connection[Any]) -> int:
            with conn.cursor() as cur:
                return cur.execute(query, params).rowcount

        return await self.run(work)
