"""Waiting for the workers to finish, by condition with a generous deadline (never by timing)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
import redis
from psycopg import sql

FINAL = ("FILLED", "CANCELED", "REJECTED", "EXPIRED")


def settled(database_url: str, client: redis.Redis, stream: str, group: str,
            published: Sequence[str], schema: str | None = None) -> bool:
    """Every published entry has its signals row, is read and acknowledged, and every order has
    ended."""
    try:
        with psycopg.connect(database_url, connect_timeout=5) as conn:
            if schema:
                conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            row = conn.execute(
                "SELECT (SELECT count(*) FROM signals), "
                "(SELECT count(*) FROM orders WHERE NOT status = ANY(%s))", (list(FINAL),)).fetchone()
        info = {g["name"].decode(): g for g in client.xinfo_groups(stream)}[group]
    except (psycopg.OperationalError, redis.exceptions.RedisError):
        return False
    assert row is not None
    signals, open_orders = row
    read_all = info["last-delivered-id"].decode() == published[-1]
    return signals == len(published) and open_orders == 0 and info["pending"] == 0 and read_all


def wait_until(condition: Callable[[], bool], *, within: float, what: str, worker: Any = None,
               step: float = 0.25) -> None:
    """Poll ``condition`` until true; fail after ``within`` seconds, quoting the worker's log."""
    deadline = time.monotonic() + within
    while not condition():
        if worker is not None and not worker.alive():
            raise AssertionError(f"worker exited while waiting for {what}:\n{worker.output()[-3000:]}")
        if time.monotonic() > deadline:
            tail = worker.output()[-3000:] if worker is not None else ""
            raise AssertionError(f"not reached in {within:g} s: {what}\n{tail}")
        time.sleep(step)
