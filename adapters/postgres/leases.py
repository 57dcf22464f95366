"""Leases on PostgreSQL: session advisory locks on connections of their own.

A lease is held across network calls, so it cannot live in a transaction: each holder keeps one
connection (autocommit, from a small pool apart from the transactions' pool, so leases never
starve units of work) with ``pg_advisory_lock`` taken on it. The lock dies with the session: a
worker that crashes frees its leases when its connections close. Waiting polls
``pg_try_advisory_lock`` so that no statement blocks and the wait is cancellable at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import trio
from psycopg_pool import ConnectionPool

from adapters.postgres.blocking import run_blocking
from adapters.postgres.transient import TRANSIENT, unavailable
from hexexec.domain.errors import StoreUnavailable

KEY = "hashtext('hexexec-lease:' || current_schema()), hashtext(%s)"
TRY = f"SELECT pg_try_advisory_lock({KEY})"
FREE = f"SELECT pg_advisory_unlock({KEY})"
# The two-int advisory lock as pg_locks shows it: (classid, objid) = the two keys, objsubid 2.
HELD = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND pid = pg_backend_pid() AND objsubid = 2 "
    "AND classid = hashtext('hexexec-lease:' || current_schema())::oid "
    "AND objid = hashtext(%s)::oid)"
)


class PostgresLease:
    """A lease in hand: :meth:`check` asks its own session whether it still holds the lock."""

    def __init__(self, name: str, conn: psycopg.Connection[Any]) -> None:
        self._name = name
        self._conn = conn
        self._turn = trio.Lock()  # one statement at a time on the lease's connection

    def __repr__(self) -> str:
        return f"PostgresLease({self._name!r})"

    async def check(self) -> None:
        def held() -> bool:
            row = self._conn.execute(HELD, (self._name,)).fetchone()
            return bool(row and row[0])

        try:
            async with self._turn:
                still = await run_blocking(held)
        except TRANSIENT as exc:
            raise unavailable(f"lease {self._name!r} lost", exc) from exc
        if not still:
            raise StoreUnavailable(f"PostgreSQL lease {self._name!r} lost: its lock is not held")


class PostgresLeases:
    def __init__(self, pool: ConnectionPool[Any], connect_timeout: float, poll_s: float = 0.02
                 ) -> None:
        self._pool = pool
        self._connect_timeout = connect_timeout
        self._poll_s = poll_s

    @asynccontextmanager
    async def lease(self, name: str) -> AsyncIterator[PostgresLease]:
        state: dict[str, Any] = {}

        def try_lock() -> bool:
            # The first try takes the connection too: one hop when the lease is free.
            if "conn" not in state:
                state["conn"] = self._pool.getconn(timeout=self._connect_timeout)
            conn: psycopg.Connection[Any] = state["conn"]
            row = conn.execute(TRY, (name,)).fetchone()
            state["locked"] = bool(row and row[0])
            return bool(state["locked"])

        def release() -> None:
            conn: psycopg.Connection[Any] | None = state.get("conn")
            if conn is None:
                return
            try:
                if state.get("locked"):
                    conn.execute(FREE, (name,))
            except psycopg.Error:
                # The session is gone (or in doubt): closing it ends the lock either way.
                conn.close()
            finally:
                self._pool.putconn(conn)  # a closed connection is discarded by the pool

        try:
            try:
                # Another process holds it: nothing here could be told when it is freed, so poll.
                while not await run_blocking(try_lock):  # noqa: ASYNC110
                    await trio.sleep(self._poll_s)
            except TRANSIENT as exc:
                raise unavailable(f"lease {name!r}", exc) from exc
            yield PostgresLease(name, state["conn"])
        finally:
            # Shielded: a lease must be given back even when its holder is being cancelled.
            with trio.CancelScope(shield=True):
                await run_blocking(release)
