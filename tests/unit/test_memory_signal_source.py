"""MemorySignalSource beyond the port's contract: cancellation at random points, the janitor on
virtual time, glob stream names."""

from __future__ import annotations

from datetime import UTC, datetime

import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.signal_source import MemorySignalSource
from adapters.memory.streams import MemoryStreams
from adapters.system.clock import TrioWallClock
from hexexec.domain.signal import InboundMessage

T0 = datetime(2024, 5, 1, tzinfo=UTC)


@settings(max_examples=40)
@given(plan=st.lists(st.tuples(st.integers(0, 4), st.integers(1, 7)), min_size=1, max_size=30))
async def test_reads_cancelled_anywhere_lose_and_repeat_nothing(
        plan: list[tuple[int, int]]) -> None:
    """Each read races a task that cancels it after a few schedule points: whatever a read
    handed back is kept, and in the end every entry was handed out exactly once."""
    streams = MemoryStreams()
    source = MemorySignalSource(streams, ["x"], "g", "c", block_s=0)
    published = [streams.add("x", {"n": str(i)}) for i in range(40)]
    got: list[InboundMessage] = []

    async def cancel_after(scope: trio.CancelScope, points: int) -> None:
        for _ in range(points):
            await trio.lowlevel.checkpoint()
        scope.cancel()

    step = 0
    while streams.lag("x", "g") > 0:  # until every entry has left the stream
        delay, count = plan[step % len(plan)]
        step += 1
        with trio.CancelScope() as scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(cancel_after, scope, delay)
                got.extend(await source.read(count))
    assert [m.ref.message_id for m in got] == published
    assert {m.deliveries for m in got} == {1}
    assert len(streams.pending("x", "g", "c")) == len(published)


async def test_the_janitor_claims_entries_once_they_are_idle(autojump_clock: object) -> None:
    clock = TrioWallClock(T0)
    streams = MemoryStreams(clock.now)
    dead = MemorySignalSource(streams, ["x"], "g", "dead")
    ids = [streams.add("x", {"n": str(i)}) for i in range(2)]
    assert len(await dead.read(10)) == 2
    heir = MemorySignalSource(streams, ["x"], "g", "heir", block_s=None)
    async with trio.open_nursery() as nursery:
        await nursery.start(heir.run_janitor, 60, 5)
        got = await heir.read(10)  # blocks until the janitor hands it something
        nursery.cancel_scope.cancel()
    assert [(m.ref.message_id, m.deliveries) for m in got] == [(i, 2) for i in ids]
    assert (clock.now() - T0).total_seconds() >= 60  # not before they had been idle a minute
    assert {p.consumer for p in streams.pending("x", "g")} == {"heir"}


async def test_claimed_entries_acknowledged_meanwhile_are_not_handed_out() -> None:
    streams = MemoryStreams()
    ids = [streams.add("x", {"n": str(i)}) for i in range(3)]
    dead = MemorySignalSource(streams, ["x"], "g", "dead", block_s=0)
    await dead.read(10)
    heir = MemorySignalSource(streams, ["x"], "g", "heir", block_s=0)
    assert await heir.read(10) == []
    assert await heir.claim_idle(0) == 3
    await heir.ack([])  # nothing: a no-op
    streams.ack("x", "g", [ids[0]])  # acknowledged by someone else since the claim
    streams.autoclaim("x", "g", "third", 0, start=ids[1], count=1)  # claimed away again
    assert [m.ref.message_id for m in await heir.read(10)] == [ids[2]]


async def test_glob_names_find_streams_created_later_but_not_dead_letters() -> None:
    streams = MemoryStreams()
    a1 = streams.add("signal:a", {"n": "1"})
    streams.add("signal:a:dlq", {"n": "dead"})
    streams.add("other", {"n": "x"})
    source = MemorySignalSource(streams, ["signal:*"], "g", "c", block_s=0)
    first = await source.read(10)
    b1 = streams.add("signal:b", {"n": "2"})
    second = await source.read(10)
    assert [(m.ref.stream, m.ref.message_id) for m in [*first, *second]] == [
        ("signal:a", a1), ("signal:b", b1)]
    assert source.streams == ("signal:a", "signal:b")


async def test_without_a_block_time_a_read_waits_as_long_as_it_takes(
        autojump_clock: object) -> None:
    streams = MemoryStreams()
    source = MemorySignalSource(streams, ["x"], "g", "c", block_s=None)

    async def publish_later() -> None:
        await trio.sleep(3600)
        streams.add("x", {"n": "late"})

    async with trio.open_nursery() as nursery:
        nursery.start_soon(publish_later)
        got = await source.read(10)
    assert [dict(m.fields) for m in got] == [{b"n": b"late"}]
    assert trio.current_time() >= 3600
