"""DESIGN §1: every kind of bad input is recorded, dead-lettered with its reason and acknowledged,
while the worker goes on trading the good signals around it."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from hexexec.domain.records import SignalStatus
from hexexec.domain.signal import InboundMessage, MessageRef
from hexexec.services.decide import Outcome, decide
from tests.service.world import STREAM, World, default_options, until

GOOD = {"exchange": "gmo", "symbol": "BTC_JPY", "action": "enter_long", "size": "0.001",
        "order_type": "MARKET"}

BAD: list[tuple[str, dict[str | bytes, str | bytes], str]] = [
    ("no exchange", {k: v for k, v in GOOD.items() if k != "exchange"}, "missing field 'exchange'"),
    ("other exchange", {**GOOD, "exchange": "binance"}, "is not 'gmo'"),
    ("no symbol", {k: v for k, v in GOOD.items() if k != "symbol"}, "missing field 'symbol'"),
    ("unknown symbol", {**GOOD, "symbol": "DOGE_USD"}, "unknown symbol"),
    ("no action", {k: v for k, v in GOOD.items() if k != "action"}, "missing field 'action'"),
    ("unknown action", {**GOOD, "action": "buy"}, "unknown action"),
    ("entry without size", {k: v for k, v in GOOD.items() if k != "size"}, "missing field 'size'"),
    ("zero size", {**GOOD, "size": "0"}, "must be positive"),
    ("negative size", {**GOOD, "size": "-0.1"}, "must be positive"),
    ("text size", {**GOOD, "size": "lots"}, "not a decimal"),
    ("NaN size", {**GOOD, "size": "NaN"}, "not finite"),
    ("unknown order type", {**GOOD, "order_type": "STOP"}, "unknown order_type"),
    ("LIMIT without price", {**GOOD, "order_type": "LIMIT"}, "missing field 'price_ref'"),
    ("bad price", {**GOOD, "order_type": "LIMIT", "price_ref": "-5"}, "must be positive"),
    ("bad TIF", {**GOOD, "time_in_force": "GTC"}, "unknown time_in_force"),
    ("TIF not for MARKET", {**GOOD, "time_in_force": "SOK"}, "not allowed for MARKET"),
    ("short on spot", {**GOOD, "symbol": "BTC", "action": "enter_short"}, "spot cannot be shorted"),
    ("oversize", {**GOOD, "strategy": "x" * (65 * 1024)}, "over 64 KiB"),
    ("data not JSON", {"data": "{not json"}, "not valid JSON"),
    ("data not an object", {"data": json.dumps([GOOD])}, "not a JSON object"),
    ("data beside fields", {**GOOD, "data": json.dumps(GOOD)}, "only field"),
    ("not UTF-8", {**GOOD, "strategy": b"\xff\xfe"}, "not valid UTF-8"),
    ("bad timestamp", {**GOOD, "timestamp": "yesterday"}, "timestamp"),
    ("naive timestamp", {**GOOD, "timestamp": "2026-01-05T00:00:00"}, "no time zone"),
    ("bad signal_id", {**GOOD, "signal_id": "abc"}, "signal_id"),
]


async def test_every_bad_input_is_dead_lettered_and_the_worker_goes_on(autojump_clock):
    world = World(default_options())
    world.venue.set_price("BTC_JPY", Decimal("10000000"))
    bad_ids = {}
    async with world.running():
        for name, fields, _ in BAD:
            bad_ids[world.streams.add(STREAM, fields)] = name
            world.publish(**GOOD)  # a good signal after each bad one
        await until(lambda: len(world.signals()) == 2 * len(BAD) and world.pending() == 0)
        await until(lambda: world.position("BTC_JPY").size == Decimal("0.001") * len(BAD))

    dlq = {dict(f)[b"source_id"].decode(): dict(f) for _, f in world.dlq()}
    assert set(dlq) == set(bad_ids)
    expected = {name: reason for name, _, reason in BAD}
    for message_id, name in bad_ids.items():
        entry = dlq[message_id]
        assert expected[name] in entry[b"reason"].decode(), name
        assert entry[b"source_stream"] == STREAM.encode()
        record = next(r for r in world.signals() if r.source.message_id == message_id)
        assert record.status is SignalStatus.INVALID and expected[name] in (record.reason or "")
        original = dict(BAD[[n for n, _, _ in BAD].index(name)][1])
        for key, value in original.items():  # the original fields travel with it, byte for byte
            k = key.encode() if isinstance(key, str) else key
            v = value.encode() if isinstance(value, str) else value
            assert entry[k] == v
    assert len(world.venue.all_orders()) == len(BAD)


@pytest.mark.parametrize("deliveries", [6, 50])
async def test_an_entry_delivered_too_often_is_dead_lettered(autojump_clock, deliveries):
    world = World(default_options(max_deliveries=5))
    engine = world.engine()
    message = InboundMessage.of(MessageRef(STREAM, "1767571200000-0"), GOOD, deliveries)
    decided = await decide(engine, message)
    assert decided.outcome is Outcome.INVALID
    assert "MAX_DELIVERIES=5" in (decided.reason or "")
    again = await decide(engine, message)  # redelivered after that: still dead-letter, nothing new
    assert again.outcome is Outcome.REDELIVERY and again.previous is SignalStatus.INVALID
    assert world.orders() == []
