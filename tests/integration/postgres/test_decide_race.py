"""Deciders on separate connections racing signals for one symbol never exceed the max position
(the advisory lock of ``transaction(lock=...)``), deciding the same entries again changes
nothing (the inbox's unique (stream, message id)), and two transactions racing to adopt one
venue order id cannot both have it."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
import trio

from adapters.postgres import PostgresStore
from hexexec.domain.errors import VenueOrderOwned
from hexexec.domain.order_status import OrderStatus
from hexexec.domain.signal import InboundMessage
from hexexec.services.decide import Decided, Outcome, decide, decide_batch
from hexexec.services.engine import Engine
from tests.contract.harnesses import builders as b
from tests.integration.postgres.db import Database
from tests.integration.postgres.deciding import deciding_engine, entry

pytestmark = pytest.mark.postgres

SYMBOL = "BTC_JPY"
LIMIT = Decimal("0.05")  # room for five entries of 0.01


async def _race(engines: list[Engine], messages: list[InboundMessage],
                tasks_per_engine: int = 4) -> list[Decided]:
    """Every message decided once, spread over the engines, many at a time on each."""
    results: list[Decided] = []
    send, receive = trio.open_memory_channel[InboundMessage](len(messages))
    for m in messages:
        send.send_nowait(m)
    send.close()

    async def worker(engine: Engine) -> None:
        async for message in receive:
            results.append(await decide(engine, message))

    async with trio.open_nursery() as nursery:
        for engine in engines:
            for _ in range(tasks_per_engine):
                nursery.start_soon(worker, engine)
    return results


async def test_racing_deciders_never_exceed_the_max_position_and_replays_change_nothing(
        database_url: str, pg_schema: str, pg_store: PostgresStore, db: Database) -> None:
    messages = [entry(SYMBOL) for _ in range(24)]
    async with PostgresStore.open(database_url, schema=pg_schema, max_size=4) as other:
        engines = [deciding_engine(s, (SYMBOL,), LIMIT) for s in (pg_store, other)]
        first = await _race(engines, messages)

        outcomes = Counter(d.outcome for d in first)
        assert outcomes == {Outcome.ACCEPTED: 5, Outcome.REJECTED: 19}
        assert all(d.rules == ("max_position",) for d in first if d.outcome is Outcome.REJECTED)
        async with pg_store.transaction() as uow:
            open_orders = await uow.orders.open_for_symbol("gmo", SYMBOL)
        assert sum(o.intent.size for o in open_orders) == LIMIT
        assert all(o.status is OrderStatus.PENDING for o in open_orders)
        assert await db.value("SELECT count(*) FROM signals") == 24
        assert await db.value("SELECT count(*) FROM risk_decisions") == 24

        before = await db.snapshot()
        again = await _race(engines[::-1], messages)  # every entry redelivered, other engine
        assert {d.outcome for d in again} == {Outcome.REDELIVERY}
        assert await db.snapshot() == before


async def test_without_the_lock_the_same_check_overspends(
        pg_store: PostgresStore, database_url: str, pg_schema: str) -> None:
    """The control: read-check-write at READ COMMITTED without the lock lets two transactions
    both see room for one more order. With the lock the second waits and sees the first's."""

    async def spend(store: PostgresStore, lock: str | None, barrier: trio.Event | None,
                    arrived: list[int]) -> bool:
        async with store.transaction(lock=lock) as uow:
            open_now = await uow.orders.open_for_symbol("gmo", SYMBOL)
            arrived.append(len(open_now))
            if barrier is not None:
                if len(arrived) == 2:
                    barrier.set()
                await barrier.wait()  # both have read before either writes
            if open_now:
                return False
            source = b.ref()
            assert await uow.signals.add(b.signal_record(source))
            await uow.orders.add(b.order(source))
            return True

    async with PostgresStore.open(database_url, schema=pg_schema, max_size=2) as other:
        for lock, expected in ((None, [True, True]), ("gmo:BTC_JPY", [True, False])):
            async with pg_store.transaction() as uow:  # start from no open order
                for order in await uow.orders.open_for_symbol("gmo", SYMBOL):
                    await uow.orders.update(order.moved_to(OrderStatus.EXPIRED, b.at(1)))
            arrived: list[int] = []
            barrier = trio.Event() if lock is None else None
            spent: list[bool] = []

            async def run(store: PostgresStore) -> None:
                spent.append(await spend(store, lock, barrier, arrived))  # noqa: B023

            async with trio.open_nursery() as nursery:
                nursery.start_soon(run, pg_store)
                nursery.start_soon(run, other)
            assert sorted(spent, reverse=True) == expected, lock


