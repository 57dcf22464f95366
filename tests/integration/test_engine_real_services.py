"""The engine on the real adapters: Redis Streams in, PostgreSQL as the record, the paper venue
in-process with faults. Killed at random moments and restarted; the books must still balance.

This is the core's crash test again, on real transactions and a real consumer group, in real time
(a handful of kills, not hundreds: the memory version covers the breadth).
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest
import redis
import trio
from psycopg import sql

from adapters.paper import FaultRates, PaperBroker, PaperFaults, PaperMarketData, PaperVenue
from adapters.postgres import PostgresStore
from adapters.redis_streams import RedisSignalSource
from adapters.system.clock import SystemClock
from hexexec.domain.risk import RiskLimits
from hexexec.services.engine import Engine, EngineOptions
from hexexec.services.worker import run_engine
from tests.contract.harnesses.postgres import scratch_schema

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
PRICES = {"BTC_JPY": Decimal("10000000"), "ETH_JPY": Decimal("500000"), "BTC": Decimal("10000000")}
SIZES = {"BTC_JPY": "0.01", "ETH_JPY": "0.1", "BTC": "0.001"}


def options() -> EngineOptions:
    return EngineOptions(
        exchange_name="gmo", symbols=frozenset(PRICES),
        limits=RiskLimits(max_position_size=Decimal("1"), base_equity=Decimal("100000000")),
        max_signal_age=timedelta(minutes=5), order_timeout=timedelta(seconds=2),
        market_order_timeout=timedelta(seconds=2), poll_interval_s=0.1, read_batch=10,
        resolve_checks=2, resolve_interval_s=0.2, backoff_max_s=0.5,
    )


def signal(rng: random.Random) -> dict[str, str]:
    symbol = rng.choice(sorted(PRICES))
    actions = ["enter_long", "exit_long"] if symbol == "BTC" else [
        "enter_long", "exit_long", "enter_short", "exit_short"]
    fields = {"exchange": "gmo", "symbol": symbol, "action": rng.choice(actions),
              "size": SIZES[symbol]}
    if rng.random() < 0.5:
        fields["order_type"] = "MARKET"
    else:
        fields["price_ref"] = str(PRICES[symbol] + rng.choice([-1000, 0, 1000]))
    if rng.random() < 0.1:
        fields["size"] = "not-a-number"
    return fields


def _setup(redis_url: str, prefix: str) -> tuple[int, random.Random, str, redis.Redis, PaperVenue]:
    """A printed random seed, a stream of its own, a Redis client and a priced paper venue."""
    seed = random.randrange(1 << 30)
    print(f"seed {seed}")
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    venue = PaperVenue.for_symbols(PRICES)
    for symbol, price in PRICES.items():
        venue.set_price(symbol, price)
    return seed, random.Random(seed), f"signal:{prefix}{uuid.uuid4().hex[:8]}", client, venue


async def test_engine_on_redis_and_postgres_survives_kills(redis_url, database_url):
    seed, rng, stream, client, venue = _setup(redis_url, "e2e")
    group = "execution"
    faults = PaperFaults(seed=seed, rates=FaultRates(timeout=0.1, lost_reply=0.1, unavailable=0.05))
    broker = PaperBroker(venue, latency_s=0.02, faults=faults)
    published = [client.xadd(stream, signal(rng)).decode() for _ in range(40)]

    try:
        async with scratch_schema(database_url) as schema:
            async with PostgresStore.open(database_url, schema=schema) as store:

                async def life(seconds: float | None) -> None:
                    async with RedisSignalSource.open(redis_url, [stream], group, "execution-1",
                                                      block_ms=100) as source:
                        engine = Engine(store, broker, source, SystemClock(),
                                        PaperMarketData(venue), options())
                        with trio.move_on_after(seconds if seconds is not None else 60):
                            async with trio.open_nursery() as nursery:
                                await nursery.start(run_engine, engine)
                                if seconds is None:
                                    await _until_settled(schema, database_url, client, stream,
                                                         group, len(published))
                                    nursery.cancel_scope.cancel()
                                else:
                                    await trio.sleep_forever()

                for _ in range(6):  # killed mid-flight six times
                    await life(rng.uniform(0.05, 0.8))
                broker.faults = PaperFaults()
                await life(None)
            rows = _rows(database_url, schema, client, stream, group)
            rows["dlq_count"] = client.xlen(stream + ":dlq")
    finally:
        client.delete(stream, stream + ":dlq")
        client.close()

    signals = {r["message_id"]: r for r in rows["signals"]}
    assert sorted(signals) == sorted(published)
    statuses = Counter(r["status"] for r in rows["signals"])
    assert statuses["INVALID"] == rows["dlq_count"] > 0
    assert rows["pending"] == 0
    venue_ids = {o.order_id for o in venue.all_orders()}
    owned = Counter(r["order_id"] for r in rows["orders"] if r["order_id"] is not None)
    assert set(owned) == venue_ids and all(n == 1 for n in owned.values())
    assert all(r["status"] in ("FILLED", "CANCELED", "REJECTED", "EXPIRED") for r in rows["orders"])
    for symbol in PRICES:
        ours = next((r["size_signed"] for r in rows["positions"] if r["symbol"] == symbol), Decimal(0))
        theirs = sum((p.quantity for p in venue.positions() if p.symbol == symbol), Decimal(0))
        assert ours == theirs
    assert {f.execution_id for f in venue.all_fills()} == set(rows["execution_ids"])
    print("statuses", dict(statuses), "venue orders", len(venue_ids))


async def _until_settled(schema, database_url, client, stream, group, expected) -> None:
    with trio.fail_after(60):
        while True:
            rows = await trio.to_thread.run_sync(_rows, database_url, schema, client, stream, group)
            open_orders = [r for r in rows["orders"]
                           if r["status"] not in ("FILLED", "CANCELED", "REJECTED", "EXPIRED")]
            if len(rows["signals"]) == expected and rows["pending"] == 0 and not open_orders:
                return
            await trio.sleep(0.2)


def _rows(database_url, schema, client=None, stream=None, group=None) -> dict:
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        out = {
            "signals": cur.execute("SELECT message_id, status FROM signals").fetchall(),
            "orders": cur.execute("SELECT order_id, status FROM orders").fetchall(),
            "positions": cur.execute(
                "SELECT symbol, CASE side WHEN 'SHORT' THEN -size ELSE size END AS size_signed "
                "FROM positions").fetchall(),
            "execution_ids": [r["execution_id"] for r in
                              cur.execute("SELECT execution_id FROM executions").fetchall()],
        }
    if client is not None:
        out["pending"] = client.xpending(stream, group)["pending"]
    return out


def _terminate_hexexec_sessions(database_url: str) -> int:
    """Kill every session the engine holds (transactions and leases alike), as a server restart
    or a network cut would."""
    with psycopg.connect(database_url, connect_timeout=5, autocommit=True,
                         application_name="hexexec-test-killer") as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'hexexec' AND datname = current_database() "
            "AND pid <> pg_backend_pid()").fetchall()
    return len(rows)


async def test_engine_keeps_running_while_its_connections_are_killed(redis_url, database_url,
                                                                    caplog):
    """Every PostgreSQL session of the engine is terminated again and again mid-run: the engine
    waits each loss out and runs the unit of work again — it never stops — and the books balance
    exactly at the end."""
    _seed, rng, stream, client, venue = _setup(redis_url, "pgkill")
    group = "execution"
    broker = PaperBroker(venue, latency_s=0.01)
    published: list[str] = []
    kills = 0
    try:
        async with scratch_schema(database_url) as schema:
            async with PostgresStore.open(database_url, schema=schema) as store, \
                    RedisSignalSource.open(redis_url, [stream], group, "execution-1",
                                           block_ms=100) as source:
                engine = Engine(store, broker, source, SystemClock(), PaperMarketData(venue),
                                options())
                async with trio.open_nursery() as nursery:
                    await nursery.start(run_engine, engine)
                    for _ in range(12):
                        for _ in range(5):
                            published.append(client.xadd(stream, signal(rng)).decode())
                        await trio.sleep(rng.uniform(0.05, 0.3))
                        kills += await trio.to_thread.run_sync(
                            _terminate_hexexec_sessions, database_url)
                    await _until_settled(schema, database_url, client, stream, group,
                                         len(published))
                    nursery.cancel_scope.cancel()
            rows = _rows(database_url, schema, client, stream, group)
            rows["dlq_count"] = client.xlen(stream + ":dlq")
    finally:
        client.delete(stream, stream + ":dlq")
        client.close()

    assert kills >= 6  # sessions really were killed (a round can find the pool empty)
    outages = [r for r in caplog.records if "store unavailable" in r.getMessage()
               or "store unavailable" in str(getattr(r, "event", ""))]
    assert outages, "the engine never met a killed session"
    assert sorted(r["message_id"] for r in rows["signals"]) == sorted(published)
    assert Counter(r["status"] for r in rows["signals"])["INVALID"] == rows["dlq_count"]
    assert rows["pending"] == 0
    owned = Counter(r["order_id"] for r in rows["orders"] if r["order_id"] is not None)
    assert set(owned) == {o.order_id for o in venue.all_orders()}
    assert all(n == 1 for n in owned.values())
    assert {f.execution_id for f in venue.all_fills()} == set(rows["execution_ids"])
    for symbol in PRICES:
        ours = next((r["size_signed"] for r in rows["positions"] if r["symbol"] == symbol),
                    Decimal(0))
        assert ours == sum((p.quantity for p in venue.positions() if p.symbol == symbol),
                           Decimal(0))
    print(f"{kills} sessions killed; {len(published)} signals, {len(owned)} venue orders")
