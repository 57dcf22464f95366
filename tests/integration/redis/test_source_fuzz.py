"""Arbitrary entries through the real Redis source and the domain's parse_signal: whatever is
published, each entry is handed out once and ends acknowledged, either parsed or dead-lettered
with its reason, and the reader carries on."""

from __future__ import annotations

import itertools
import json

import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hexexec.domain.signal_parsing import InvalidSignal, parse_signal
from tests.integration.redis.conftest import Fields, Streams

pytestmark = pytest.mark.redis

SYMBOLS = frozenset({"BTC_JPY", "BTC"})
NAMES = ["exchange", "symbol", "action", "size", "order_type", "price_ref", "time_in_force",
         "signal_id", "strategy", "timestamp", "data"]

valid_flat = st.fixed_dictionaries(
    {"exchange": st.just("gmo"), "symbol": st.sampled_from(sorted(SYMBOLS)),
     "action": st.sampled_from(["enter_long", "exit_long"]),
     "size": st.decimals("0.0001", "10", places=4).map(str),
     "price_ref": st.integers(1, 10**7).map(str)},
    optional={"order_type": st.sampled_from(["LIMIT", "MARKET"]),
              "strategy": st.text(max_size=20), "signal_id": st.integers(0, 10**9).map(str)},
)
valid_data = valid_flat.map(lambda d: {"data": json.dumps(d)})
anything = st.one_of(
    st.binary(max_size=40),
    st.text(max_size=30).map(str.encode),
    st.sampled_from([b"gmo", b"BTC_JPY", b"enter_long", b"-1", b"NaN", b"1e999", b"{}", b"[1]"]),
    st.integers(60_000, 70_000).map(lambda n: b"7" * n),  # around the 64 KiB limit
)
arbitrary = st.lists(
    st.tuples(st.one_of(st.sampled_from(NAMES).map(str.encode), st.binary(max_size=12)),
              anything),
    min_size=1, max_size=6,
).map(tuple)


def as_pairs(fields: dict[str, str]) -> Fields:
    return tuple((k.encode(), v.encode()) for k, v in fields.items())


# (whether the entry is a valid signal, its fields)
entries = st.lists(
    st.one_of(valid_flat.map(as_pairs), valid_data.map(as_pairs)).map(lambda f: (True, f))
    | arbitrary.map(lambda f: (False, f)),
    min_size=1, max_size=12,
)
_example = itertools.count()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(published=entries, batch=st.integers(1, 5))
async def test_every_entry_is_acked_parsed_or_dead_lettered(
    streams: Streams, published: list[tuple[bool, Fields]], batch: int,
) -> None:
    s = streams.name(f"fuzz{next(_example)}")
    by_id = {streams.publish(s, fields): fields for _, fields in published}
    valid = {i for i, (ok, _) in zip(by_id, published, strict=True) if ok}
    seen: list[str] = []
    rejected: dict[str, str] = {}
    async with streams.open(streams=[s]) as source:
        with trio.fail_after(30):  # a hang guard: a lost entry would keep this loop reading
            while len(seen) < len(by_id):
                for message in await source.read(batch):
                    seen.append(message.ref.message_id)
                    assert message.fields == by_id[message.ref.message_id]
                    try:
                        parse_signal(message.ref, dict(message.fields), exchange_name="gmo",
                                     symbols=SYMBOLS)
                    except InvalidSignal as exc:
                        rejected[message.ref.message_id] = exc.reason
                        await source.dead_letter(message, exc.reason)
                    else:
                        await source.ack([message.ref])
    assert sorted(seen) == sorted(by_id)  # each once
    assert streams.pending(s) == []
    assert not valid & rejected.keys()  # well-formed signals are never dead-lettered
    dlq = streams.entries(s + ":dlq")
    assert len(dlq) == len(rejected)
    for _, fields in dlq:
        source_id = fields[-1][1].decode()
        assert fields == (
            *by_id[source_id],
            (b"reason", rejected[source_id].encode()),
            (b"source_stream", s.encode()),
            (b"source_id", source_id.encode()),
        )
