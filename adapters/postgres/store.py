"""PostgresStore: the Store port on PostgreSQL with psycopg 3 (sync driver, worker threads).

Open it as an async context manager; it starts a connection pool, applies ``schema.sql`` and
closes the pool on exit::

    async with PostgresStore.open(url, statement_timeout=10) as store:
        async with store.transaction(lock="gmo:BTC_JPY") as uow:
            ...

Why threads rather than psycopg's asyncio API under trio-asyncio: measured on this machine, one
``SELECT 1`` costs ~145 µs from plain Python, ~250–300 µs through a trio worker thread and
~330–370 µs through trio-asyncio; threads also keep asyncio out of the adapter. Cancellation is
not lost: a trio cancel reaching a running statement cancels it on the server (blocking.py).

Every call has a timeout: ``connect_timeout`` for connecting and for waiting on the pool,
``statement_timeout`` for every statement (waiting on the advisory lock included), and TCP
keepalives with ``tcp_user_timeout`` so a dead server is noticed even inside a commit.
Transactions run at READ COMMITTED on purpose: each statement after the lock sees everything the
previous lock holder committed (a REPEATABLE READ snapshot would predate the lock wait).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Collection
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import structlog
import trio
from psycopg import IsolationLevel
from psycopg_pool import ConnectionPool

from adapters.postgres.adaptation import configure_connection
from adapters.postgres.blocking import run_blocking
from adapters.postgres.leases import PostgresLease, PostgresLeases
from adapters.postgres.schema import apply_schema, check_schema_name, load_schema
from adapters.postgres.transient import TRANSIENT, unavailable
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from hexexec.domain.errors import StoreUnavailable

log = structlog.get_logger("hexexec.postgres")

# Locks are namespaced by the search path's schema, so two deployments (or two tests) sharing a
# database never wait on each other; the two-int form keeps clear of single-key advisory locks.
LOCK = "SELECT pg_advisory_xact_lock(hashtext('hexexec:' || current_schema()), hashtext(%s))"


def _take_lock(conn: psycopg.Connection[Any], name: str) -> None:
    conn.execute(LOCK, (name,))


@dataclass(frozen=True)
class _Timeouts:
    connect: float
    statement: float


def _safe_target(url: str) -> str:
    """host:port/db of a URL, never its user or password (for reprs and messages)."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or '/'}"


def _connection_kwargs(timeouts: _Timeouts, schema: str | None) -> dict[str, Any]:
    options = [
        "-c TimeZone=UTC",
        f"-c statement_timeout={int(timeouts.statement * 1000)}",
        # A transaction left open by a wedged worker must not hold a symbol lock forever.
        f"-c idle_in_transaction_session_timeout={int(timeouts.statement * 3000)}",
    ]
    if schema is not None:
        options.append(f"-c search_path={schema}")
    return {
        "options": " ".join(options),
        "connect_timeout": max(2, math.ceil(timeouts.connect)),  # libpq: whole seconds, >= 2
        "application_name": "hexexec",
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "tcp_user_timeout": int((timeouts.statement + timeouts.connect) * 1000),
    }


def _configure(conn: psycopg.Connection[Any]) -> None:
    configure_connection(conn)
    conn.isolation_level = IsolationLevel.READ_COMMITTED


