"""MemoryStore beyond the Store contract: every call is a cancellation point, ended units of work
are dead, the database's other rules, indexes that agree with the rows, and snapshots."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.rows import IntegrityError, NaiveDatetime
from adapters.memory.store import MemoryStore, MemoryUnitOfWork
from hexexec.domain.equity import EquityPoint
from hexexec.domain.errors import VenueOrderOwned
from hexexec.domain.order_status import OrderStatus
from hexexec.domain.records import SignalStatus
from hexexec.domain.trading_state import RiskState
from tests.contract.harnesses import builders as b

Call = Callable[[MemoryUnitOfWork], Awaitable[object]]
REF = b.ref()
CALLS: list[Call] = [
    lambda u: u.signals.add(b.signal_record(b.ref())),
    lambda u: u.signals.get(REF),
    lambda u: u.signals.set_status(REF, SignalStatus.REJECTED, None),
    lambda u: u.decisions.add(b.decision(REF)),
    lambda u: u.decisions.for_signal(REF),
    lambda u: u.orders.add(b.order(b.ref())),
    lambda u: u.orders.get("x"),
    lambda u: u.orders.update(b.order(REF, cid="x")),
    lambda u: u.orders.by_venue_id("v"),
    lambda u: u.orders.for_signal(REF),
    lambda u: u.orders.with_status([OrderStatus.NEW]),
    lambda u: u.orders.open_for_symbol("gmo", "BTC_JPY"),
    lambda u: u.orders.count_created_since("gmo", b.at(0)),
    lambda u: u.fills.add(b.fill("e"), "x"),
    lambda u: u.fills.for_order("x"),
    lambda u: u.positions.get("gmo", "BTC_JPY"),
    lambda u: u.positions.put(b.position()),
    lambda u: u.positions.all(),
    lambda u: u.risk.state(),
    lambda u: u.risk.set_state(RiskState()),
    lambda u: u.risk.add_equity_point(EquityPoint(b.at(0), Decimal(1))),
    lambda u: u.risk.equity_points(b.at(0)),
    lambda u: u.risk.add_trip(b.trip(0)),
    lambda u: u.risk.trips(b.at(0)),
]


@pytest.mark.parametrize("call", CALLS)
async def test_every_repository_call_is_a_cancellation_point(call: Call) -> None:
    store = MemoryStore()
    with trio.CancelScope() as scope:
        async with store.transaction() as uow:
            scope.cancel()
            await call(uow)
            pytest.fail("the call did not let the cancellation in")
    assert scope.cancelled_caught and store.snapshot().commits == 0


@pytest.mark.parametrize("call", CALLS)
async def test_a_unit_of_work_is_dead_once_its_transaction_ended(call: Call) -> None:
    store = MemoryStore()
    async with store.transaction() as uow:
        pass
    with pytest.raises(RuntimeError, match="ended"):
        await call(uow)


async def test_it_refuses_what_the_schema_refuses() -> None:
    store = MemoryStore()
    naive = datetime(2024, 5, 1, 9, 30)
    attempts: list[tuple[type[Exception], Call]] = [
        (NaiveDatetime, lambda u: u.risk.add_equity_point(EquityPoint(naive, Decimal(1)))),
        (IntegrityError, lambda u: u.positions.put(replace(b.position(), fees=Decimal("NaN")))),
        (IntegrityError, lambda u: u.fills.add(b.fill("e-1"), "no-such-order")),
        (IntegrityError, lambda u: u.fills.add(b.fill("e-2", price=Decimal(0)), "no-such-order")),
        (IntegrityError, lambda u: u.decisions.add(b.decision(b.ref()))),
        (IntegrityError, lambda u: u.orders.add(b.order(b.ref(), size=Decimal("-1")))),
        (IntegrityError, lambda u: u.signals.add(replace(b.signal_record(b.ref()), deliveries=0))),
        (LookupError, lambda u: u.orders.update(b.order(b.ref()))),
        (LookupError, lambda u: u.signals.set_status(b.ref(), SignalStatus.INVALID, "x")),
    ]
    for error, attempt in attempts:
        with pytest.raises(error):
            async with store.transaction() as uow:
                await attempt(uow)
    assert store.snapshot().commits == 0


async def test_a_snapshot_shows_only_what_is_committed() -> None:
    store = MemoryStore()
    record = b.signal_record(b.ref())
    inside = trio.Event()
    release = trio.Event()

    async def writer() -> None:
        async with store.transaction() as uow:
            await uow.signals.add(record)
            inside.set()
            await release.wait()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(writer)
        await inside.wait()
        assert store.in_transaction and store.snapshot().signals == ()
        release.set()
    snap = store.snapshot()
    assert snap.signals == (record,) and snap.signal(record.source) == record
    assert snap.commits == 1 and not store.in_transaction


STATUSES = list(OrderStatus)


@settings(max_examples=150)
@given(steps=st.lists(st.tuples(st.integers(0, 3), st.sampled_from(STATUSES),
                                st.integers(0, 120), st.sampled_from(["BTC_JPY", "ETH_JPY"]),
                                st.one_of(st.none(), st.sampled_from(["v1", "v2", "v3"])),
                                st.booleans()),
                      max_size=25))
async def test_queries_agree_with_the_rows(
        steps: list[tuple[int, OrderStatus, int, str, str | None, bool]]) -> None:
    """Orders added and rewritten at random, some transactions rolled back: every indexed
    query gives what a scan of the committed rows gives."""
    store = MemoryStore()
    sources = [b.ref() for _ in range(6)]
    for slot, status, seconds, symbol, venue_id, fail in steps:
        try:
            async with store.transaction() as uow:
                source = sources[slot]
                if await uow.signals.get(source) is None:
                    await uow.signals.add(b.signal_record(source))
                order = b.order(source, cid=f"c{slot}", status=status, seconds=seconds,
                                order_id=venue_id, symbol=symbol)
                if await uow.orders.get(order.client_order_id) is None:
                    await uow.orders.add(order)
                else:
                    await uow.orders.update(order)
                if fail:
                    raise KeyError("roll back")
        except (KeyError, VenueOrderOwned):
            pass
    rows = store.snapshot().orders
    async with store.transaction() as uow:
        for wanted in ({OrderStatus.NEW}, {OrderStatus.PENDING, OrderStatus.UNKNOWN}):
            scan = sorted((o for o in rows if o.status in wanted), key=lambda o: o.created_at)
            assert [o.client_order_id for o in await uow.orders.with_status(wanted)] == [
                o.client_order_id for o in scan]
        open_btc = {o.client_order_id for o in rows
                    if o.symbol == "BTC_JPY" and not o.status.is_final}
        assert {o.client_order_id for o in await uow.orders.open_for_symbol(
            "gmo", "BTC_JPY")} == open_btc
        for venue_id in ("v1", "v2", "v3"):
            owners = [o for o in rows if o.order_id == venue_id]
            assert len(owners) <= 1
            assert await uow.orders.by_venue_id(venue_id) == (owners[0] if owners else None)
        assert await uow.orders.count_created_since("gmo", b.at(60)) == sum(
            o.created_at >= b.at(60) for o in rows)
