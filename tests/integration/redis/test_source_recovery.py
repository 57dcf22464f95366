"""RedisSignalSource when things go wrong: a consumer dropped before acking, a dead consumer's
entries, a cancelled or broken blocking read, entries or streams deleted under it."""

from __future__ import annotations

import pytest
import trio
from structlog.testing import capture_logs

from adapters.redis_streams import RedisSignalSource
from hexexec.domain.signal import InboundMessage
from tests.integration.redis.blocking import reader_clients, wait_until_blocked
from tests.integration.redis.conftest import Streams

pytestmark = pytest.mark.redis


def ids(messages: list[InboundMessage] | tuple[InboundMessage, ...]) -> list[str]:
    return [m.ref.message_id for m in messages]


async def test_an_entry_dropped_before_its_ack_comes_back_once_after_restart(
    streams: Streams,
) -> None:
    s = streams.name()
    done, dropped = streams.publish(s, {"n": "1"}), streams.publish(s, {"n": "2"})
    async with streams.open("c1") as source:
        first = await source.read(10)
        await source.ack([first[0].ref])  # the worker dies before acking the second
    assert ids(first) == [done, dropped]
    async with streams.open("c1") as restarted:
        again = await restarted.read(10)
        assert ids(again) == [dropped]
        assert again[0].deliveries == 2
        assert await restarted.read(10) == []  # once, not again and again
        await restarted.ack([again[0].ref])
    assert streams.pending(s) == []


async def test_the_delivery_count_is_the_one_redis_keeps(streams: Streams) -> None:
    s = streams.name()
    streams.publish(s, {"n": "1"})
    counts = []
    for _ in range(3):
        async with streams.open("c1") as source:
            (message,) = await source.read(10)
            counts.append(message.deliveries)
            assert [p.deliveries for p in streams.pending(s)] == [message.deliveries]
    assert counts == [1, 2, 3]


def make_stale(streams: Streams, stream: str, consumer: str, message_id: str) -> None:
    """Let ``consumer`` look long gone: its entry idle for two minutes (counting no delivery)."""
    streams.cmd("XCLAIM", stream, streams.group, consumer, 0, message_id, "IDLE", 120_000,
                "JUSTID")


async def test_the_janitor_claims_stale_entries_of_other_consumers_only(
    streams: Streams,
) -> None:
    s = streams.name()
    a, b, c = (streams.publish(s, {"n": str(i)}) for i in range(3))
    async with streams.open("c1", claim_min_idle_ms=60_000) as source:
        streams.cmd("XREADGROUP", "GROUP", streams.group, "dead", "COUNT", 2, "STREAMS", s, ">")
        streams.cmd("XREADGROUP", "GROUP", streams.group, "alive", "COUNT", 1, "STREAMS", s, ">")
        for message_id in (a, b):
            make_stale(streams, s, "dead", message_id)
        assert await source.claim_idle() == 2
        got = await source.read(10)
        assert ids(got) == [a, b]
        assert [m.deliveries for m in got] == [2, 2]  # one to "dead", one to us
        assert await source.read(10) == []
    owners = {p.message_id: p.consumer for p in streams.pending(s)}
    assert owners == {a: "c1", b: "c1", c: "alive"}


async def test_the_running_janitor_wakes_a_read_blocked_on_new_entries(
    streams: Streams,
) -> None:
    s = streams.name()
    stale = streams.publish(s, {"n": "1"})
    streams.cmd("XGROUP", "CREATE", s, streams.group, "0")
    streams.cmd("XREADGROUP", "GROUP", streams.group, "dead", "STREAMS", s, ">")
    async with streams.open("c1", block_ms=60_000, claim_min_idle_ms=60_000) as source:
        async with trio.open_nursery() as nursery:

            async def janitor_after_the_read_blocks() -> None:
                await wait_until_blocked(streams, "c1")
                make_stale(streams, s, "dead", stale)
                await nursery.start(source.run_janitor, None, 0.01)

            nursery.start_soon(janitor_after_the_read_blocks)
            with trio.fail_after(20):  # a hang guard: without the wake-up it would be 60 s
                got = await source.read(10)
            nursery.cancel_scope.cancel()
    assert ids(got) == [stale]


async def test_a_cancelled_blocking_read_loses_nothing_and_the_source_reads_on(
    streams: Streams,
) -> None:
    s = streams.name()
    async with streams.open("c1", block_ms=60_000) as source:
        with trio.fail_after(20):  # cancelling must not wait for the 60 s block
            async with trio.open_nursery() as nursery:
                nursery.start_soon(source.read, 10)
                blocked = await wait_until_blocked(streams, "c1")
                nursery.cancel_scope.cancel()
        new = streams.publish(s, {"n": "1"})
        got = await source.read(10)
        assert ids(got) == [new]
        assert got[0].deliveries == 1
        assert [int(r["id"]) for r in reader_clients(streams, "c1")] != [blocked]


async def test_entries_whose_read_reply_was_lost_are_found_again(streams: Streams) -> None:
    s = streams.name()
    lost = streams.publish(s, {"n": "1"})
    streams.cmd("XGROUP", "CREATE", s, streams.group, "0")
    streams.cmd("XREADGROUP", "GROUP", streams.group, "other", "STREAMS", s, ">")
    async with streams.open("c1", block_ms=60_000) as source:
        got: list[InboundMessage] = []
        with capture_logs() as logs, trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(lambda: _extend(got, source))
                blocked = await wait_until_blocked(streams, "c1")
                # As if Redis had served c1's read and the reply died with the connection:
                streams.cmd("XCLAIM", s, streams.group, "c1", 0, lost)
                streams.cmd("CLIENT", "KILL", "ID", blocked)
        assert ids(got) == [lost]
        assert got[0].deliveries == streams.pending(s, "c1")[0].deliveries
        assert any(e["event"] == "redis_unavailable" and e["op"] == "read" for e in logs)
        new = streams.publish(s, {"n": "2"})
        assert ids(await source.read(10)) == [new]  # and the lost one not a second time


async def _extend(into: list[InboundMessage], source: RedisSignalSource) -> None:
    into.extend(await source.read(10))


async def test_an_entry_deleted_while_pending_is_dead_lettered(streams: Streams) -> None:
    s = streams.name()
    gone, kept = streams.publish(s, {"n": "1"}), streams.publish(s, {"n": "2"})
    async with streams.open("c1") as source:
        await source.read(10)
    streams.cmd("XDEL", s, gone)
    async with streams.open("c1") as restarted:
        assert ids(await restarted.read(10)) == [kept]
    (entry,) = streams.entries(s + ":dlq")
    fields = dict(entry[1])
    assert fields[b"source_id"] == gone.encode() and fields[b"source_stream"] == s.encode()
    assert b"deleted" in fields[b"reason"]
    assert [p.message_id for p in streams.pending(s)] == [kept]


async def test_a_stream_deleted_under_the_source_is_set_up_again(streams: Streams) -> None:
    s = streams.name()
    async with streams.open("c1") as source:
        assert await source.read(10) == []
        streams.cmd("DEL", s)  # the group goes with it
        new = streams.publish(s, {"n": "1"})
        with capture_logs() as logs:
            got = await source.read(10)
    assert ids(got) == [new]
    assert any(e["event"] == "consumer_group_missing" for e in logs)