class PostgresStore:
    """The Store port on PostgreSQL. Build it with :meth:`open`."""

    def __init__(self, pool: ConnectionPool[Any], max_size: int, timeouts: _Timeouts,
                 target: str, leases: PostgresLeases | None = None) -> None:
        self._pool = pool
        self._leases = leases
        self._slots = trio.Semaphore(max_size)  # wait for a connection in trio, not in a thread
        self._timeouts = timeouts
        self._target = target
        self.autovacuum = True  # whether the server vacuums on its own: read when opened

    def __repr__(self) -> str:
        return f"PostgresStore({self._target})"

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        url: str,
        *,
        schema: str | None = None,
        min_size: int = 1,
        max_size: int = 4,
        connect_timeout: float = 5.0,
        statement_timeout: float = 10.0,
        schema_file: Path | None = None,
        max_leases: int = 32,
    ) -> AsyncIterator[PostgresStore]:
        """Start the pool, apply the schema (in ``schema``, created if missing), yield the store.

        ``schema`` puts every table in that PostgreSQL schema (search_path) instead of public.
        """
        if schema is not None:
            check_schema_name(schema)
        timeouts = _Timeouts(connect_timeout, statement_timeout)
        text = load_schema(schema_file)
        pool: ConnectionPool[Any] = ConnectionPool(
            url, kwargs=_connection_kwargs(timeouts, schema), min_size=min_size,
            max_size=max_size, open=False, timeout=connect_timeout, configure=_configure,
            name="hexexec",
        )
        lease_kwargs = {**_connection_kwargs(timeouts, schema), "autocommit": True}
        lease_pool: ConnectionPool[Any] = ConnectionPool(
            url, kwargs=lease_kwargs, min_size=0, max_size=max_leases, open=False,
            timeout=connect_timeout, configure=configure_connection, name="hexexec-leases",
        )
        try:
            await run_blocking(lambda: pool.open(wait=True, timeout=connect_timeout))
            await run_blocking(lambda: lease_pool.open(wait=False))
            leases = PostgresLeases(lease_pool, connect_timeout)
            store = cls(pool, max_size, timeouts, _safe_target(url), leases)
            await store._apply_schema(text, schema)
            if not store.autovacuum:
                log.warning(
                    "postgresql autovacuum is off: orders and signals keep every dead row their "
                    "updates leave, and the worker's queries slow as they grow; turn it on "
                    "(autovacuum = on) or VACUUM ANALYZE the schema's tables regularly",
                    target=store._target)
            yield store
        finally:
            with trio.CancelScope(shield=True):
                await run_blocking(lambda: lease_pool.close(timeout=connect_timeout))
                await run_blocking(lambda: pool.close(timeout=connect_timeout))

    async def _apply_schema(self, text: str, schema: str | None) -> None:
        """Apply the schema; note whether the server vacuums on its own (``autovacuum``)."""
        async with self._slots:
            def work() -> bool:
                with self._pool.connection(timeout=self._timeouts.connect) as conn:
                    apply_schema(conn, text, schema)
                    # Autovacuum also needs the statistics it acts on (track_counts).
                    row = conn.execute(
                        "SELECT current_setting('autovacuum') = 'on' "
                        "AND current_setting('track_counts') = 'on'").fetchone()
                    return row is not None and row[0] is True

            self.autovacuum = await run_blocking(work)

    def lease(self, name: str) -> AbstractAsyncContextManager[PostgresLease]:
        """Exclusive use of ``name`` among every worker on this database (see PostgresLeases)."""
        if self._leases is None:
            raise RuntimeError("this store was built without leases: open it with PostgresStore.open")
        return self._leases.lease(name)

    @asynccontextmanager
    async def transaction(self, lock: str | None = None, *, locks: Collection[str] = ()
                          ) -> AsyncIterator[PostgresUnitOfWork]:
        """A unit of work on one connection: commits when the block ends normally, rolls back on
        any exception or cancellation. ``lock`` and ``locks`` are held until the end of the
        transaction; they are taken in sorted order, so two transactions never deadlock on them.

        The connection is taken, and the locks waited for, in the unit of work's first hop to
        the database (with its first statement), and writes ride along with the next statement
        or the commit (unit_of_work.py): a short transaction costs two hops, not one per call.
        """
        if (lock is not None and not isinstance(lock, str)) or isinstance(locks, str) or any(
                not isinstance(name, str) for name in locks):
            raise TypeError("a lock is named by a string")
        names = sorted({*locks, *([lock] if lock is not None else [])})
        async with self._slots:  # a connection is free for us: getconn will not wait
            uow = PostgresUnitOfWork(self._getconn, _take_lock, names, self._timeouts.connect)
            try:
                yield uow
            except BaseException as exc:
                uow.close()
                if (conn := uow.connection) is not None:
                    with trio.CancelScope(shield=True):
                        await run_blocking(lambda: self._end(conn, commit=False))
                if isinstance(exc, TRANSIENT):
                    raise self._unavailable("in a transaction (rolled back)", exc) from exc
                raise
            # Shielded: once the block has ended normally the commit is not abandoned halfway;
            # a cancel arriving now is delivered at the caller's next checkpoint.
            with trio.CancelScope(shield=True):
                await self._commit(uow, bool(names))

    async def _commit(self, uow: PostgresUnitOfWork, locked: bool) -> None:
        """Run the writes kept for later and commit, in one hop. A failed write rolls back; a
        failed commit has an unknown outcome (the server may have committed)."""
        if uow.connection is None and not uow.pending and not locked:
            uow.close()  # nothing was read, written or locked: no transaction to end
            return
        committing = False

        def commit(conn: psycopg.Connection[Any]) -> None:
            nonlocal committing
            committing = True
            self._end(conn, commit=True)  # gives the connection back, whatever happens

        try:
            await uow.finish(commit)
        except BaseException as exc:
            if not committing and (conn := uow.connection) is not None:
                await run_blocking(lambda: self._end(conn, commit=False))
            if isinstance(exc, TRANSIENT):
                when = "committing (outcome unknown)" if committing else "in a transaction (rolled back)"
                raise self._unavailable(when, exc) from exc
            raise

    def _unavailable(self, when: str, exc: BaseException) -> StoreUnavailable:
        return unavailable(f"{self._target} {when}", exc)

    def _getconn(self) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] = self._pool.getconn(timeout=self._timeouts.connect)
        return conn

    def _end(self, conn: psycopg.Connection[Any], commit: bool) -> None:
        """Commit or roll back, then give the connection back (a broken one is replaced).

        A failed commit raises; a failed rollback does not (the caller is already raising the
        reason for it): the connection is closed instead, which undoes the transaction too.
        """
        try:
            if commit:
                conn.commit()
            else:
                try:
                    conn.rollback()
                except psycopg.Error:
                    conn.close()
        finally:
            self._pool.putconn(conn)
