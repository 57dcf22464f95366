"""Dead letters and acks on the real Redis: one MULTI/EXEC, exact copies, no second copy."""

from __future__ import annotations

import pytest

from adapters.redis_streams import DeadLetterRefused
from hexexec.domain.signal import MessageRef
from tests.integration.redis.conftest import Streams

pytestmark = pytest.mark.redis


async def test_a_dead_letter_is_the_exact_entry_plus_why_and_where_from(streams: Streams) -> None:
    s = streams.name()
    fields = ((b"size", b"1"), (b"size", b"2"), (b"\xff", b"\x00\xfe"))
    bad = streams.publish(s, fields)
    async with streams.open() as source:
        (message,) = await source.read(10)
        await source.dead_letter(message, "size is ambiguous ✗")
        assert streams.pending(s) == []
        (copy,) = streams.entries(s + ":dlq")
        assert copy[1] == (
            *fields,
            (b"reason", "size is ambiguous ✗".encode()),
            (b"source_stream", s.encode()),
            (b"source_id", bad.encode()),
        )
        await source.dead_letter(message, "again")  # e.g. repeated after a lost reply
    assert len(streams.entries(s + ":dlq")) == 1


async def test_a_dead_letter_stream_key_of_another_type_refuses_and_keeps_the_entry(
    streams: Streams,
) -> None:
    s = streams.name()
    kept = streams.publish(s, {"k": "v"})
    streams.cmd("SET", s + ":dlq", "in the way")  # a MULTI would still XACK after XADD failed
    async with streams.open() as source:
        (message,) = await source.read(10)
        with pytest.raises(DeadLetterRefused):
            await source.dead_letter(message, "bad")
    assert [p.message_id for p in streams.pending(s)] == [kept]


async def test_dead_letter_streams_are_never_read_as_signals(streams: Streams) -> None:
    s = streams.name()
    streams.publish(s, {"k": "v"})
    async with streams.open(streams=[streams.prefix + ":*"]) as source:
        (message,) = await source.read(10)
        await source.dead_letter(message, "bad")
        assert source.streams == (s,)
        assert await source.read(10) == []
    assert len(streams.entries(s + ":dlq")) == 1


async def test_acks_are_idempotent_and_ignore_unknown_entries(streams: Streams) -> None:
    s = streams.name()
    one, two = streams.publish(s, {"n": "1"}), streams.publish(s, {"n": "2"})
    async with streams.open() as source:
        await source.read(10)
        await source.ack([MessageRef(s, one)])
        await source.ack([MessageRef(s, one), MessageRef(s, "1-1"),
                          MessageRef(streams.name("nowhere"), one)])
        await source.ack([])
        assert [p.message_id for p in streams.pending(s)] == [two]
        async with streams.open() as restarted:
            assert [m.ref.message_id for m in await restarted.read(10)] == [two]
