"""Run store work again when the store is briefly unavailable (DESIGN §3: every step re-runnable).

A lost PostgreSQL connection, a server restart or a statement timeout must not stop the worker:
the unit of work was rolled back (or, if the connection died inside the commit, perhaps
committed), and every unit of work the services run checks the stored state before it changes
anything, so running it again is harmless. Only store work goes through here — never a send.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import trio

from hexexec.domain.errors import StoreUnavailable
from hexexec.services.backoff import Backoff
from hexexec.services.engine import Engine

log = logging.getLogger("hexexec.store")
T = TypeVar("T")


async def retry_store(engine: Engine, what: str, work: Callable[[], Awaitable[T]]) -> T:
    """``await work()`` until the store takes it, waiting with backoff in between.

    ``work`` must be safe to run again after a failure at any point of its transactions (it is:
    each re-reads what it changes under the symbol's lock). Cancellation ends the wait.
    """
    backoff = Backoff(first_s=0.1, max_s=engine.options.backoff_max_s)
    while True:
        try:
            return await work()
        except StoreUnavailable as exc:
            delay = backoff.delay()
            log.warning("store unavailable, will run again", extra={
                "work": what, "error": str(exc), "retry_in_s": delay})
            await trio.sleep(delay)
