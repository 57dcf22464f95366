"""A trio cancel that reaches a running statement cancels it on the server: the transaction is
rolled back whole, and the pool keeps (and can use) its connection.

How the tests tell a server-side cancel from a statement that merely ended: the statements
used here cannot end by themselves while the test runs (``pg_sleep(3600)`` under a one-hour
statement timeout; a lock wait on a lock the test still holds). A guard task would end them
after ``GUARD_S`` — terminating the backend, or releasing the lock — and records that it did;
the tests assert it never had to. The guard bounds a failure's hang; it asserts no speed.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from adapters.postgres import PostgresStore
from hexexec.domain.equity import EquityPoint
from hexexec.domain.trading_state import RiskState
from tests.contract.harnesses import builders as b
from tests.integration.postgres.db import Database

pytestmark = pytest.mark.postgres

GUARD_S = 30.0
LOCK = "gmo:BTC_JPY"


async def _backend_pid(store: PostgresStore) -> int:
    async with store.transaction() as uow:
        row = await uow.fetchone("SELECT pg_backend_pid() AS pid")
    assert row is not None
    return int(row["pid"])


async def _until(db: Database, query: str, pid: int) -> None:
    while not await db.value(query, (pid,)):  # noqa: ASYNC110 - polling the server's view
        await trio.sleep(0.01)


SLEEPING = ("SELECT count(*) > 0 FROM pg_stat_activity WHERE pid = %s AND state = 'active' "
            "AND query LIKE '%%pg_sleep%%'")
WAITING_FOR_LOCK = ("SELECT count(*) > 0 FROM pg_locks WHERE pid = %s AND locktype = 'advisory' "
                    "AND NOT granted")


async def test_cancel_stops_pg_sleep_on_the_server_and_rolls_everything_back(
        database_url: str, pg_schema: str, db: Database) -> None:
    async with PostgresStore.open(database_url, schema=pg_schema, max_size=1,
                                  statement_timeout=3600) as store:
        pid = await _backend_pid(store)
        before = await db.snapshot()
        guard_fired: list[bool] = []

        async def guard() -> None:
            await trio.sleep(GUARD_S)
            guard_fired.append(True)
            await db.rows("SELECT pg_terminate_backend(%s)", (pid,))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(guard)
            with trio.CancelScope() as scope:
                async def cancel_once_sleeping() -> None:
                    await _until(db, SLEEPING, pid)
                    scope.cancel()

                nursery.start_soon(cancel_once_sleeping)
                async with store.transaction(lock=LOCK) as uow:
                    source = b.ref()
                    assert await uow.signals.add(b.signal_record(source))
                    await uow.decisions.add(b.decision(source, client_order_id="hx-cut"))
                    await uow.orders.add(b.order(source, cid="hx-cut"))
                    assert await uow.fills.add(b.fill("e-cut"), "hx-cut")
                    await uow.positions.put(b.position())
                    await uow.risk.set_state(RiskState().halted("cut", "test", b.at(1)))
                    await uow.risk.add_equity_point(EquityPoint(b.at(1), Decimal("1.5")))
                    await uow.risk.add_trip(b.trip(1))
                    await uow.execute("SELECT pg_sleep(3600)")
            nursery.cancel_scope.cancel()

        assert scope.cancelled_caught and not guard_fired
        assert await db.rows("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)) == [
            ("idle",)]
        assert await db.snapshot() == before  # nothing half-written
        # The pool's only connection survived the cancel and works.
        assert await _backend_pid(store) == pid
        async with store.transaction(lock=LOCK) as uow:
            assert await uow.signals.add(b.signal_record(b.ref()))
        assert await db.value("SELECT count(*) FROM signals") == 1


async def test_cancel_while_waiting_for_the_symbol_lock(
        database_url: str, pg_schema: str, db: Database) -> None:
    async with PostgresStore.open(database_url, schema=pg_schema, max_size=1) as holder, \
            PostgresStore.open(database_url, schema=pg_schema, max_size=1,
                               statement_timeout=3600) as waiter:
        pid = await _backend_pid(waiter)
        release = trio.Event()
        guard_fired: list[bool] = []
        held_when_cancelled: list[bool] = []

        async def hold(task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
            async with holder.transaction(lock=LOCK) as uow:
                await uow.risk.state()  # locks are taken with the first statement
                task_status.started()
                await release.wait()

        async def guard() -> None:
            await trio.sleep(GUARD_S)
            guard_fired.append(True)
            release.set()

        async with trio.open_nursery() as nursery:
            await nursery.start(hold)
            nursery.start_soon(guard)
            with trio.CancelScope() as scope:
                async def cancel_once_waiting() -> None:
                    await _until(db, WAITING_FOR_LOCK, pid)
                    scope.cancel()

                nursery.start_soon(cancel_once_waiting)
                async with waiter.transaction(lock=LOCK) as uow:
                    await uow.signals.add(b.signal_record(b.ref()))
            held_when_cancelled.append(not release.is_set())
            assert not await db.value(WAITING_FOR_LOCK, (pid,))
            release.set()
            nursery.cancel_scope.cancel()

        assert scope.cancelled_caught and held_when_cancelled == [True] and not guard_fired
        assert await _backend_pid(waiter) == pid
        async with waiter.transaction(lock=LOCK) as uow:  # the lock is free again, and takeable
            assert await uow.signals.add(b.signal_record(b.ref()))
        assert await db.value("SELECT count(*) FROM signals") == 1
