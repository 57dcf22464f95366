"""Fills found in any order are booked as if found in the venue's order: a late fill replays the
symbol's fills from the position recorded just before it (fill_positions), and the books come
out exactly as the pure domain computes them from the venue's order — however the fills were
split across polls, however many share a timestamp, whatever their ids' lengths."""

from __future__ import annotations

import itertools
import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import strategies as st

from adapters.postgres import PostgresStore
from hexexec.domain.accounting import Position, apply_fill
from hexexec.domain.fills import Fill, booking_order
from hexexec.domain.order_status import OrderStatus, VenueStatus
from hexexec.domain.orders import SettleType, Side
from hexexec.domain.signal import OrderType
from hexexec.domain.venue import VenueOrder
from hexexec.services.bookkeeping import VenueUpdate, apply_venue_states
from tests.contract.harnesses import builders as b
from tests.integration.postgres.db import Database
from tests.integration.postgres.deciding import deciding_engine
from tests.integration.postgres.examples import for_examples

pytestmark = pytest.mark.postgres

_symbols = (f"L{n}_JPY" for n in itertools.count(1))
FILL = st.tuples(
    st.sampled_from(Side),
    st.decimals(min_value=Decimal("0.01"), max_value=2, places=2),  # size
    st.decimals(min_value=90, max_value=110, places=1),  # price
    st.decimals(min_value=-1, max_value=1, places=2),  # fee
    st.integers(min_value=0, max_value=4),  # second: few, so that many fills share one
)


def _in_venue_order(fills: list[Fill], symbol: str) -> list[tuple[Fill, Position]]:
    """Each fill with the position right after it, computed from flat in the venue's order."""
    position, after = Position("gmo", symbol), []
    for fill in sorted(fills, key=booking_order):
        position = apply_fill(position, fill).position
        after.append((fill, position))
    return after


async def _book_in_arrival_order(store: PostgresStore, db: Database,
                                 spec: list[tuple[Side, Decimal, Decimal, Decimal, int]],
                                 ids: list[int], arrival: list[int], polls: list[int]) -> None:
    symbol = next(_symbols)
    engine = deciding_engine(store, (symbol,), Decimal(1000))
    fills, cids = [], []
    async with store.transaction() as uow:
        for n, (side, size, price, fee, second) in enumerate(spec):
            order = b.order(b.ref(), status=OrderStatus.NEW, order_id=f"v-{symbol}-{n}",
                            symbol=symbol, size=size, price=None, side=side)
            await uow.orders.add(order)
            cids.append(order.client_order_id)
            # Execution ids of several lengths: "…-7" comes before "…-10" at the same instant
            # (the symbol in front keeps them apart from other examples' and keeps their order).
            fills.append(Fill(f"{symbol}-{ids[n]}", f"v-{symbol}-{n}", "gmo", symbol, side,
                              SettleType.OPEN, price, size, fee, b.at(10 + second)))

    # The fills turn up in ``arrival`` order, cut into polls of the given sizes.
    order_of_arrival = sorted(range(len(spec)), key=lambda n: arrival[n])
    start = 0
    for size in itertools.chain(polls, [len(spec)]):
        batch = order_of_arrival[start:start + max(1, size)]
        if not batch:
            break
        start += len(batch)
        await apply_venue_states(engine, symbol, [VenueUpdate(cids[n], VenueOrder(
            fills[n].order_id, symbol, fills[n].side, SettleType.OPEN, OrderType.MARKET, None,
            fills[n].size, fills[n].size, VenueStatus.EXECUTED, b.at(0)), (fills[n],))
            for n in batch], {})

    expected = _in_venue_order(fills, symbol)
    async with store.transaction() as uow:
        assert await uow.positions.get("gmo", symbol) == expected[-1][1]
        # What a later late fill would start from, at every instant: the venue-order position
        # just before it, whatever order the fills were booked in.
        for second in range(6):
            probe = Fill("probe", "v", "gmo", symbol, Side.BUY, SettleType.OPEN, Decimal(1),
                         Decimal(1), Decimal(0), b.at(10 + second))
            start_at, replay = await uow.fills.replay_from(probe)
            before = [p for f, p in expected if f.timestamp < probe.timestamp]
            assert start_at == (before[-1] if before else Position("gmo", symbol))
            assert {f.execution_id for f in replay} == {
                f.execution_id for f, _ in expected if f.timestamp >= probe.timestamp}
    recorded = await db.value(
        "SELECT count(*) FROM fill_positions p JOIN executions e USING (execution_id) "
        "WHERE e.symbol = %s", (symbol,))
    assert recorded == len(spec)


async def test_fills_booked_in_any_order_give_the_venue_order_books(
        pg_store: PostgresStore, db: Database) -> None:
    async def check(spec: list[tuple[Side, Decimal, Decimal, Decimal, int]], ids: list[int],
                    arrival: list[int], polls: list[int]) -> None:
        n = len(spec)
        await _book_in_arrival_order(pg_store, db, spec, ids[:n], arrival[:n], polls)

    await for_examples(
        check, spec=st.lists(FILL, min_size=1, max_size=8),
        ids=st.lists(st.integers(1, 500), min_size=8, max_size=8, unique=True),
        arrival=st.permutations(range(8)),
        polls=st.lists(st.integers(1, 4), max_size=8))


async def test_a_fill_long_late_replays_only_what_came_after_it(
        pg_store: PostgresStore, caplog: pytest.LogCaptureFixture) -> None:
    """100 fills booked in order, then one dated between the 97th and the 98th: four fills are
    replayed (it and the three after), not 101."""
    symbol = next(_symbols)
    engine = deciding_engine(store=pg_store, symbols=(symbol,), max_position=Decimal(1000))
    async with pg_store.transaction() as uow:
        order = b.order(b.ref(), status=OrderStatus.NEW, order_id=f"v-{symbol}", symbol=symbol,
                        size=Decimal(1000), price=None)
        await uow.orders.add(order)
    side = itertools.cycle([Side.BUY, Side.BUY, Side.SELL])
    fills = [Fill(str(1000 + i), f"v-{symbol}", "gmo", symbol, next(side), SettleType.OPEN,
                  Decimal(100 + i % 7), Decimal("0.5"), Decimal("0.01"), b.at(10 + i))
             for i in range(100)]
    late = Fill("999", f"v-{symbol}", "gmo", symbol, Side.SELL, SettleType.OPEN, Decimal(95),
                Decimal("0.3"), Decimal("0.01"), b.at(10 + 97) - timedelta(milliseconds=1))

    def venue(executed: list[Fill]) -> VenueOrder:
        return VenueOrder(f"v-{symbol}", symbol, Side.BUY, SettleType.OPEN, OrderType.MARKET,
                          None, Decimal(1000), sum((f.size for f in executed), Decimal(0)),
                          VenueStatus.ORDERED, b.at(0))

    for start in range(0, len(fills), 10):
        await apply_venue_states(engine, symbol, [VenueUpdate(
            order.client_order_id, venue(fills), fills[start:start + 10])], {})
    caplog.set_level(logging.INFO, logger="hexexec.bookkeeping")
    caplog.clear()
    await apply_venue_states(engine, symbol, [VenueUpdate(
        order.client_order_id, venue([*fills, late]), (late,))], {})
    replays = [r for r in caplog.records if r.getMessage().startswith("fill booked late")]
    assert [r.fills for r in replays] == [4]  # type: ignore[attr-defined]
    async with pg_store.transaction() as uow:
        got = await uow.positions.get("gmo", symbol)
    assert got == _in_venue_order([*fills, late], symbol)[-1][1]
