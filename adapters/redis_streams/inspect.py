"""Operator views of the streams (``hexexec status`` and ``hexexec dlq``): lag, pending entries,
dead letters, and replaying a dead letter. Blocking redis-py: these run in a CLI, not the worker."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

import redis

DLQ_SUFFIX = ":dlq"
DLQ_EXTRA = (b"reason", b"source_stream", b"source_id")


@dataclass(frozen=True)
class StreamStatus:
    stream: str
    length: int
    lag: int | None  # entries not yet delivered to the group (None: unknown / no group)
    pending: int  # delivered, not acknowledged
    dead_letters: int


def _client(url: str) -> Any:
    # Typed loosely: redis-py's stubs describe decoded and raw replies as one union.
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def resolve_streams(client: Any, patterns: list[str]) -> list[str]:
    found: set[str] = set()
    for pattern in patterns:
        if not any(ch in pattern for ch in "*?["):
            found.add(pattern)
            continue
        for key in client.scan_iter(match=pattern, count=1000, _type="STREAM"):
            name = key.decode()
            if not name.endswith(DLQ_SUFFIX) and fnmatch.fnmatchcase(name, pattern):
                found.add(name)
    return sorted(found)


def stream_status(url: str, patterns: list[str], group: str) -> list[StreamStatus]:
    client = _client(url)
    try:
        out = []
        for stream in resolve_streams(client, patterns):
            length = int(client.xlen(stream))
            lag: int | None = None
            pending = 0
            try:
                for info in client.xinfo_groups(stream):
                    if info["name"].decode() == group:
                        lag = None if info.get("lag") is None else int(info["lag"])
                        pending = int(info["pending"])
            except redis.ResponseError:
                pass  # no such stream yet
            out.append(StreamStatus(stream, length, lag, pending, int(client.xlen(stream + DLQ_SUFFIX))))
        return out
    finally:
        client.close()


def dead_letters(url: str, stream: str, count: int = 100) -> list[tuple[str, dict[bytes, bytes]]]:
    """The oldest ``count`` dead letters of ``stream`` (with their reason and source fields)."""
    client = _client(url)
    try:
        entries: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange(stream + DLQ_SUFFIX, count=count)
        return [(i.decode(), dict(f)) for i, f in entries]
    finally:
        client.close()


def replay_dead_letter(url: str, stream: str, dlq_id: str) -> str:
    """Publish a dead letter's original fields again on its source stream, as a new entry, and
    remove it from the dead-letter stream (one MULTI). Returns the new entry's id.

    The new entry has a new id, so it is decided afresh: replay only what you have fixed."""
    client = _client(url)
    try:
        entries: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange(
            stream + DLQ_SUFFIX, min=dlq_id, max=dlq_id)
        if not entries:
            raise LookupError(f"no dead letter {dlq_id} on {stream}{DLQ_SUFFIX}")
        original = entries[0][1]
        fields = {k: v for k, v in original.items() if k not in DLQ_EXTRA}
        source = original.get(b"source_stream", stream.encode()).decode()
        pipe = client.pipeline(transaction=True)
        pipe.xadd(source, fields)
        pipe.xdel(stream + DLQ_SUFFIX, dlq_id)
        new_id, _ = pipe.execute()
        return bytes(new_id).decode()
    finally:
        client.close()


def ping(url: str, timeout_s: float) -> None:
    """Raise ``ConnectionError`` with the cause unless Redis at ``url`` answers within the timeout."""
    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ConnectionError(str(exc) or type(exc).__name__) from None
    finally:
        client.close()
