"""MemoryStreams keeps a Redis server's stream bookkeeping: ids, groups, PELs, claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.memory.stream_ids import parse_id
from adapters.memory.streams import MemoryStreams

T0 = datetime(2024, 5, 1, tzinfo=UTC)


class SteppedClock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_ids_follow_the_clock_and_never_go_back() -> None:
    clock = SteppedClock()
    s = MemoryStreams(clock)
    first = s.add("x", {"a": "1"})
    same_ms = s.add("x", {"a": "2"})
    clock.now = T0 - timedelta(seconds=5)  # the clock steps back
    earlier = s.add("x", {"a": "3"})
    clock.now = T0 + timedelta(milliseconds=7)
    later = s.add("x", {"a": "4"})
    ms = int(T0.timestamp() * 1000)
    assert [first, same_ms, earlier, later] == [f"{ms}-0", f"{ms}-1", f"{ms}-2", f"{ms + 7}-0"]
    with pytest.raises(ValueError):
        s.add("x", {"a": "5"}, message_id=f"{ms}-2")  # not above the last id
    assert s.add("x", {"a": "6"}, message_id=f"{ms + 9}-4") == f"{ms + 9}-4"


def test_a_group_at_dollar_skips_what_is_already_there() -> None:
    s = MemoryStreams()
    s.add("x", {"a": "old"})
    assert s.ensure_group("x", "g", "$")
    assert not s.ensure_group("x", "g", "0")  # already there: left as it is
    new = s.add("x", {"a": "new"})
    assert [m.message_id for m in s.read_group("g", "c", "x", ">", 10)] == [new]
    assert s.lag("x", "g") == 0
    with pytest.raises(LookupError):
        s.read_group("nope", "c", "x", ">", 10)


def test_autoclaim_takes_only_entries_idle_long_enough() -> None:
    clock = SteppedClock()
    s = MemoryStreams(clock)
    s.ensure_group("x", "g")
    old = [s.add("x", {"n": str(i)}) for i in range(3)]
    s.read_group("g", "dead", "x", ">", 10)
    clock.now += timedelta(seconds=60)
    fresh = s.add("x", {"n": "fresh"})
    s.read_group("g", "alive", "x", ">", 10)
    clock.now += timedelta(seconds=1)

    cursor, first = s.autoclaim("x", "g", "heir", min_idle_s=30, count=2)
    assert [m.message_id for m in first] == old[:2] and cursor == old[2]
    cursor, rest = s.autoclaim("x", "g", "heir", min_idle_s=30, start=cursor, count=2)
    assert [m.message_id for m in rest] == old[2:] and cursor == "0-0"
    assert {m.deliveries for m in first + rest} == {2}
    owners = {p.message_id: p.consumer for p in s.pending("x", "g")}
    assert owners == {**dict.fromkeys(old, "heir"), fresh: "alive"}
    assert all(p.idle_s == 0 for p in s.pending("x", "g", "heir"))


@given(st.lists(st.tuples(st.sampled_from(["add", "read", "history", "ack", "claim"]),
                          st.sampled_from(["c1", "c2"]), st.integers(1, 3)), max_size=60))
def test_every_entry_is_new_pending_once_or_acknowledged(ops: list[tuple[str, str, int]]) -> None:
    """Whatever the consumers do, an entry is never lost or owned twice: it is undelivered,
    pending with exactly one consumer, or acknowledged; counts only grow."""
    s = MemoryStreams()
    s.ensure_group("x", "g")
    acked: set[str] = set()
    counts: dict[str, int] = {}
    for op, consumer, n in ops:
        if op == "add":
            s.add("x", {"n": str(n)})
        elif op == "read":
            s.read_group("g", consumer, "x", ">", n)
        elif op == "history":
            s.read_group("g", consumer, "x", "0", n)
        elif op == "ack":
            mine = [p.message_id for p in s.pending("x", "g", consumer)][:n]
            assert s.ack("x", "g", mine) == len(mine)
            acked.update(mine)
        else:
            s.autoclaim("x", "g", consumer, 0, count=n)
        pending = s.pending("x", "g")
        for p in pending:
            assert p.deliveries >= counts.get(p.message_id, 1)
            counts[p.message_id] = p.deliveries
        ids = [p.message_id for p in pending]
        assert len(ids) == len(set(ids)) and not acked & set(ids)
        all_ids = [i for i, _ in s.entries("x")]
        delivered = all_ids[: len(all_ids) - s.lag("x", "g")]
        assert set(ids) | acked == set(delivered)
        assert ids == sorted(ids, key=parse_id)
