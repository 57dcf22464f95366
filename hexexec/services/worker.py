"""The engine's task tree (DESIGN §2): monitor, submit, recover, then intake, plus the drift check.

Start order is the safety order: monitor and submit wait on their channels; recovery settles the
previous run's orders; only then is the first signal read. On ``stop``, intake stops reading and
finishes its batch, submit drains what it was handed, all within the grace period; then everything
else is cancelled, leaving open orders to the next start.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import trio

from hexexec.domain.errors import BrokerError, BrokerUnavailable
from hexexec.services.backoff import Backoff
from hexexec.services.drift import check_drift
from hexexec.services.engine import Engine, OrderTicket
from hexexec.services.intake import consume_signals
from hexexec.services.monitor import monitor_orders
from hexexec.services.recover import recover
from hexexec.services.submit import submit_orders
from hexexec.services.sweep import sweep_orphans

log = logging.getLogger("hexexec.worker")


class StartupError(RuntimeError):
    """The engine cannot start (e.g. a configured symbol the venue does not list)."""


async def load_rules(engine: Engine) -> Engine:
    """Fetch the venue's symbol rules once and keep those of the configured symbols.

    A venue in maintenance (or briefly unreachable) at start-up is waited for, with backoff: the
    worker must come up by itself once the venue does."""
    backoff = Backoff(max_s=engine.options.backoff_max_s)
    while True:
        try:
            rules = await engine.broker.symbol_rules()
            break
        except BrokerUnavailable as exc:
            delay = backoff.delay(exc.retry_after)
        except BrokerError as exc:
            delay = backoff.delay()
            log.warning("symbol rules unavailable", extra={"error": str(exc)})
        log.warning("venue unavailable at start, waiting", extra={"retry_in_s": delay})
        await trio.sleep(delay)
    missing = sorted(engine.options.symbols - set(rules))
    if missing:
        raise StartupError(f"SYMBOLS: the venue does not list {', '.join(missing)}")
    return replace(engine, rules={s: rules[s] for s in engine.options.symbols})


async def _flag_when_done(
    done: trio.Event,
    task: Callable[..., Awaitable[None]],
    *args: Any,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    try:
        await task(*args, task_status=task_status)
    finally:
        done.set()


async def run_engine(
    engine: Engine,
    *,
    stop: trio.Event | None = None,
    task_status: trio.TaskStatus[Engine] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run every service. ``started()`` (with the engine, rules loaded) only once recovery has
    finished and intake is reading: that is when the worker is ready. Returns after ``stop`` is
    set and the grace period is over (or everything drained), or runs until cancelled."""
    engine = await load_rules(engine)
    stop = stop if stop is not None else trio.Event()
    size = engine.options.queue_size
    submit_in, submit_out = trio.open_memory_channel[OrderTicket](size)
    monitor_in, monitor_out = trio.open_memory_channel[OrderTicket](size)
    submitted = trio.Event()
    async with trio.open_nursery() as nursery:
        await nursery.start(monitor_orders, engine, monitor_out)
        await nursery.start(_flag_when_done, submitted, submit_orders, engine, submit_out,
                            monitor_in, stop)
        async with submit_in:
            await nursery.start(recover, engine, submit_in.clone(), monitor_in.clone())
            await nursery.start(consume_signals, engine, submit_in.clone(), stop)
            await nursery.start(sweep_orphans, engine, submit_in.clone(), monitor_in.clone(), stop)
        await nursery.start(check_drift, engine)
        engine.metrics.ready(True)
        log.info("engine ready", extra={"symbols": sorted(engine.options.symbols)})
        task_status.started(engine)
        await stop.wait()
        log.info("stopping: intake ends its batch, submit drains",
                 extra={"grace_s": engine.options.shutdown_grace_s})
        engine.metrics.ready(False)
        with trio.move_on_after(engine.options.shutdown_grace_s):
            await submitted.wait()
        nursery.cancel_scope.cancel()
    log.info("engine stopped")
