"""Helpers to see, from the server's side, a source's connection blocked in XREADGROUP."""

from __future__ import annotations

import trio

from tests.integration.redis.conftest import Streams


def reader_clients(streams: Streams, consumer: str) -> list[dict[str, str]]:
    """CLIENT LIST rows of ``consumer``'s dedicated reading connection(s)."""
    name = f"hexexec:{streams.group}:{consumer}:reader"
    rows = []
    for line in bytes(streams.cmd("CLIENT", "LIST")).decode().splitlines():
        row = dict(part.split("=", 1) for part in line.split(" ") if "=" in part)
        if row.get("name") == name:
            rows.append(row)
    return rows


async def wait_until_blocked(streams: Streams, consumer: str) -> int:
    """Wait until ``consumer`` is blocked in XREADGROUP on the server; its client id."""
    with trio.fail_after(10):  # a hang guard, not a timing assertion
        while True:
            for row in reader_clients(streams, consumer):
                if row.get("cmd") == "xreadgroup" and "b" in row.get("flags", ""):
                    return int(row["id"])
            await trio.sleep(0.01)
