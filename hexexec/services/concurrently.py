"""Run a handful of independent calls at once (the monitor's requests and bookings per symbol,
the reads of a unit of work).

Trio nurseries wrap failures in exception groups; the callers here handle broker and store
errors one by one, so the first failure cancels the other calls and is raised as itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import trio

T = TypeVar("T")


async def gather(calls: Sequence[Callable[[], Awaitable[T]]], limit: int) -> list[T]:
    """Await every call, at most ``limit`` at a time; their results in the calls' order.

    The first call to fail cancels the others (a cancelled transaction rolls back whole, a
    cancelled request is asked again at the next poll) and its exception is raised unwrapped.
    """
    results: list[Any] = [None] * len(calls)
    failures: list[Exception] = []
    limiter = trio.CapacityLimiter(max(1, limit))

    async with trio.open_nursery() as nursery:
        async def run(index: int, call: Callable[[], Awaitable[T]]) -> None:
            async with limiter:
                try:
                    results[index] = await call()
                except Exception as exc:
                    failures.append(exc)
                    nursery.cancel_scope.cancel()

        for index, call in enumerate(calls):
            nursery.start_soon(run, index, call)
    if failures:
        raise failures[0]
    return results


async def at_once(*calls: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Await every call together, with no limit; their results in order. For the independent
    reads of one unit of work, which a store may send in one round trip (the PostgreSQL one
    does); the results are typed by the caller, as they differ."""
    return await gather(calls, len(calls))
