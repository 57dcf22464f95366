"""schema.sql at start-up: idempotent, safe when workers start together, and a migration of a
seed-era ("version 0") database, rows included, to exactly the schema a fresh install gets."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import trio
from structlog.testing import capture_logs

from adapters.postgres import SCHEMA_VERSION, PostgresStore, SchemaError
from adapters.postgres.schema import load_schema
from hexexec.domain.accounting import Position
from hexexec.domain.order_status import OrderStatus
from hexexec.domain.orders import SettleType, Side
from hexexec.domain.signal import MessageRef, OrderType
from tests.contract.harnesses import builders as b
from tests.contract.harnesses.postgres import scratch_schema
from tests.integration.postgres.db import Database

pytestmark = pytest.mark.postgres

SEED_V0 = (Path(__file__).parent / "seed_v0.sql").read_text()

EVERY_VERSION = [(v,) for v in range(1, SCHEMA_VERSION + 1)]


async def test_applying_the_schema_again_changes_nothing(
        database_url: str, pg_schema: str, db: Database) -> None:
    async with PostgresStore.open(database_url, schema=pg_schema) as store:
        async with store.transaction() as uow:
            assert await uow.signals.add(b.signal_record(b.ref()))
            await uow.positions.put(b.position())
    before = (await db.snapshot(), await db.catalog())
    async with PostgresStore.open(database_url, schema=pg_schema):  # applies schema.sql again
        pass
    assert (await db.snapshot(), await db.catalog()) == before
    assert await db.rows("SELECT version FROM schema_version ORDER BY version") == EVERY_VERSION


async def test_workers_starting_together_apply_it_once(
        database_url: str, pg_schema: str, db: Database) -> None:
    async def start() -> None:
        async with PostgresStore.open(database_url, schema=pg_schema, max_size=1) as store:
            async with store.transaction() as uow:
                assert await uow.risk.state() is not None

    async with trio.open_nursery() as nursery:
        for _ in range(4):
            nursery.start_soon(start)
    assert await db.rows("SELECT version FROM schema_version ORDER BY version") == EVERY_VERSION


async def test_a_seed_database_is_migrated_with_its_rows(
        database_url: str, pg_schema: str, db: Database) -> None:
    await db.rows(f"CREATE SCHEMA {pg_schema}")
    await db.rows(SEED_V0)
    async with PostgresStore.open(database_url, schema=pg_schema) as store:
        async with store.transaction() as uow:
            filled = await uow.orders.get("seed-1")
            live = await uow.orders.by_venue_id("1002")
            fills = await uow.fills.for_order("seed-1")
            btc = await uow.positions.get("gmo", "BTC_JPY")
            eth = await uow.positions.get("gmo", "ETH_JPY")
            # The migrated tables take new rows: an order the venue does not know yet.
            await uow.orders.add(b.order(b.ref()))

    assert filled is not None and filled.status is OrderStatus.FILLED
    assert filled.order_id == "1001" and filled.source == MessageRef("seed:orders", "1")
    assert filled.intent.price == Decimal("10000000.12345678")
    assert filled.intent.side is Side.BUY and filled.intent.settle_type is SettleType.OPEN
    assert filled.filled_size == Decimal("0.02")
    assert filled.created_at == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)  # seed times were UTC
    assert filled.updated_at == datetime(2024, 5, 1, 9, 31, tzinfo=UTC)
    assert live is not None and live.client_order_id == "seed-2"
    assert live.intent.order_type is OrderType.MARKET and live.intent.price is None
    assert live.created_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)  # null in the seed row
    assert [(f.execution_id, f.order_id, f.fee) for f in fills] == [
        ("5001", "1001", Decimal("1.5")), ("5002", "1001", Decimal("-0.25"))]
    assert btc.quantity == Decimal("0.02") and btc.realized_pnl == Decimal("-1.25")
    assert eth == Position("gmo", "ETH_JPY", realized_pnl=Decimal("42.5"),
                           updated_at=datetime(2024, 4, 30, 12, tzinfo=UTC))
    assert await db.rows("SELECT version FROM schema_version ORDER BY version") == EVERY_VERSION
    assert await db.value("SELECT count(*) FROM orders WHERE signal_id IS NOT NULL") == 0

    # The migrated schema is the one a fresh database gets, column for column.
    async with scratch_schema(database_url) as fresh:
        async with PostgresStore.open(database_url, schema=fresh):
            pass
        assert await db.catalog() == await Database(database_url, fresh).catalog()


async def test_seed_fills_without_an_order_stop_the_migration(
        database_url: str, pg_schema: str, db: Database) -> None:
    await db.rows(f"CREATE SCHEMA {pg_schema}")
    await db.rows(SEED_V0)
    await db.rows("UPDATE executions SET order_id = NULL WHERE execution_id = '5002'")
    with pytest.raises(Exception, match="executions without an order_id"):
        async with PostgresStore.open(database_url, schema=pg_schema):
            pass
    # Nothing was half-migrated: still the seed's tables, no version recorded.
    assert await db.value("SELECT to_regclass('schema_version') IS NULL") is True
    assert await db.value(
        "SELECT data_type FROM information_schema.columns WHERE table_schema = %s "
        "AND table_name = 'orders' AND column_name = 'price'", (pg_schema,)) == "numeric"
    assert await db.value(
        "SELECT numeric_scale FROM information_schema.columns WHERE table_schema = %s "
        "AND table_name = 'orders' AND column_name = 'price'", (pg_schema,)) == 8


async def test_a_database_newer_than_this_build_is_refused(
        database_url: str, pg_schema: str, db: Database) -> None:
    async with PostgresStore.open(database_url, schema=pg_schema):
        pass
    await db.rows("INSERT INTO schema_version (version, description) VALUES (%s, 'future')",
                  (SCHEMA_VERSION + 1,))
    with pytest.raises(SchemaError, match=r"at schema version \d+; this build knows"):
        async with PostgresStore.open(database_url, schema=pg_schema):
            pass


async def test_version_1_equity_points_become_a_staircase(
        database_url: str, pg_schema: str, db: Database) -> None:
    """Version 2 marks the points a later, at-least-as-high point supersedes; every window's peak
    read through the staircase then equals the max over the raw points."""
    version_1 = load_schema().split("DO $version_2$")[0]
    await db.rows(f"CREATE SCHEMA {pg_schema}")
    await db.rows(version_1)
    values = [5, 3, 8, 8, 2, 7, 7, 1, 4, -2, 0]  # ties in value, and two points at one time
    seconds = [0, 1, 2, 3, 4, 5, 5, 6, 7, 8, 9]
    for s, v in zip(seconds, values, strict=True):
        await db.rows("INSERT INTO equity_points (at, equity) VALUES (%s, %s)", (b.at(s), v))
    async with PostgresStore.open(database_url, schema=pg_schema) as store:
        async with store.transaction() as uow:
            for since in range(-1, 11):
                expected = max(((Decimal(v), s) for s, v in zip(seconds, values, strict=True)
                                if s >= since), default=None)  # ties: the later point
                got = await uow.risk.peak(b.at(since))
                assert (got and (got.equity, got.at)) == (
                    expected and (expected[0], b.at(expected[1])))
    kept = await db.rows("SELECT equity FROM equity_points WHERE NOT superseded ORDER BY at, id")
    assert [v for (v,) in kept] == [8, 7, 4, 0]  # falling with time: the window peaks


async def test_a_server_that_does_not_vacuum_is_named_at_start(
        database_url: str, pg_schema: str, db: Database) -> None:
    # Without autovacuum, every order's updates leave dead rows behind that each query then
    # reads (the benchmark saw PostgreSQL's CPU per signal double over 100,000 signals): say so.
    server_vacuums = (await db.value("SHOW autovacuum") == "on"
                      and await db.value("SHOW track_counts") == "on")
    with capture_logs() as logs:
        async with PostgresStore.open(database_url, schema=pg_schema) as store:
            assert store.autovacuum is server_vacuums
    warned = [e for e in logs if "autovacuum is off" in e["event"]]
    assert len(warned) == (0 if server_vacuums else 1)
    assert all(e["log_level"] == "warning" and "@" not in e["target"] for e in warned)
