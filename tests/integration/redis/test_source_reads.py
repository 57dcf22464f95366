"""RedisSignalSource reading from the real Redis: what it hands out, in what bounds, from where."""

from __future__ import annotations

import pytest
import trio
import trio_asyncio  # type: ignore[import-untyped]
from structlog.testing import capture_logs

from adapters.redis_streams import RedisSignalSource
from tests.integration.redis.conftest import Streams

pytestmark = pytest.mark.redis


async def test_entries_published_before_the_group_exists_are_read(streams: Streams) -> None:
    s = streams.name()
    ids = [streams.publish(s, {"n": str(i)}) for i in range(3)]
    async with streams.open() as source:
        got = await source.read(10)
    assert [m.ref.message_id for m in got] == ids
    assert [m.fields for m in got] == [((b"n", str(i).encode()),) for i in range(3)]
    assert all(m.deliveries == 1 for m in got)


async def test_a_read_takes_no_more_than_asked_and_reads_nothing_ahead(streams: Streams) -> None:
    s = streams.name()
    ids = [streams.publish(s, {"n": str(i)}) for i in range(10)]
    async with streams.open() as source:
        first = await source.read(3)
        assert [m.ref.message_id for m in first] == ids[:3]
        assert [p.message_id for p in streams.pending(s)] == ids[:3]
        rest = await source.read(100)
    assert [m.ref.message_id for m in rest] == ids[3:]


async def test_many_streams_are_read_within_the_count(streams: Streams) -> None:
    names = [streams.name(f"s{i}") for i in range(5)]
    published = {(s, streams.publish(s, {"s": s})) for s in names for _ in range(4)}
    seen: list[tuple[str, str]] = []
    async with streams.open(streams=names) as source:
        while len(seen) < len(published):
            batch = await source.read(2)
            assert 1 <= len(batch) <= 2
            seen += [(m.ref.stream, m.ref.message_id) for m in batch]
            held = sum(len(streams.pending(s)) for s in names)
            assert held == len(seen)  # every entry Redis handed over reached the caller
        assert await source.read(2) == []
    assert sorted(seen) == sorted(published)


async def test_fields_pass_through_exactly_as_published(streams: Streams) -> None:
    s = streams.name()
    odd = [
        ((b"a", b"1"), (b"a", b"2")),  # a repeated name: a dict would lose one
        ((b"\xff\xfe", b"\x00\x80binary"),),  # not UTF-8 at all
        ((b"data", b""),),  # an empty value
        ((b"blob", b"x" * (1 << 20)),),  # 1 MiB
    ]
    for fields in odd:
        streams.publish(s, fields)
    async with streams.open() as source:
        got = await source.read(10)
    assert [m.fields for m in got] == [fields for _, fields in streams.entries(s)]
    assert [m.fields for m in got] == odd


async def test_patterns_match_streams_only_and_pick_up_new_ones(streams: Streams) -> None:
    a, b, later = streams.name("a"), streams.name("b"), streams.name("later")
    streams.publish(a, {"k": "a"})
    streams.publish(b, {"k": "b"})
    streams.publish(streams.name("a:dlq"), {"k": "dead letter"})
    streams.cmd("SET", streams.name("plain"), "not a stream")
    async with streams.open(streams=[streams.prefix + ":*"]) as source:
        assert sorted(source.streams) == [a, b]
        first = await source.read(10)
        assert sorted(m.fields for m in first) == [((b"k", b"a"),), ((b"k", b"b"),)]
        new_id = streams.publish(later, {"k": "later"})
        got: list[str] = []
        with trio.fail_after(10):  # a hang guard only: discovery runs at every read here
            while not got:
                got = [m.ref.message_id for m in await source.read(10)]
        assert got == [new_id]
        assert later in source.streams


async def test_an_open_asyncio_loop_is_reused(streams: Streams) -> None:
    s = streams.name()
    streams.publish(s, {"k": "v"})
    async with trio_asyncio.open_loop() as loop:
        async with streams.open("c1") as one, streams.open("c2") as two:
            assert trio_asyncio.current_loop.get() is loop
            got = await one.read(10)
            assert len(got) == 1
            assert await two.read(10) == []  # the group handed it to c1 only


async def test_without_a_loop_the_source_hosts_its_own(streams: Streams) -> None:
    s = streams.name()
    streams.publish(s, {"k": "v"})
    assert trio_asyncio.current_loop.get() is None
    async with streams.open() as source:
        assert trio_asyncio.current_loop.get() is not None
        assert len(await source.read(10)) == 1
    assert trio_asyncio.current_loop.get() is None


async def test_opening_while_redis_is_unreachable_waits_logs_and_cancels(
    streams: Streams,
) -> None:
    with trio.socket.socket() as sock:  # a port nobody listens on
        await sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with capture_logs() as logs, trio.move_on_after(0.5) as waited:
        async with RedisSignalSource.open(f"redis://127.0.0.1:{port}/0", [streams.name()],
                                          streams.group, "c1", backoff_initial_s=0.01,
                                          backoff_max_s=0.05):
            pytest.fail("opened without a server")
    assert waited.cancelled_caught
    failures = [e for e in logs if e["event"] == "redis_unavailable"]
    assert len(failures) >= 2 and failures[-1]["attempt"] == len(failures)
