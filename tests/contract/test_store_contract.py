"""The Store port's contract, run on every backend of ``STORE_BACKENDS`` (see conftest.py).

Each repository method; units of work that commit or roll back whole (on an exception and on a
trio cancellation at any await); the uniqueness rules the exactly-once protocol leans on; exact
round trips of Decimals, aware UTC datetimes and raw bytes; and the named lock.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hexexec.domain.accounting import Position
from hexexec.domain.equity import EquityPoint
from hexexec.domain.errors import VenueOrderOwned
from hexexec.domain.order_status import OrderStatus
from hexexec.domain.orders import Order, SettleType, Side
from hexexec.domain.records import SignalStatus
from hexexec.domain.signal import MessageRef
from hexexec.domain.trading_state import RiskState, TradingState
from ports.store import Store, UnitOfWork
from tests.contract.harnesses import builders as b

S = OrderStatus
per_store = settings(max_examples=25, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


async def _for_examples(check: Callable[..., Awaitable[None]],
                        **strategies: st.SearchStrategy[Any]) -> None:
    """Run ``check`` on Hypothesis examples inside this test's trio run, on its one store.

    An async ``@given`` test runs each example in its own ``trio.run``, and pytest-trio tears
    async fixtures down after the first: a real store would be closed for the others. Driving
    Hypothesis from a worker thread keeps every example in this run.
    """
    @per_store
    @given(**strategies)
    def example(**values: Any) -> None:
        trio.from_thread.run(partial(check, **values))

    await trio.to_thread.run_sync(example)


async def _signal(uow: UnitOfWork) -> MessageRef:
    """A new signal, stored (orders and decisions need one, as the schema's keys do)."""
    source = b.ref()
    assert await uow.signals.add(b.signal_record(source))
    return source


async def _order(store: Store, **kwargs: Any) -> Order:
    """A new order of a new signal, committed."""
    async with store.transaction() as uow:
        return await b.stored_order(uow, **kwargs)


# ------------------------------------------------------------------------------------- signals

async def test_signal_round_trips_with_raw_bytes_and_parsed_signal(store: Store) -> None:
    source = b.ref()
    raw = ((b"symbol", b"BTC_JPY"), (b"note", b"\xff\xfe\x00 not utf-8"), (b"empty", b""))
    record = b.signal_record(source, fields=raw, reason="kept for audit")
    async with store.transaction() as uow:
        assert await uow.signals.add(record)
    async with store.transaction() as uow:
        assert await uow.signals.get(source) == record
        assert await uow.signals.get(b.ref()) is None


async def test_signal_added_twice_keeps_the_first(store: Store) -> None:
    source = b.ref()
    first = b.signal_record(source, status=SignalStatus.INVALID, parsed=False, reason="bad")
    async with store.transaction() as uow:
        assert await uow.signals.add(first)
        assert not await uow.signals.add(b.signal_record(source))  # in the same transaction
    async with store.transaction() as uow:
        assert not await uow.signals.add(b.signal_record(source))  # in a later one
        assert await uow.signals.get(source) == first


async def test_signal_status_changes_and_nothing_else(store: Store) -> None:
    async with store.transaction() as uow:
        source = await _signal(uow)
        original = await uow.signals.get(source)
        await uow.signals.set_status(source, SignalStatus.EXPIRED, "too old")
    async with store.transaction() as uow:
        assert await uow.signals.get(source) == replace(
            original, status=SignalStatus.EXPIRED, reason="too old")  # type: ignore[type-var]
        await uow.signals.set_status(source, SignalStatus.REJECTED, None)
    async with store.transaction() as uow:
        got = await uow.signals.get(source)
        assert got is not None and got.status is SignalStatus.REJECTED and got.reason is None


async def test_raw_fields_round_trip_exactly(store: Store) -> None:
    async def check(fields: list[tuple[bytes, bytes]]) -> None:
        source = b.ref()
        record = b.signal_record(source, fields=tuple(fields), status=SignalStatus.INVALID,
                                 parsed=False, reason="fuzz")
        async with store.transaction() as uow:
            assert await uow.signals.add(record)
        async with store.transaction() as uow:
            got = await uow.signals.get(source)
        assert got is not None and got.fields == tuple(fields)

    await _for_examples(check, fields=st.lists(
        st.tuples(st.binary(min_size=1, max_size=16), st.binary(max_size=40)),
        min_size=1, max_size=6, unique_by=lambda kv: kv[0]))


# ----------------------------------------------------------------------------------- decisions

async def test_decisions_are_kept_per_signal_in_order(store: Store) -> None:
    async with store.transaction() as uow:
        first, other = await _signal(uow), await _signal(uow)
        d1 = b.decision(first, approved=False, seconds=1)
        d2 = b.decision(first, approved=True, seconds=2, client_order_id="hx-1")
        d3 = b.decision(other, approved=True, seconds=3)
        for d in (d1, d2, d3):
            await uow.decisions.add(d)
        assert list(await uow.decisions.for_signal(first)) == [d1, d2]  # own writes visible
    async with store.transaction() as uow:
        assert list(await uow.decisions.for_signal(first)) == [d1, d2]
        assert list(await uow.decisions.for_signal(other)) == [d3]
        assert list(await uow.decisions.for_signal(b.ref())) == []
    assert d1.rejected_by == ("max_position",)


# -------------------------------------------------------------------------------------- orders

async def test_order_round_trips_every_field(store: Store) -> None:
    async with store.transaction() as uow:
        source = await _signal(uow)
        full = replace(
            b.order(source, status=S.CANCELED, order_id="v-1", price=Decimal("9876543210.123456789")),
            filled_size=Decimal("0.00000001"), average_price=Decimal("9876543210.1"),
            submitted_at=b.at(1), cancel_requested_at=b.at(2), reject_code="ERR-5122",
            reason="timeout",
        )
        market = b.order(await _signal(uow), price=None, settle=SettleType.CLOSE,
                         side=Side.SELL)
        await uow.orders.add(full)
        await uow.orders.add(market)
    async with store.transaction() as uow:
        assert await uow.orders.get(full.client_order_id) == full
        assert await uow.orders.get(market.client_order_id) == market
        assert await uow.orders.get("no-such-order") is None


async def test_order_update_replaces_it_and_indexes_follow(store: Store) -> None:
    order = await _order(store)
    moved = order.moved_to(S.SUBMITTING, b.at(1), submitted_at=b.at(1))
    moved = moved.moved_to(S.NEW, b.at(2), order_id="v-77")
    async with store.transaction() as uow:
        await uow.orders.update(moved)
        assert await uow.orders.by_venue_id("v-77") == moved
    async with store.transaction() as uow:
        assert await uow.orders.get(order.client_order_id) == moved
        assert await uow.orders.by_venue_id("v-77") == moved
        assert await uow.orders.for_signal(order.source) == moved
        assert await uow.orders.by_venue_id("v-78") is None
        assert await uow.orders.for_signal(b.ref()) is None
        assert list(await uow.orders.with_status([S.PENDING])) == []


async def test_client_order_id_is_unique(store: Store) -> None:
    first = await _order(store, cid="hx-same")
    with pytest.raises(Exception):  # noqa: B017 - each backend raises its own integrity error
        async with store.transaction() as uow:
            await uow.orders.add(b.order(await _signal(uow), cid="hx-same"))
    async with store.transaction() as uow:
        assert await uow.orders.get("hx-same") == first


async def test_a_signal_has_at_most_one_order(store: Store) -> None:
    first = await _order(store)
    with pytest.raises(Exception):  # noqa: B017 - each backend raises its own integrity error
        async with store.transaction() as uow:
            await uow.orders.add(b.order(first.source, cid="hx-second"))
    async with store.transaction() as uow:
        assert await uow.orders.for_signal(first.source) == first
        assert await uow.orders.get("hx-second") is None


async def test_a_venue_order_belongs_to_one_row(store: Store) -> None:
    owner = await _order(store, status=S.NEW, order_id="v-1")
    other = await _order(store, status=S.UNKNOWN)
    with pytest.raises(VenueOrderOwned) as raised:
        async with store.transaction() as uow:
            await uow.orders.update(other.moved_to(S.NEW, b.at(5), order_id="v-1"))
    assert raised.value.order_id == "v-1" and raised.value.owner == owner.client_order_id
    with pytest.raises(VenueOrderOwned):
        async with store.transaction() as uow:
            await uow.orders.add(b.order(await _signal(uow), status=S.NEW, order_id="v-1"))
    async with store.transaction() as uow:
        assert await uow.orders.get(other.client_order_id) == other
        assert await uow.orders.by_venue_id("v-1") == owner
        # The owner itself keeps its id through updates.
        await uow.orders.update(owner.moved_to(S.PARTIALLY_FILLED, b.at(6)))


async def test_with_status_and_open_for_symbol_are_oldest_first(store: Store) -> None:
    specs = [  # (status, created second, symbol, exchange)
        (S.NEW, 30, "BTC_JPY", "gmo"), (S.PENDING, 10, "BTC_JPY", "gmo"),
        (S.FILLED, 5, "BTC_JPY", "gmo"), (S.PARTIALLY_FILLED, 20, "BTC_JPY", "gmo"),
        (S.UNKNOWN, 40, "ETH_JPY", "gmo"), (S.SUBMITTING, 0, "BTC_JPY", "other"),
        (S.CANCELED, 1, "BTC_JPY", "gmo"), (S.UNKNOWN, 25, "BTC_JPY", "gmo"),
    ]
    orders = [await _order(store, status=s, seconds=t, symbol=sym, exchange=ex)
              for s, t, sym, ex in specs]
    by_time = sorted(orders, key=lambda o: o.created_at)
    live = {S.NEW, S.PARTIALLY_FILLED}
    open_ = {S.PENDING, S.SUBMITTING, S.UNKNOWN, S.NEW, S.PARTIALLY_FILLED}
    async with store.transaction() as uow:
        assert list(await uow.orders.with_status(live)) == [o for o in by_time if o.status in live]
        assert list(await uow.orders.with_status([])) == []
        assert list(await uow.orders.open_for_symbol("gmo", "BTC_JPY")) == [
            o for o in by_time
            if o.status in open_ and (o.intent.exchange, o.symbol) == ("gmo", "BTC_JPY")
        ]
        assert list(await uow.orders.open_for_symbol("gmo", "XRP_JPY")) == []


async def test_count_created_since_is_inclusive_and_per_exchange(store: Store) -> None:
    for seconds, exchange in [(0, "gmo"), (59, "gmo"), (60, "gmo"), (61, "gmo"), (70, "other")]:
        await _order(store, seconds=seconds, exchange=exchange)
    async with store.transaction() as uow:
        assert await uow.orders.count_created_since("gmo", b.at(60)) == 2
        assert await uow.orders.count_created_since("gmo", b.at(-1)) == 4
        assert await uow.orders.count_created_since("other", b.at(60)) == 1
        await uow.orders.add(b.order(await _signal(uow), seconds=65))
        assert await uow.orders.count_created_since("gmo", b.at(60)) == 3


# --------------------------------------------------------------------------------------- fills

async def test_fills_are_unique_by_execution_id_and_ordered_by_time(store: Store) -> None:
    order, other = await _order(store), await _order(store)
    late = b.fill("e-2", seconds=20, fee=Decimal("-0.0035"), loss_gain=Decimal("-12.5"))
    early = b.fill("e-1", seconds=10, size=Decimal("0.00000001"),
                   price=Decimal("123456789012.12345678"))
    async with store.transaction() as uow:
        assert await uow.fills.add(late, order.client_order_id)
        assert await uow.fills.add(early, order.client_order_id)
        assert not await uow.fills.add(b.fill("e-1", seconds=99), other.client_order_id)
    async with store.transaction() as uow:
        assert not await uow.fills.add(replace(early, size=Decimal(1)), order.client_order_id)
        assert list(await uow.fills.for_order(order.client_order_id)) == [early, late]
        assert list(await uow.fills.for_order(other.client_order_id)) == []


# ----------------------------------------------------------------------------------- positions

async def test_positions_default_flat_then_round_trip(store: Store) -> None:
    async with store.transaction() as uow:
        assert await uow.positions.get("gmo", "BTC_JPY") == Position("gmo", "BTC_JPY")
        assert list(await uow.positions.all()) == []
        await uow.positions.put(b.position("BTC_JPY"))
        await uow.positions.put(b.position("ETH_JPY", Decimal("-2.5")))
    short = b.position("BTC_JPY", Decimal("-0.00000001"))
    async with store.transaction() as uow:
        await uow.positions.put(short)
    async with store.transaction() as uow:
        assert await uow.positions.get("gmo", "BTC_JPY") == short
        assert sorted(await uow.positions.all(), key=lambda p: p.symbol) == [
            short, b.position("ETH_JPY", Decimal("-2.5"))]


async def test_decimals_round_trip_exactly(store: Store) -> None:
    async def check(numbers: list[Decimal]) -> None:
        quantity, average, realized, fees = numbers
        stored = Position("gmo", "BTC_JPY", quantity, average, realized, fees, realized - fees)
        async with store.transaction() as uow:
            await uow.positions.put(stored)
        async with store.transaction() as uow:
            assert await uow.positions.get("gmo", "BTC_JPY") == stored

    await _for_examples(check, numbers=st.lists(
        st.decimals(min_value=-10**15, max_value=10**15, places=12,
                    allow_nan=False, allow_infinity=False),
        min_size=4, max_size=4))


async def test_datetimes_come_back_aware_utc(store: Store) -> None:
    tokyo = timezone(timedelta(hours=9))
    when = b.at(0.123456).astimezone(tokyo)
    async with store.transaction() as uow:
        order = replace(b.order(await _signal(uow)), created_at=when, updated_at=when)
        await uow.orders.add(order)
    async with store.transaction() as uow:
        got = await uow.orders.get(order.client_order_id)
    assert got is not None and got.created_at == when
    assert got.created_at.utcoffset() == timedelta(0) and got.updated_at.utcoffset() == timedelta(0)
    assert got.created_at.microsecond == 123456


# ---------------------------------------------------------------------------------------- risk

async def test_risk_state_defaults_then_latest_wins(store: Store) -> None:
    async with store.transaction() as uow:
        assert await uow.risk.state() == RiskState()
        await uow.risk.set_state(RiskState().halted("operator", "alice", b.at(1)))
    resumed = RiskState().resumed("ok", "bob", b.at(2))
    async with store.transaction() as uow:
        assert (await uow.risk.state()).state is TradingState.HALTED
        await uow.risk.set_state(resumed)
    async with store.transaction() as uow:
        assert await uow.risk.state() == resumed


async def test_equity_oldest_first_and_trips_newest_first_since_inclusive(store: Store) -> None:
    points = [EquityPoint(b.at(s), Decimal(v)) for s, v in [(20, "1000.5"), (0, "999"),
                                                             (10, "-3.25"), (30, "1E+12")]]
    trips = [b.trip(s, Decimal(p)) for s, p in [(10, "-1"), (30, "2.5"), (0, "-0.00000001")]]
    async with store.transaction() as uow:
        for p in points:
            await uow.risk.add_equity_point(p)
        for t in trips:
            await uow.risk.add_trip(t)
    async with store.transaction() as uow:
        assert list(await uow.risk.equity_points(b.at(10))) == [points[2], points[0], points[3]]
        assert list(await uow.risk.trips(b.at(10))) == [trips[1], trips[0]]
        assert list(await uow.risk.trips(b.at(31))) == []
        assert list(await uow.risk.trips(b.at(0), limit=2)) == [trips[1], trips[0]]
        assert list(await uow.risk.trips(b.at(0), limit=0)) == []


def _latest_highest(points: list[EquityPoint], since: datetime) -> EquityPoint | None:
    """The point of highest equity at or after ``since``, the latest (in time, then in the order
    stored) of several as high."""
    held = [(p.equity, p.at, n, p) for n, p in enumerate(points) if p.at >= since]
    return max(held, key=lambda h: h[:3])[3] if held else None


async def test_peak_is_the_highest_point_since(store: Store) -> None:
    """Points arrive out of time order, in several transactions, with ties in time and value;
    after each one the peak of every window is the highest point it holds, the latest of
    several as high."""
    base = [0.0]

    async def check(steps: list[tuple[int, int]]) -> None:
        base[0] += 10_000  # each example in later time than the last: earlier points never count
        stored: list[EquityPoint] = []
        for second, value in steps:
            point = EquityPoint(b.at(base[0] + second), Decimal(value) / 4)
            async with store.transaction() as uow:
                await uow.risk.add_equity_point(point)
            stored.append(point)
            async with store.transaction() as uow:
                for since in range(-1, 22, 3):
                    expected = _latest_highest(stored, b.at(base[0] + since))
                    assert await uow.risk.peak(b.at(base[0] + since)) == expected

    step = st.tuples(st.integers(0, 20), st.integers(-40, 40))
    await _for_examples(check, steps=st.lists(step, min_size=1, max_size=25))


async def test_peak_with_concurrent_writers(store: Store) -> None:
    """Writers racing (as bookings of different symbols do) keep every window's peak exact."""
    rng = random.Random(20261206)
    start = 10**8
    stored = [EquityPoint(b.at(start + rng.randrange(50)), Decimal(rng.randrange(-99, 99)))
              for _ in range(60)]

    async def write(points: list[EquityPoint]) -> None:
        for point in points:
            async with store.transaction() as uow:
                await uow.risk.add_equity_point(point)
                await trio.lowlevel.checkpoint()  # let the others interleave in the transaction

    async with trio.open_nursery() as nursery:
        for i in range(6):
            nursery.start_soon(write, stored[i::6])
    async with store.transaction() as uow:
        for since in range(-1, 52):
            # Points equal in time and equity are equal values: the order stored cannot matter.
            expected = _latest_highest(stored, b.at(start + since))
            assert await uow.risk.peak(b.at(start + since)) == expected


async def test_peak_when_nothing_is_recorded(store: Store) -> None:
    async with store.transaction() as uow:
        assert await uow.risk.peak(b.at(10**9)) is None


# -------------------------------------------------------------------------------- transactions

class _Writes:
    """One write in each repository (and two updates of committed rows), all keyed by ``tag``,
    so that a test can tell exactly which of them were committed."""

    def __init__(self, tag: int, old_signal: MessageRef, old_order: Order) -> None:
        self.tag = tag
        self.source = b.ref()
        self.cid = f"hx-w{tag}-{self.source.message_id}"
        self.symbol = f"W{tag}_JPY"
        self.old_signal, self.old_order = old_signal, old_order
        self.steps: list[Callable[[UnitOfWork], Awaitable[object]]] = [
            lambda u: u.signals.add(b.signal_record(self.source)),
            lambda u: u.decisions.add(b.decision(self.source, client_order_id=self.cid)),
            lambda u: u.orders.add(b.order(self.source, cid=self.cid)),
            lambda u: u.fills.add(b.fill(f"e-w{tag}-{self.source.message_id}"), self.cid),
            lambda u: u.positions.put(b.position(self.symbol)),
            lambda u: u.risk.set_state(RiskState().halted(f"w{tag}", "test", b.at(tag))),
            lambda u: u.risk.add_equity_point(EquityPoint(b.at(1000 + tag), Decimal(tag))),
            lambda u: u.risk.add_trip(b.trip(1000 + tag)),
            lambda u: u.signals.set_status(old_signal, SignalStatus.REJECTED, f"w{tag}"),
            lambda u: u.orders.update(replace(old_order, reason=f"w{tag}")),
        ]

    async def seen(self, uow: UnitOfWork) -> list[bool]:
        """Which of the writes ``uow`` sees."""
        old_signal = await uow.signals.get(self.old_signal)
        old_order = await uow.orders.get(self.old_order.client_order_id)
        return [
            await uow.signals.get(self.source) is not None,
            len(await uow.decisions.for_signal(self.source)) > 0,
            await uow.orders.get(self.cid) is not None,
            len(await uow.fills.for_order(self.cid)) > 0,
            (await uow.positions.get("gmo", self.symbol)).quantity != 0,
            (await uow.risk.state()).reason == f"w{self.tag}",
            any(p.equity == self.tag for p in await uow.risk.equity_points(b.at(1000 + self.tag))),
            any(t.closed_at == b.at(1000 + self.tag) for t in await uow.risk.trips(b.at(1000))),
            old_signal is not None and old_signal.reason == f"w{self.tag}",
            old_order is not None and old_order.reason == f"w{self.tag}",
        ]


async def _seen(store: Store, writes: _Writes) -> list[bool]:
    async with store.transaction() as uow:
        return await writes.seen(uow)


async def _committed_signal_and_order(store: Store) -> tuple[MessageRef, Order]:
    order = await _order(store)
    return order.source, order


async def test_an_exception_rolls_back_every_repository(store: Store) -> None:
    writes = _Writes(1, *await _committed_signal_and_order(store))
    with pytest.raises(KeyError):
        async with store.transaction() as uow:
            for step in writes.steps:
                await step(uow)
            assert await writes.seen(uow) == [True] * len(writes.steps)  # own writes visible
            raise KeyError("boom")
    assert await _seen(store, writes) == [False] * len(writes.steps)
    async with store.transaction() as uow:
        assert await uow.risk.state() == RiskState()


async def test_a_cancellation_at_any_await_rolls_back_everything(store: Store) -> None:
    old = await _committed_signal_and_order(store)
    for k in range(len(_Writes(0, *old).steps)):
        writes = _Writes(10 + k, *old)
        with trio.CancelScope() as scope:
            async with store.transaction() as uow:
                for i, step in enumerate(writes.steps):
                    if i == k:
                        scope.cancel()
                    await step(uow)
        assert scope.cancelled_caught
        assert await _seen(store, writes) == [False] * len(writes.steps), f"cancelled at {k}"


async def test_a_deadline_mid_transaction_leaves_all_or_nothing(store: Store) -> None:
    old = await _committed_signal_and_order(store)
    for n in range(12):
        writes = _Writes(100 + n, *old)
        with trio.move_on_after(n * 0.0015):
            async with store.transaction() as uow:
                for step in writes.steps:
                    await step(uow)
        seen = await _seen(store, writes)
        assert seen in ([True] * len(seen), [False] * len(seen)), f"deadline {n}: {seen}"


async def test_a_block_that_ends_normally_commits_even_if_cancel_was_requested(
        store: Store) -> None:
    writes = _Writes(7, *await _committed_signal_and_order(store))
    with trio.CancelScope() as scope:
        async with store.transaction() as uow:
            for step in writes.steps:
                await step(uow)
            scope.cancel()  # requested, but no await of the block is left to deliver it
    assert await _seen(store, writes) == [True] * len(writes.steps)


async def test_the_named_lock_serializes_read_modify_write(store: Store) -> None:
    async def bump(times: int) -> None:
        for _ in range(times):
            async with store.transaction(lock="gmo:BTC_JPY") as uow:
                current = await uow.positions.get("gmo", "BTC_JPY")
                await trio.lowlevel.checkpoint()  # let the others run between read and write
                await uow.positions.put(replace(current, quantity=current.quantity + 1))

    async with trio.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(bump, 10)
    async with store.transaction() as uow:
        assert (await uow.positions.get("gmo", "BTC_JPY")).quantity == 30


async def test_several_locks_serialize_with_single_ones_and_never_deadlock(store: Store) -> None:
    """Batches lock their symbols in any order given, singles lock one: every read-modify-write
    of a symbol still happens alone, and nothing waits forever."""
    symbols = ["A_JPY", "B_JPY", "C_JPY"]

    async def bump(names: list[str], times: int) -> None:
        for _ in range(times):
            async with store.transaction(locks=[f"gmo:{n}" for n in names]) as uow:
                current = [await uow.positions.get("gmo", n) for n in names]
                await trio.lowlevel.checkpoint()
                for position in current:
                    await uow.positions.put(replace(position, quantity=position.quantity + 1))

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(bump, symbols, 8)
            nursery.start_soon(bump, symbols[::-1], 8)
            nursery.start_soon(bump, [symbols[1], symbols[0]], 8)
            nursery.start_soon(bump, [symbols[2]], 8)
    async with store.transaction() as uow:
        counts = [(await uow.positions.get("gmo", n)).quantity for n in symbols]
    assert counts == [24, 24, 24]


# ------------------------------------------------------------------------ many rows at once

async def test_many_at_once_is_one_at_a_time(store: Store) -> None:
    """add_many / get_many / open_for_symbols (what a batch of decisions uses) store and find
    exactly what the single-row methods would, in the same order."""
    kept = b.ref()
    async with store.transaction() as uow:
        assert await uow.signals.add(b.signal_record(kept, status=SignalStatus.REJECTED))
    refs = [b.ref() for _ in range(3)]
    records = [b.signal_record(r, status=s) for r, s in zip(
        refs, [SignalStatus.ACCEPTED, SignalStatus.INVALID, SignalStatus.ACCEPTED], strict=True)]
    orders = [b.order(refs[0], cid=f"hx-many-{refs[0].message_id}"),
              replace(b.order(refs[2], cid=f"hx-many-{refs[2].message_id}"),
                      intent=b.intent(symbol="ETH_JPY"))]
    decisions = [b.decision(r, approved=i != 1, client_order_id=None) for i, r in enumerate(refs)]
    async with store.transaction(locks=["gmo:ETH_JPY", "gmo:BTC_JPY"]) as uow:
        await uow.signals.add_many([*records, b.signal_record(kept)])  # kept: left as it is
        await uow.decisions.add_many(decisions)
        await uow.orders.add_many(orders)
        await uow.signals.add_many([])
        await uow.decisions.add_many([])
        await uow.orders.add_many([])
    async with store.transaction() as uow:
        found = await uow.signals.get_many([*refs, kept, b.ref()])
        assert found == {**{r.source: r for r in records},
                         kept: b.signal_record(kept, status=SignalStatus.REJECTED)}
        assert await uow.signals.get_many([]) == {}
        for ref, decision in zip(refs, decisions, strict=True):
            assert list(await uow.decisions.for_signal(ref)) == [decision]
        both = await uow.orders.open_for_symbols("gmo", {"BTC_JPY", "ETH_JPY", "XRP_JPY"})
        singles = [*await uow.orders.open_for_symbol("gmo", "BTC_JPY"),
                   *await uow.orders.open_for_symbol("gmo", "ETH_JPY")]
        assert sorted(o.client_order_id for o in both) == sorted(
            o.client_order_id for o in singles)
        assert {o.client_order_id for o in orders} <= {o.client_order_id for o in both}
        assert [o.created_at for o in both] == sorted(o.created_at for o in both)
        assert await uow.orders.open_for_symbols("gmo", set()) == []


async def test_a_lock_named_twice_or_by_a_string_of_locks(store: Store) -> None:
    async with store.transaction("gmo:BTC_JPY", locks=["gmo:BTC_JPY", "gmo:ETH_JPY"]):
        pass  # the same name twice is taken once
    with pytest.raises(TypeError):
        async with store.transaction(locks="gmo:BTC_JPY"):  # type: ignore[arg-type]
            pass
