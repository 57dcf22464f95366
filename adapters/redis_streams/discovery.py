"""Which streams to read: names as given, and glob patterns resolved with SCAN (DESIGN §1).

A pattern such as ``signal:*`` matches keys of type stream only, never a dead-letter stream
(``*:dlq``), and is resolved again periodically by the source. Each stream gets the consumer
group if it has none, starting at id ``0``: entries published before the group existed are
read too (with ``$`` a worker started after the strategy would silently skip them; replaying
old entries is harmless, as the core's inbox is keyed by stream and id and old signals expire).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from redis import exceptions as rx

from adapters.redis_streams import replies
from adapters.redis_streams.link import RedisLink

DLQ_SUFFIX = ":dlq"
GROUP_START_ID = "0"


def is_pattern(name: str) -> bool:
    return any(c in name for c in "*?[")


async def ensure_group(link: RedisLink, stream: str, group: str, *, create_stream: bool) -> bool:
    """Create ``group`` on ``stream`` (and the stream itself if ``create_stream``). False when the
    stream does not exist and may not be created (a matched stream deleted since)."""
    args = ["XGROUP", "CREATE", stream, group, GROUP_START_ID]
    if create_stream:
        args.append("MKSTREAM")
    try:
        await link.command(*args)
    except rx.ResponseError as exc:
        message = str(exc)
        if message.startswith("BUSYGROUP"):
            return True  # it exists already: the usual case after the first start
        if "requires the key to exist" in message:
            return False
        raise
    return True


async def scan_streams(link: RedisLink, pattern: str, page_size: int) -> list[str]:
    """Existing streams whose names match ``pattern``, dead-letter streams left out."""
    found: set[str] = set()
    cursor = 0
    while True:
        reply = await link.command("SCAN", cursor, "MATCH", pattern, "COUNT", page_size,
                                   "TYPE", "stream")
        cursor, keys = replies.scan(reply)
        for key in keys:
            try:
                name = key.decode("utf-8")
            except UnicodeDecodeError:
                continue  # not a name a signal ref can carry; nobody publishes signals there
            if not name.endswith(DLQ_SUFFIX):
                found.add(name)
        if cursor == 0:
            return sorted(found)


async def resolve(link: RedisLink, names: Sequence[str], group: str, page_size: int,
                  known: Collection[str] = ()) -> list[str]:
    """The streams to read now, each with the group in place (streams in ``known`` are taken to
    have it). Plain names are created if missing (the strategy may start later); patterns yield
    only streams that exist."""
    out: list[str] = []
    for name in names:
        if is_pattern(name):
            for stream in await scan_streams(link, name, page_size):
                if stream in out:
                    continue
                if stream in known or await ensure_group(link, stream, group,
                                                         create_stream=False):
                    out.append(stream)
        elif name not in out:
            if name not in known:
                await ensure_group(link, name, group, create_stream=True)
            out.append(name)
    return out
