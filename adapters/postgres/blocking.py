"""Run a blocking psycopg call on a worker thread without ever losing track of it.

psycopg's synchronous driver is hosted under trio on worker threads (one short hop per store
call). Trio cannot interrupt a thread, so a call is never abandoned: the connection it uses must
not be handed to anyone else while the thread still runs. Instead, when the caller is cancelled
while the call runs, ``on_cancel`` runs on a second thread — for a query, it asks the server to
cancel it (``Connection.cancel_safe``), so the query ends at once with ``QueryCanceled`` — and
once both threads are done the caller gets ``trio.Cancelled`` as usual.

This is :func:`trio.to_thread.run_sync` with a hook on the abort path, built on the same two
primitives (``start_thread_soon`` and ``wait_task_rescheduled``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import outcome
import trio

T = TypeVar("T")


async def call_in_thread(
    fn: Callable[[], T], on_cancel: Callable[[], object] | None = None
) -> tuple[outcome.Outcome[T], bool]:
    """Run ``fn`` on a worker thread and wait until it has returned.

    Returns its outcome and whether the caller was cancelled meanwhile. The caller must then
    deal with the outcome (release what it holds) and let the cancellation through with a
    checkpoint; :func:`run_blocking` does exactly that for calls that hold nothing.
    """
    await trio.lowlevel.checkpoint_if_cancelled()
    task = trio.lowlevel.current_task()
    token = trio.lowlevel.current_trio_token()
    result: list[outcome.Outcome[T]] = []
    pending = 1
    cancelled = False

    def one_done() -> None:  # runs in the trio thread
        nonlocal pending
        pending -= 1
        if pending == 0:
            trio.lowlevel.reschedule(task)

    def call_done(value: outcome.Outcome[outcome.Outcome[T]]) -> None:
        def deliver() -> None:
            result.append(value.unwrap())  # capture() never raises: the inner outcome
            one_done()

        token.run_sync_soon(deliver)

    def abort(_raise_cancel: object) -> trio.lowlevel.Abort:
        nonlocal cancelled, pending
        if not cancelled and on_cancel is not None:
            pending += 1
            trio.lowlevel.start_thread_soon(
                lambda: outcome.capture(on_cancel),  # a failed cancel: the timeout still ends it
                lambda _: token.run_sync_soon(one_done),
            )
        cancelled = True
        # FAILED: stay asleep until rescheduled; the cancellation is delivered afterwards.
        return trio.lowlevel.Abort.FAILED

    trio.lowlevel.start_thread_soon(lambda: outcome.capture(fn), call_done)
    await trio.lowlevel.wait_task_rescheduled(abort)
    return result[0], cancelled


async def run_blocking(fn: Callable[[], T], on_cancel: Callable[[], object] | None = None) -> T:
    """Run ``fn`` on a worker thread; on cancellation run ``on_cancel``, wait, then raise."""
    result, cancelled = await call_in_thread(fn, on_cancel)
    if cancelled:
        await trio.lowlevel.checkpoint()  # raises Cancelled: the scope is still cancelled
    return result.unwrap()
