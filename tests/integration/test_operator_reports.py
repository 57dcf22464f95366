"""What `hexexec status` and `hexexec dlq` read, on the real servers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import redis

from adapters.postgres import PostgresStore
from adapters.postgres.reports import read_status
from adapters.redis_streams.inspect import dead_letters, replay_dead_letter, stream_status
from hexexec.domain.accounting import Position, apply_fill
from hexexec.domain.fills import Fill
from hexexec.domain.order_status import OrderStatus
from hexexec.domain.orders import Order, OrderIntent, SettleType, Side
from hexexec.domain.records import SignalRecord, SignalStatus
from hexexec.domain.signal import MessageRef, OrderType
from tests.contract.harnesses.postgres import scratch_schema

NOW = datetime.now(UTC)


@pytest.mark.redis
def test_stream_status_counts_lag_pending_and_dead_letters(redis_url):
    client = redis.Redis.from_url(redis_url)
    stream, group = f"signal:ops{uuid.uuid4().hex[:8]}", "execution"
    try:
        for i in range(3):
            client.xadd(stream, {"n": str(i)})
        client.xgroup_create(stream, group, id="0")
        got = client.xreadgroup(group, "c1", {stream: ">"}, count=2)
        client.xack(stream, group, got[0][1][0][0])
        client.xadd(stream + ":dlq", {"n": "x", "reason": "bad", "source_stream": stream,
                                      "source_id": "1-0"})
        [status] = stream_status(redis_url, [stream.rsplit(":", 1)[0] + ":ops*"], group)
        assert (status.stream, status.length, status.lag, status.pending, status.dead_letters) == (
            stream, 3, 1, 1, 1)
    finally:
        client.delete(stream, stream + ":dlq")


@pytest.mark.redis
def test_replaying_a_dead_letter_republishes_the_original_fields(redis_url):
    client = redis.Redis.from_url(redis_url)
    stream = f"signal:ops{uuid.uuid4().hex[:8]}"
    try:
        dlq_id = client.xadd(stream + ":dlq", {"symbol": "BTC_JPY", "size": "0.01",
                                               "reason": "bad", "source_stream": stream,
                                               "source_id": "1-0"}).decode()
        [(listed_id, fields)] = dead_letters(redis_url, stream)
        assert listed_id == dlq_id and fields[b"reason"] == b"bad"
        new_id = replay_dead_letter(redis_url, stream, dlq_id)
        [(entry_id, entry)] = client.xrange(stream)
        assert entry_id.decode() == new_id
        assert entry == {b"symbol": b"BTC_JPY", b"size": b"0.01"}
        assert client.xlen(stream + ":dlq") == 0
        with pytest.raises(LookupError):
            replay_dead_letter(redis_url, stream, dlq_id)
    finally:
        client.delete(stream, stream + ":dlq")


@pytest.mark.postgres
async def test_status_report_shows_state_positions_open_orders_and_todays_pnl(database_url):
    intent = OrderIntent("gmo", "BTC_JPY", Side.BUY, SettleType.OPEN, OrderType.LIMIT,
                         Decimal("0.01"), Decimal("100"), None)
    fills = [
        Fill("e1", "v1", "gmo", "BTC_JPY", Side.BUY, SettleType.OPEN, Decimal("100"),
             Decimal("0.01"), Decimal("0.001"), NOW - timedelta(days=2)),
        Fill("e2", "v2", "gmo", "BTC_JPY", Side.SELL, SettleType.CLOSE, Decimal("110"),
             Decimal("0.01"), Decimal("0.002"), NOW),
    ]
    async with scratch_schema(database_url) as schema:
        async with PostgresStore.open(database_url, schema=schema) as store:
            async with store.transaction() as uow:
                position = Position("gmo", "BTC_JPY")
                for n, fill in enumerate(fills, 1):
                    ref = MessageRef("signal:gmo", f"{n}-0")
                    await uow.signals.add(SignalRecord(ref, ((b"a", b"b"),), SignalStatus.ACCEPTED, NOW))
                    side = intent if n == 1 else OrderIntent(
                        "gmo", "BTC_JPY", Side.SELL, SettleType.CLOSE, OrderType.LIMIT,
                        Decimal("0.01"), Decimal("110"), None)
                    order = Order(f"c{n}", ref, side, OrderStatus.FILLED, NOW, NOW, NOW,
                                  order_id=f"v{n}", filled_size=Decimal("0.01"))
                    await uow.orders.add(order)
                    await uow.fills.add(fill, f"c{n}")
                    position = apply_fill(position, fill).position
                await uow.positions.put(position)
                ref = MessageRef("signal:gmo", "3-0")
                await uow.signals.add(SignalRecord(ref, ((b"a", b"b"),), SignalStatus.ACCEPTED, NOW))
                await uow.orders.add(Order("c3", ref, intent, OrderStatus.NEW, NOW, NOW, NOW,
                                           order_id="v3"))
                await uow.risk.set_state((await uow.risk.state()).halted("test", "ops", NOW))
        start_of_day = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
        report = read_status(database_url, exchange="gmo", since=start_of_day, schema=schema)
    assert report.state["state"] == "HALTED" and report.state["set_by"] == "ops"
    [pos] = report.positions
    assert pos["size"] == 0 and pos["side"] is None
    assert [o["client_order_id"] for o in report.open_orders] == ["c3"]
    # Only today's close counts: (110 − 100) × 0.01 − today's fee 0.002.
    assert report.realized_today == {"BTC_JPY": Decimal("0.098")}
    assert report.signals_today == {"ACCEPTED": 3}
