"""Three `hexexec run` processes in one consumer group, on one Redis, one PostgreSQL and one
simulated GMO (DESIGN §3, several workers): a burst of entries far past a tight MAX_POSITION_SIZE
never doubles an order nor lets a position pass the limit, even for a moment; one worker SIGKILLed
mid-burst, holding entries and orders, leaves them to the other two; the books balance.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import redis

from tests.integration.campaign.audit import OUT_OF_ORDER, check_books
from tests.integration.campaign.books import Row, read_books, venue_time
from tests.integration.campaign.processes import SimProcess, WorkerProcess, worker_env
from tests.integration.campaign.progress import settled, wait_until
from tests.integration.campaign.scenario import GROUP, PRICES, STREAM, publish
from tests.integration.campaign.servers import OwnPostgres, OwnRedis

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

LIMIT = Decimal("0.05")
SIZES = {"BTC_JPY": "0.01", "ETH_JPY": "0.01", "BTC": "0.005"}  # the limit holds 5 to 10 entries
SIGNALS = 90
SETTINGS = dict(
    SYMBOLS=",".join(PRICES), MAX_POSITION_SIZE=str(LIMIT), BASE_EQUITY="1000000000",
    MAX_DRAWDOWN_PCT="50", MAX_CONSECUTIVE_LOSSES="1000", ORDER_TIMEOUT_S="2",
    MARKET_ORDER_TIMEOUT_S="2", POLL_INTERVAL_S="0.1", MAX_SIGNAL_AGE_S="60", RESOLVE_CHECKS="3",
    RESOLVE_INTERVAL_S="0.5", HTTP_TIMEOUT_S="2", BACKOFF_MAX_S="1", REDIS_BLOCK_MS="200",
    READ_BATCH="10", DRIFT_INTERVAL_S="0",
    # The dead worker's work: its pending entries are claimed after 2 s idle, its orders swept
    # once untouched for 3 s.
    REDIS_CLAIM_IDLE_S="2", SWEEP_INTERVAL_S="1", ORPHAN_AFTER_S="3",
)


def burst(client: redis.Redis, rng: random.Random, signals: int = SIGNALS) -> list[str]:
    """Mostly entries (far more than the limit allows), some exits, all at the market."""
    ids = []
    for n in range(signals):
        symbol = sorted(PRICES)[n % 3]
        action = "exit_long" if rng.random() < 0.15 else "enter_long"
        fields = {"exchange": "gmo", "symbol": symbol, "action": action, "order_type": "MARKET"}
        if action == "enter_long":
            fields["size"] = SIZES[symbol]
        ids.append(publish(client, fields))
    return ids


@contextmanager
def holding_decide_locks(database_url: str, symbols: list[str]) -> Iterator[None]:
    """Hold the transaction locks a worker's decisions on these symbols take (the same keys as
    adapters/postgres/store.py's LOCK with engine.symbol_lock) until the block ends."""
    with psycopg.connect(database_url, connect_timeout=5) as conn, conn.transaction():
        for symbol in symbols:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('hexexec:' || current_schema()), "
                         "hashtext(%s))", (f"gmo:{symbol}",))
        yield


def pending_of(client: redis.Redis, consumer: str) -> list[str]:
    rows = client.xpending_range(STREAM, GROUP, "-", "+", 1000, consumername=consumer)
    return [r["message_id"].decode() for r in rows]


def unsettled_orders(database_url: str) -> dict[str, int]:
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        rows = conn.execute("SELECT status, count(*) FROM orders WHERE status NOT IN "
                            "('FILLED', 'CANCELED', 'REJECTED', 'EXPIRED') GROUP BY status").fetchall()
    return dict(rows)


def running_peak(fills: list[Row], symbol: str) -> Decimal:
    """The largest long position the venue ever held on ``symbol``, fill after fill."""
    position = peak = Decimal(0)
    for fill in sorted((f for f in fills if f["symbol"] == symbol),
                       key=lambda f: (venue_time(f["timestamp"]), int(f["executionId"]))):
        position += Decimal(fill["size"]) * (1 if fill["side"] == "BUY" else -1)
        peak = max(peak, position)
    return peak


def test_three_workers_share_a_burst_and_survive_losing_one(
        home: Path, own_redis: OwnRedis, own_postgres: OwnPostgres) -> None:
    started = time.monotonic()
    rng = random.Random(7)
    # One API key for all three: the venue's rate limits are lifted, each worker keeps its own.
    sim = SimProcess(home, PRICES, "--no-rate-limit")
    workers: list[WorkerProcess] = []
    try:
        client = own_redis.client()
        for name in ("w1", "w2", "w3"):
            (home / name).mkdir()
            env = worker_env(home / name, sim, own_redis.url, own_postgres.url,
                             CONSUMER_NAME=name, **SETTINGS)
            workers.append(WorkerProcess(home / name, env, name))
        for worker in workers:
            worker.wait_ready()
        doomed, survivors = workers[0], workers[1:]
        # Until w1 is dead, the venue takes every order and loses the reply: each send is
        # ambiguous and must be resolved (adopted), never resent.
        sim.control("/sim/fault", {"kind": "drop_reply", "path": "/v1/order", "mode": "close",
                                   "count": 1000})
        published = burst(client, rng)

        # w1 dies holding entries it read, in the middle of resolving an order it sent. Once it
        # has an unclear send, the test holds every symbol's decide lock (as a long decision of
        # another worker would): the entries the workers read next stay pending, and w1's
        # resolution waits to record its finding.
        wait_until(lambda: "order send ambiguous" in doomed.output(),
                   within=60, what="an unclear send of w1", worker=doomed)
        with holding_decide_locks(own_postgres.url, sorted(PRICES)):
            published += burst(client, rng, 30)
            wait_until(lambda: bool(pending_of(client, "w1")),
                       within=30, what="w1 holding entries", worker=doomed)
            held = pending_of(client, "w1")
            doomed.kill()
        sim.control("/sim/faults/clear")
        left = unsettled_orders(own_postgres.url)

        wait_until(lambda: settled(own_postgres.url, client, STREAM, GROUP, published),
                   within=90, what="every signal decided and every order ended", worker=survivors[0])
        assert all(w.alive() for w in survivors)
        books = read_books(own_postgres.url, client, STREAM, GROUP,
                           sim.get("/sim/orders"), sim.get("/sim/fills"))
        taken_over = sum(w.output().count("another worker left unresolved") for w in survivors)
        for worker in survivors:
            assert worker.terminate() == 0, worker.output()[-3000:]
    finally:
        for worker in workers:
            if worker.alive():
                worker.kill()
        sim.stop()

    print(f"w1 held {len(held)} entries when killed; orders not yet ended then: {left}; "
          f"unresolved orders the survivors' sweep resolved: {taken_over}")
    assert held and not pending_of(client, "w1"), "the dead worker's entries were not taken over"
    assert set(held) <= {r["message_id"] for r in books.signals}
    positions, out_of_order = check_books(books, sorted(PRICES))
    venue_fills = list(books.venue_fills.values())
    for symbol in PRICES:
        assert positions[symbol] <= LIMIT
        assert running_peak(venue_fills, symbol) <= LIMIT, f"{symbol} went past the limit"
    entries = {s: sum(1 for o in books.orders if o["symbol"] == s) for s in PRICES}
    print("orders per symbol:", entries, f"{time.monotonic() - started:.0f} s")
    if out_of_order:
        pytest.fail(OUT_OF_ORDER + "; ".join(out_of_order))
