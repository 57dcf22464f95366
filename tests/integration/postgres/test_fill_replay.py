"""Fills are stored once and booked once: replaying them changes nothing, and a restarted worker
reads back exactly the books the pure domain computes — average prices are exact Decimal
quotients (up to 28 digits), kept whole by unconstrained NUMERIC columns."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import strategies as st

from adapters.postgres import PostgresStore
from hexexec.domain.accounting import Position, apply_fill
from hexexec.domain.fills import Fill
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

_symbols = (f"F{n}_JPY" for n in itertools.count(1))
FILL = st.tuples(
    st.sampled_from(Side),
    st.decimals(min_value=Decimal("0.0001"), max_value=3, places=4),  # size
    st.decimals(min_value=1, max_value=10**7, places=3),  # price
    st.decimals(min_value=-50, max_value=50, places=6),  # fee (negative: a rebate)
)


def _fills(symbol: str, venue_id: str, spec: list[tuple[Side, Decimal, Decimal, Decimal]],
           ) -> list[Fill]:
    return [Fill(f"{symbol}-{i}", venue_id, "gmo", symbol, side, SettleType.OPEN, price, size,
                 fee, b.at(10 + i)) for i, (side, size, price, fee) in enumerate(spec)]


def _venue(symbol: str, venue_id: str, fills: list[Fill], status: VenueStatus) -> VenueOrder:
    executed = sum((f.size for f in fills), Decimal(0))
    return VenueOrder(venue_id, symbol, Side.BUY, SettleType.OPEN, OrderType.MARKET, None,
                      Decimal(1000), executed, status, b.at(0))


async def _replay_and_check(store: PostgresStore, database_url: str, schema: str, db: Database,
                            spec: list[tuple[Side, Decimal, Decimal, Decimal]], cut: int) -> None:
    symbol = next(_symbols)
    venue_id = f"v-{symbol}"
    engine = deciding_engine(store, (symbol,), Decimal(1000))
    order = b.order(b.ref(), status=OrderStatus.NEW, order_id=venue_id, symbol=symbol,
                    size=Decimal(1000), price=None)
    async with store.transaction() as uow:
        await uow.orders.add(order)
    fills = _fills(symbol, venue_id, spec)
    cid = order.client_order_id

    # The fills arrive in two polls, the second repeating the first; then all of them again.
    async def poll(venue: VenueOrder, seen: list[Fill]) -> None:
        await apply_venue_states(engine, symbol, [VenueUpdate(cid, venue, seen)], {})

    await poll(_venue(symbol, venue_id, fills[:cut], VenueStatus.ORDERED), fills[:cut])
    await poll(_venue(symbol, venue_id, fills, VenueStatus.EXECUTED), fills)
    booked = await db.snapshot()
    await poll(_venue(symbol, venue_id, fills, VenueStatus.EXECUTED), fills[::-1])
    assert await db.snapshot() == booked

    expected = Position("gmo", symbol)
    for fill in fills:
        expected = apply_fill(expected, fill).position
    # A restarted worker: a new pool reading what the first one wrote.
    async with PostgresStore.open(database_url, schema=schema, max_size=1) as restarted:
        async with restarted.transaction() as uow:
            got = await uow.positions.get("gmo", symbol)
            stored_fills = await uow.fills.for_order(cid)
    assert got == expected
    assert got.average_price.as_tuple() == expected.average_price.as_tuple()  # digit for digit
    assert list(stored_fills) == fills


async def test_replayed_fills_change_nothing_and_books_survive_a_restart(
        pg_store: PostgresStore, database_url: str, pg_schema: str, db: Database) -> None:
    async def check(spec: list[tuple[Side, Decimal, Decimal, Decimal]], cut: int) -> None:
        await _replay_and_check(pg_store, database_url, pg_schema, db, spec, min(cut, len(spec)))

    await for_examples(check, spec=st.lists(FILL, min_size=1, max_size=6),
                       cut=st.integers(min_value=0, max_value=6))


async def test_an_average_past_eight_decimals_is_kept_whole(
        pg_store: PostgresStore, database_url: str, pg_schema: str, db: Database) -> None:
    # 1 @ 1 then 2 @ 2: the average is 5/3, which DECIMAL(20,8) would store as 1.66666667.
    spec = [(Side.BUY, Decimal(1), Decimal(1), Decimal(0)),
            (Side.BUY, Decimal(2), Decimal(2), Decimal(0))]
    await _replay_and_check(pg_store, database_url, pg_schema, db, spec, 1)
    average = await db.value("SELECT average_price FROM positions WHERE symbol LIKE 'F%%'")
    assert average == Decimal(5) / Decimal(3)
    assert len(average.as_tuple().digits) == 28
