"""The README's promise, with real processes: `hexexec run` with no service URLs starts a paper
worker on embedded Redis and PostgreSQL; `hexexec signal` publishes; `hexexec status` shows the
order and the position; SIGTERM stops it with exit 0; the data is there after a restart; a
SIGTERM while signals flow loses and doubles nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
import redis

from tests.integration.cli.worker import (
    Worker,
    environment,
    fresh_data_dir,
    hexexec,
    metric,
    remove,
    status,
    wait_for,
)


@pytest.fixture
def data_dir():
    path = fresh_data_dir()
    yield path
    remove(path)


def position(report: dict, symbol: str) -> Decimal:
    for p in report["positions"]:
        if p["symbol"] == symbol:
            return Decimal(p["size"]) * (-1 if p["side"] == "SHORT" else 1)
    return Decimal(0)


def test_paper_worker_end_to_end_with_restarts(data_dir):
    env = environment(data_dir)
    worker = Worker(data_dir, env)
    try:
        assert worker.get("/healthz").status_code == 200
        assert worker.get("/readyz").status_code == 200  # ready only after recovery
        hexexec(data_dir, env, "signal", "enter_long", "BTC_JPY", "--size", "0.01",
                "--price", "10000000")
        report = wait_for(lambda: (r := status(data_dir, env)) and position(r, "BTC_JPY") == Decimal(
            "0.01") and r)
        assert report["mode"] == "paper" and report["orders_today"] == {"FILLED": 1}
        assert report["worker"] == {"running": True, "pid": worker.process.pid, "ready": True,
                                    "venue_available": True}
        hexexec(data_dir, env, "signal", "enter_long", "NOPE", "--size", "1", "--price", "1")
        wait_for(lambda: status(data_dir, env)["streams"][0]["dead_letters"] == 1)
        assert "unknown symbol" in hexexec(data_dir, env, "dlq", "list").stdout
        metrics = worker.get("/metrics").text
        assert metric(metrics, "hexexec_signals_received_total") == 2
        assert metric(metrics, "hexexec_dead_letters_total") == 1
    finally:
        assert worker.terminate() == 0, worker.output()[-3000:]

    # Stopped: the CLI starts the embedded servers itself, and the data is still there.
    hexexec(data_dir, env, "halt", "--reason", "maintenance window")
    report = status(data_dir, env)
    assert position(report, "BTC_JPY") == Decimal("0.01")
    assert report["trading_state"]["state"] == "HALTED"
    assert report["worker"] == {"running": False}

    worker = Worker(data_dir, env)
    try:
        hexexec(data_dir, env, "signal", "exit_long", "BTC_JPY", "--price", "10000000")
        wait_for(lambda: status(data_dir, env)["signals_today"].get("REJECTED") == 1)
        assert position(status(data_dir, env), "BTC_JPY") == Decimal("0.01")  # halted: no exit
        hexexec(data_dir, env, "resume", "--reason", "done")
        hexexec(data_dir, env, "signal", "exit_long", "BTC_JPY", "--price", "10000000")
        wait_for(lambda: position(status(data_dir, env), "BTC_JPY") == 0)
    finally:
        assert worker.terminate() == 0


def test_sigterm_while_signals_flow_loses_and_doubles_nothing(data_dir):
    # Slow venue, short grace: the stop really cuts the run in the middle.
    env = environment(data_dir, PAPER_LATENCY_MS="200", SHUTDOWN_GRACE_S="0.5")
    worker = Worker(data_dir, env)
    try:
        client = redis.Redis.from_url(worker.redis_url())
        for i in range(40):
            client.xadd("signal:gmo", {"exchange": "gmo", "symbol": "BTC_JPY" if i % 2 else "BTC",
                                       "action": "enter_long", "size": "0.001",
                                       "price_ref": "10000000"})
        wait_for(lambda: metric(worker.get("/metrics").text, "hexexec_orders_total") > 0, step=0.05)
    finally:
        assert worker.terminate() == 0
    cut = status(data_dir, env)
    assert sum(cut["orders_today"].values()) < 40 or cut["open_orders"]  # work was left over
    worker = Worker(data_dir, env)
    try:
        report = wait_for(lambda: (r := status(data_dir, env))
                          and r["signals_today"].get("ACCEPTED") == 40 and not r["open_orders"]
                          and r)
        assert report["orders_today"] == {"FILLED": 40}
        assert position(report, "BTC_JPY") == Decimal("0.020")
        assert position(report, "BTC") == Decimal("0.020")
        assert report["streams"][0]["pending"] == 0
    finally:
        assert worker.terminate() == 0
