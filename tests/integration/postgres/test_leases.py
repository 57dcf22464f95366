"""Leases across processes: a lease held by one store blocks another store on the same database,
and dies with its holder's session (a crashed worker frees its symbols)."""

from __future__ import annotations

import psycopg
import pytest
import trio

from adapters.postgres import PostgresStore
from hexexec.domain.errors import StoreUnavailable

pytestmark = pytest.mark.postgres


async def test_a_lease_dies_with_its_holders_session(database_url, pg_schema):
    async with PostgresStore.open(database_url, schema=pg_schema) as a, \
            PostgresStore.open(database_url, schema=pg_schema) as b:
        held = trio.Event()

        async def hold() -> None:
            async with a.lease("send:gmo:BTC_JPY"):
                held.set()
                await trio.sleep_forever()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(hold)
            await held.wait()
            with trio.move_on_after(0.3) as blocked:  # another worker must wait
                async with b.lease("send:gmo:BTC_JPY"):
                    pass
            assert blocked.cancelled_caught
            # The holder's process "dies": its session ends, and with it the lock.
            await trio.to_thread.run_sync(_terminate_lease_sessions, database_url, pg_schema,
                                          "send:gmo:BTC_JPY")
            with trio.fail_after(10):
                async with b.lease("send:gmo:BTC_JPY"):
                    pass
            nursery.cancel_scope.cancel()


async def test_a_lease_whose_session_died_says_so_when_checked(database_url, pg_schema):
    """The holder is not told when its session dies (a restart, a network cut): another worker
    can take the lease meanwhile. ``check`` finds out — before anything is concluded under it."""
    async with PostgresStore.open(database_url, schema=pg_schema) as a, \
            PostgresStore.open(database_url, schema=pg_schema) as b:
        async with a.lease("send:gmo:BTC_JPY") as lease:
            await lease.check()  # held: returns
            await trio.to_thread.run_sync(_terminate_lease_sessions, database_url, pg_schema,
                                          "send:gmo:BTC_JPY")
            with trio.fail_after(10):
                async with b.lease("send:gmo:BTC_JPY") as other:
                    await other.check()
                    with pytest.raises(StoreUnavailable, match="lost"):
                        await lease.check()
        with trio.fail_after(10):  # the lost lease's exit gave nothing back twice, and broke nothing
            async with a.lease("send:gmo:BTC_JPY") as again:
                await again.check()


def _terminate_lease_sessions(database_url: str, schema: str, name: str) -> None:
    """End only the sessions holding this test's lease (other tests' sessions are left alone)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        done = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks"
            " WHERE locktype = 'advisory' AND granted AND objsubid = 2"
            " AND classid::bigint = (hashtext('hexexec-lease:' || %s)::bigint & 4294967295)"
            " AND objid::bigint = (hashtext(%s)::bigint & 4294967295)",
            (schema, name)).fetchall()
        assert done, "the lease's session was not found"