async def test_two_transactions_adopting_one_venue_order_cannot_both_win(
        pg_store: PostgresStore, database_url: str, pg_schema: str, db: Database) -> None:
    orders = []
    async with pg_store.transaction() as uow:
        for _ in range(2):
            source = b.ref()
            assert await uow.signals.add(b.signal_record(source))
            order = b.order(source, status=OrderStatus.UNKNOWN)
            await uow.orders.add(order)
            orders.append(order)
    first, second = (o.moved_to(OrderStatus.NEW, b.at(5), order_id="v-1") for o in orders)
    adopted = trio.Event()
    commit_first = trio.Event()

    async def adopt_first() -> None:
        async with pg_store.transaction() as uow:
            await uow.orders.update(first)
            await uow.orders.get(first.client_order_id)  # the update is sent (not committed)
            adopted.set()
            await commit_first.wait()

    async with PostgresStore.open(database_url, schema=pg_schema, max_size=1) as other:
        async with other.transaction() as uow:
            row = await uow.fetchone("SELECT pg_backend_pid() AS pid")
            assert row is not None
            pid = row["pid"]

        async def release_when_blocked() -> None:
            # The second adoption passed the ownership check (the first is not committed yet)
            # and now waits on the unique index: let the first commit.
            while not await db.value(  # noqa: ASYNC110 - polling the server's view
                    "SELECT count(*) > 0 FROM pg_locks WHERE pid = %s AND NOT granted", (pid,)):
                await trio.sleep(0.01)
            commit_first.set()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(adopt_first)
            await adopted.wait()
            nursery.start_soon(release_when_blocked)
            with pytest.raises(VenueOrderOwned):
                async with other.transaction() as uow:
                    await uow.orders.update(second)

    async with pg_store.transaction() as uow:
        assert await uow.orders.by_venue_id("v-1") == first
        assert await uow.orders.get(second.client_order_id) == orders[1]


async def test_racing_batches_over_several_symbols_never_exceed_the_limit_nor_deadlock(
        database_url: str, pg_schema: str, pg_store: PostgresStore, db: Database) -> None:
    """Batches of mixed symbols (each locking all of its symbols, in sorted order) on two
    connection pools, with single decisions among them: every symbol ends exactly at its limit."""
    symbols = ("BTC_JPY", "ETH_JPY", "BTC")
    messages = [entry(symbols[i % 3]) for i in range(60)]
    async with PostgresStore.open(database_url, schema=pg_schema, max_size=4) as other:
        engines = [deciding_engine(s, symbols, LIMIT) for s in (pg_store, other)]
        send, receive = trio.open_memory_channel[list[InboundMessage]](60)
        sizes = [1, 7, 3, 9, 2, 5]
        start = 0
        while start < len(messages):
            size = sizes[start % len(sizes)]
            send.send_nowait(messages[start:start + size])
            start += size
        send.close()
        results: list[Decided] = []

        async def worker(engine: Engine) -> None:
            async for batch in receive:
                results.extend(await decide_batch(engine, batch))

        with trio.fail_after(60):
            async with trio.open_nursery() as nursery:
                for engine in engines:
                    for _ in range(3):
                        nursery.start_soon(worker, engine)
    assert Counter(d.outcome for d in results) == {Outcome.ACCEPTED: 15, Outcome.REJECTED: 45}
    async with pg_store.transaction() as uow:
        for symbol in symbols:
            open_orders = await uow.orders.open_for_symbol("gmo", symbol)
            assert sum(o.intent.size for o in open_orders) == LIMIT, symbol
    assert await db.value("SELECT count(*) FROM risk_decisions") == 60
