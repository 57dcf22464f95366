"""The SignalSource port's contract, run on every backend of ``SOURCE_BACKENDS`` (conftest.py).

At-least-once delivery through a consumer group: reading and acknowledging; a restarted consumer
(same name) gets its unacknowledged entries again, its own first, each delivery counted; what was
acknowledged never comes back; reads block until an entry comes or the block time passes, and a
cancelled read loses nothing; dead-lettering copies the entry to ``<stream>:dlq`` and acknowledges
it in one step; several streams; the janitor takes over a dead consumer's entries.
"""

from __future__ import annotations

from collections.abc import Sequence

import trio

from hexexec.domain.signal import InboundMessage
from ports.signal_source import SignalSource
from tests.contract.harnesses import Pending, SignalSourceHarness, field_map

H = SignalSourceHarness


def _entry(n: int) -> dict[str | bytes, str | bytes]:
    return {"exchange": "gmo", "symbol": "BTC_JPY", "action": "enter_long", "size": f"0.0{n}"}


async def _publish(h: H, stream: str, count: int) -> list[str]:
    return [await h.publish(stream, _entry(n)) for n in range(1, count + 1)]


async def _drain(source: SignalSource, max_count: int = 10) -> list[InboundMessage]:
    """Everything the source hands out until a read comes back empty."""
    out: list[InboundMessage] = []
    while batch := await source.read(max_count):
        assert len(batch) <= max_count
        out.extend(batch)
    return out


def _ids(messages: Sequence[InboundMessage]) -> list[str]:
    return [m.ref.message_id for m in messages]


async def test_new_entries_come_in_order_with_their_fields(signal_source_harness: H) -> None:
    h = signal_source_harness
    s = h.stream("main")
    raw = {b"symbol": b"BTC_JPY", b"note": b"\xff\xfe not utf-8", b"empty": b""}
    ids = [*await _publish(h, s, 2), await h.publish(s, raw)]
    got = await (await h.source("c1", [s])).read(10)
    assert _ids(got) == ids
    assert all(m.ref.stream == s and m.deliveries == 1 for m in got)
    assert dict(got[0].fields) == field_map(_entry(1)) and dict(got[2].fields) == raw
    assert [p.message_id for p in await h.pending(s, "c1")] == ids


async def test_max_count_bounds_every_batch(signal_source_harness: H) -> None:
    h = signal_source_harness
    s = h.stream("main")
    ids = await _publish(h, s, 5)
    source = await h.source("c1", [s])
    sizes = [len(await source.read(2)) for _ in range(3)]
    assert sizes == [2, 2, 1]
    restarted = await h.source("c1", [s])  # own history is bounded the same way
    got = await _drain(restarted, max_count=2)
    assert _ids(got) == ids and {m.deliveries for m in got} == {2}


async def test_a_read_with_nothing_to_read_returns_empty(signal_source_harness: H) -> None:
    h = signal_source_harness
    source = await h.source("c1", [h.stream("main")], block_s=0.05)
    assert list(await source.read(10)) == []


async def test_a_blocked_read_wakes_up_for_a_new_entry(signal_source_harness: H) -> None:
    h = signal_source_harness
    s = h.stream("main")
    source = await h.source("c1", [s], block_s=30)  # a wake-up that never comes fails slowly
    got: list[InboundMessage] = []

    async def reader() -> None:
        got.extend(await source.read(10))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(reader)
        await trio.sleep(0.05)
        published = await h.publish(s, _entry(1))
    assert _ids(got) == [published]


async def test_entries_published_before_the_first_start_are_delivered(
        signal_source_harness: H) -> None:
    h = signal_source_harness
    s = h.stream("main")
    ids = await _publish(h, s, 2)
    assert _ids(await _drain(await h.source("c1", [s]))) == ids


async def test_acknowledged_entries_never_come_back(signal_source_harness: H) -> None:
    h = signal_source_harness
    s = h.stream("main")
    await _publish(h, s, 3)
    source = await h.source("c1", [s])
    got = await _drain(source)
    await source.ack([m.ref for m in got])
    await source.ack([got[0].ref])  # again: a no-op
    assert await h.pending(s) == []
    assert await _drain(await h.source("c1", [s])) == []
    assert await _drain(source) == []


