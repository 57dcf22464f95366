"""Sweep: pick up orders that a worker which died left behind (several workers, one store).

A worker that dies after committing a decision and acknowledging its entry leaves a PENDING order
nobody will send; one that dies mid-send leaves a SUBMITTING or UNKNOWN order nobody will resolve;
its live orders go unwatched. Every worker looks, now and then, for orders untouched for
``orphan_after``: PENDING ones go to submit (which claims each once), unresolved ones are resolved
under the symbol's send lease — which a live sender holds for its whole send, so an order still
unresolved under it has no sender left — and live ones go under watch (watching twice is harmless:
fills are keyed by execution id).
"""

from __future__ import annotations

import logging

import trio

from hexexec.domain.errors import StoreUnavailable
from hexexec.domain.order_status import OrderStatus
from hexexec.services.engine import Engine, OrderTicket
from hexexec.services.resolve import resolve_order

log = logging.getLogger("hexexec.sweep")


async def sweep_orphans(
    engine: Engine,
    to_submit: trio.MemorySendChannel[OrderTicket],
    to_monitor: trio.MemorySendChannel[OrderTicket],
    stop: trio.Event,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Ready at once; sweeps every ``sweep_interval_s`` until ``stop`` (0 disables it). Closes its
    hand-over channels when it ends, so that submit can drain at a stop."""
    async with to_submit, to_monitor:
        task_status.started()
        interval = engine.options.sweep_interval_s
        if interval <= 0:
            return
        while not stop.is_set():
            with trio.move_on_after(interval):
                await stop.wait()
            if not stop.is_set():
                try:
                    await sweep_once(engine, to_submit, to_monitor)
                except StoreUnavailable as exc:
                    log.warning("sweep skipped: store unavailable", extra={"error": str(exc)})


async def sweep_once(
    engine: Engine,
    to_submit: trio.MemorySendChannel[OrderTicket],
    to_monitor: trio.MemorySendChannel[OrderTicket],
) -> int:
    """One pass; returns how many orders it handed over or resolved."""
    before = engine.clock.now() - engine.options.orphan_after
    async with engine.store.transaction() as uow:
        stale = [o for o in await uow.orders.with_status({
            OrderStatus.PENDING, OrderStatus.SUBMITTING, OrderStatus.UNKNOWN,
            OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED}) if o.updated_at < before]
    for order in stale:
        ticket = OrderTicket(order.client_order_id, order.symbol)
        if order.status is OrderStatus.PENDING:
            await to_submit.send(ticket)
        elif order.status.is_live:
            await to_monitor.send(ticket)
        else:
            async with engine.store.lease(engine.send_lease(order.symbol)) as lease:
                async with engine.store.transaction() as uow:
                    current = await uow.orders.get(order.client_order_id)
                if current is None or not current.status.is_unresolved:
                    continue
                log.warning("resolving an order another worker left unresolved",
                            extra={"client_order_id": order.client_order_id})
                resolved = await resolve_order(engine, current, lease)
            if resolved.status.is_live:
                await to_monitor.send(ticket)
    return len(stale)
