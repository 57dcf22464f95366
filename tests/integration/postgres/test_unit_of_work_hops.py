"""How a PostgreSQL unit of work spends its hops to the connection's thread (unit_of_work.py,
statements.py): reads made at once share one hop (pipelined), writes ride along with the next
hop or the commit, and neither changes what a transaction reads, writes or refuses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any

import psycopg
import pytest
import trio

from adapters.postgres import PostgresStore
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from hexexec.domain.order_status import OrderStatus
from hexexec.domain.orders import Order
from hexexec.domain.trading_state import RiskState, TradingState
from hexexec.services.concurrently import at_once
from tests.contract.harnesses import builders as b
from tests.integration.postgres.db import Database

pytestmark = pytest.mark.postgres


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts every hop of every unit of work (statements and commits alike)."""
    counted = [0]
    original = PostgresUnitOfWork._hop

    async def hop(self: PostgresUnitOfWork, pending: Any, fn: Callable[..., Any]) -> Any:
        counted[0] += 1
        return await original(self, pending, fn)

    monkeypatch.setattr(PostgresUnitOfWork, "_hop", hop)
    return counted


async def _orders(store: PostgresStore, n: int) -> list[Order]:
    orders = []
    async with store.transaction() as uow:
        for _ in range(n):
            source = b.ref()
            assert await uow.signals.add(b.signal_record(source))
            orders.append(b.order(source))
            await uow.orders.add(orders[-1])
    return orders


@pytest.fixture
async def eight(pg_store: PostgresStore) -> AsyncIterator[list[Order]]:
    yield await _orders(pg_store, 8)


async def test_reads_made_at_once_share_one_hop_and_each_gets_its_own_rows(
        pg_store: PostgresStore, eight: list[Order], hops: list[int]) -> None:
    hops[0] = 0  # the fixtures' own
    async with pg_store.transaction() as uow:
        found = await at_once(
            *(partial(uow.orders.get, o.client_order_id) for o in eight),
            partial(uow.orders.with_status, [OrderStatus.PENDING]),
            uow.risk.state,
        )
        assert hops[0] == 1
    assert hops[0] == 2  # and the commit
    assert found[:8] == eight
    assert found[8] == eight  # oldest first: the order they were added in
    assert found[9] is not None


async def test_a_failing_read_among_others_fails_them_and_rolls_back(
        pg_store: PostgresStore, eight: list[Order], db: Database) -> None:
    source = b.ref()
    raised: list[type[BaseException]] = []

    async def read(what: Callable[[], Awaitable[object]]) -> object:
        try:
            return await what()
        except psycopg.errors.DivisionByZero as exc:
            raised.append(type(exc))
            raise

    with pytest.raises(psycopg.errors.DivisionByZero):
        async with pg_store.transaction() as uow:
            await uow.signals.add(b.signal_record(source))  # written before the reads: undone
            await at_once(partial(read, partial(uow.orders.get, eight[0].client_order_id)),
                          partial(read, partial(uow.fetchone, "SELECT 1 / 0 AS n")),
                          partial(read, partial(uow.orders.get, eight[1].client_order_id)))
    # Every read of the shared hop fails with the error (the first to raise cancels the others,
    # unless they already had their outcome).
    assert raised and set(raised) == {psycopg.errors.DivisionByZero}
    assert await db.value("SELECT count(*) FROM signals WHERE message_id = %s",
                          (source.message_id,)) == 0


async def test_writes_go_with_the_next_hop_and_a_refused_one_is_raised_there(
        pg_store: PostgresStore, eight: list[Order], hops: list[int], db: Database) -> None:
    first, second = eight[0], eight[1]
    hops[0] = 0
    async with pg_store.transaction() as uow:
        await uow.orders.update(first.moved_to(OrderStatus.SUBMITTING, b.at(5)))
        await uow.orders.update(second.moved_to(OrderStatus.SUBMITTING, b.at(5)))
        assert hops[0] == 0  # nothing sent yet
        # The read sees both writes: they ran first, in the same hop.
        assert [o.status for o in await uow.orders.with_status([OrderStatus.SUBMITTING])] == [
            OrderStatus.SUBMITTING] * 2
        assert hops[0] == 1
    assert hops[0] == 2
    # A write refused (its order does not exist) is raised by the next call, and the whole
    # transaction is undone, the write that came before it too.
    with pytest.raises(LookupError, match="hx-missing"):
        async with pg_store.transaction() as uow:
            await uow.orders.update(eight[2].moved_to(OrderStatus.SUBMITTING, b.at(6)))
            await uow.orders.update(b.order(b.ref(), cid="hx-missing"))
            await uow.orders.get(eight[3].client_order_id)
    assert await db.value("SELECT status FROM orders WHERE client_order_id = %s",
                          (eight[2].client_order_id,)) == "PENDING"


async def test_a_transaction_that_only_writes_costs_one_hop(
        pg_store: PostgresStore, hops: list[int], db: Database) -> None:
    records = [b.signal_record(b.ref()) for _ in range(3)]
    halted = RiskState(TradingState.HALTED, "by hand", "operator", b.at(7))
    hops[0] = 0
    async with pg_store.transaction(lock="gmo:BTC_JPY") as uow:
        await uow.signals.add_many(records[:2])
        await uow.signals.add_many(records[2:])
        await uow.risk.set_state(halted)
    assert hops[0] == 1  # connection, lock, writes (pipelined) and commit together
    assert await db.value("SELECT count(*) FROM signals") == 3
    async with pg_store.transaction() as uow:
        assert await uow.risk.state() == halted


async def test_reads_that_come_while_a_hop_runs_wait_for_it_and_share_the_next(
        pg_store: PostgresStore, hops: list[int]) -> None:
    """One connection: two pipelines at once on it would break it (psycopg asserts)."""
    results: dict[str, object] = {}

    async def read(name: str, query: str) -> None:
        results[name] = await uow.fetchone(query)

    async with pg_store.transaction() as uow:
        hops[0] = 0
        async with trio.open_nursery() as nursery:
            nursery.start_soon(read, "slow", "SELECT 1 AS n FROM pg_sleep(0.3)")
            nursery.start_soon(read, "with slow", "SELECT 2 AS n")
            await trio.sleep(0.1)  # the first hop is running now
            for k in range(3, 6):
                nursery.start_soon(read, f"later {k}", f"SELECT {k} AS n")
        assert hops[0] == 2
    assert results == {"slow": {"n": 1}, "with slow": {"n": 2}, "later 3": {"n": 3},
                       "later 4": {"n": 4}, "later 5": {"n": 5}}