async def test_a_restart_gets_its_own_pending_entries_first(signal_source_harness: H) -> None:
    h = signal_source_harness
    s = h.stream("main")
    e1, e2 = await _publish(h, s, 2)
    first = await h.source("c1", [s])
    got = await _drain(first)
    await first.ack([got[0].ref])
    e3 = await h.publish(s, _entry(3))

    second = await h.source("c1", [s])
    again = await _drain(second)
    assert [(m.ref.message_id, m.deliveries) for m in again] == [(e2, 2), (e3, 1)]
    assert dict(again[0].fields) == field_map(_entry(2))

    third = await h.source("c1", [s])  # restarted again without acknowledging anything
    assert [(m.ref.message_id, m.deliveries) for m in await _drain(third)] == [(e2, 3), (e3, 2)]
    assert await h.pending(s) == [Pending(e2, "c1", 3), Pending(e3, "c1", 2)]
    assert e1 not in [p.message_id for p in await h.pending(s)]


async def test_another_consumer_does_not_get_entries_pending_elsewhere(
        signal_source_harness: H) -> None:
    h = signal_source_harness
    s = h.stream("main")
    await _publish(h, s, 2)
    assert len(await _drain(await h.source("alice", [s]))) == 2
    bob = await h.source("bob", [s])
    assert await _drain(bob) == []
    e3 = await h.publish(s, _entry(3))
    assert _ids(await _drain(bob)) == [e3]


async def test_a_cancelled_read_loses_nothing_and_the_source_goes_on(
        signal_source_harness: H) -> None:
    h = signal_source_harness
    s = h.stream("main")
    source = await h.source("c1", [s], block_s=30)
    with trio.move_on_after(0.05) as waited:
        await source.read(10)  # blocked: nothing there
    assert waited.cancelled_caught
    e1 = await h.publish(s, _entry(1))
    with trio.CancelScope() as scope:
        scope.cancel()
        await source.read(10)  # cancelled before it could hand anything out
    got = await source.read(10)
    assert [(m.ref.message_id, m.deliveries) for m in got] == [(e1, 1)]


async def test_dead_letter_copies_the_entry_with_reason_and_acknowledges(
        signal_source_harness: H) -> None:
    h = signal_source_harness
    s = h.stream("main")
    raw = {b"symbol": b"BTC_JPY", b"size": b"\xff\xfe"}
    mid = await h.publish(s, raw)
    source = await h.source("c1", [s])
    (message,) = await source.read(10)
    await source.dead_letter(message, "size is not a decimal")
    dlq = await h.dlq(s)
    assert len(dlq) == 1
    assert dict(dlq[0][1]) == {**raw, b"reason": b"size is not a decimal",
                               b"source_stream": s.encode(), b"source_id": mid.encode()}
    assert await h.pending(s) == []
    assert await _drain(await h.source("c1", [s])) == []
    await source.dead_letter(message, "again")  # no longer pending: no second copy
    assert len(await h.dlq(s)) == 1


async def test_several_streams_are_read_and_dead_lettered_apart(signal_source_harness: H) -> None:
    h = signal_source_harness
    a, b = h.stream("a"), h.stream("b")
    a1, b1, a2 = await h.publish(a, _entry(1)), await h.publish(b, _entry(2)), await h.publish(
        a, _entry(3))
    source = await h.source("c1", [a, b])
    got = await _drain(source, max_count=2)
    assert [m.ref.message_id for m in got if m.ref.stream == a] == [a1, a2]
    assert [m.ref.message_id for m in got if m.ref.stream == b] == [b1]
    from_b = next(m for m in got if m.ref.stream == b)
    await source.dead_letter(from_b, "bad")
    await source.ack([m.ref for m in got if m.ref.stream == a])
    assert len(await h.dlq(b)) == 1 and await h.dlq(a) == []
    assert await h.pending(a) == [] and await h.pending(b) == []


async def test_the_janitor_takes_over_a_dead_consumers_entries(signal_source_harness: H) -> None:
    h = signal_source_harness
    s = h.stream("main")
    ids = await _publish(h, s, 2)
    assert len(await _drain(await h.source("dead", [s]))) == 2
    heir = await h.source("heir", [s])
    assert await _drain(heir) == []  # running, nothing of its own: the janitor's usual moment
    assert await h.claim_idle(heir, 0) == 2
    got = await _drain(heir)
    assert [(m.ref.message_id, m.deliveries) for m in got] == [(i, 2) for i in ids]
    assert {p.consumer for p in await h.pending(s)} == {"heir"}
    assert await _drain(await h.source("dead", [s])) == []  # a restart of the dead one: nothing
    await heir.ack([m.ref for m in got])
    assert await h.pending(s) == []
