"""Recover: settle what a previous run left behind, before any new signal is read (DESIGN §3).

SUBMITTING and UNKNOWN orders are resolved on the venue (never resent); live orders go back under
watch; PENDING orders, decided but never sent, go to submit (which expires them if too old).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial

import trio

from hexexec.domain.order_status import OrderStatus
from hexexec.domain.orders import Order
from hexexec.services.engine import Engine, OrderTicket
from hexexec.services.resolve import resolve_order
from hexexec.services.store_retry import retry_store

log = logging.getLogger("hexexec.recover")


async def recover(
    engine: Engine,
    to_submit: trio.MemorySendChannel[OrderTicket],
    to_monitor: trio.MemorySendChannel[OrderTicket],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Resolve every unresolved order, then hand live orders to the monitor and PENDING ones to
    submit. Calls ``started()`` only when all of that is done (so intake starts after it), then
    returns. Submit and monitor must already be running: the hand-over channels are bounded."""
    unresolved = await retry_store(engine, "recovery", partial(
        _with_status, engine, {OrderStatus.SUBMITTING, OrderStatus.UNKNOWN}))
    if unresolved:
        log.warning("resolving orders left unresolved", extra={"count": len(unresolved)})
    # Oldest first, one at a time: an earlier look-alike order adopts its venue order first.
    for order in unresolved:
        resolved = await retry_store(engine, "recovery", partial(_resolve, engine, order))
        log.info("resolved", extra={"client_order_id": order.client_order_id,
                                    "status": resolved.status.value, "order_id": resolved.order_id})
    live = await retry_store(engine, "recovery", partial(
        _with_status, engine, {OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED}))
    pending = await retry_store(engine, "recovery", partial(
        _with_status, engine, {OrderStatus.PENDING}))
    async with to_submit, to_monitor:  # this task's handles: closed once its hand-over is done
        for order in live:
            await to_monitor.send(OrderTicket(order.client_order_id, order.symbol))
        for order in pending:
            await to_submit.send(OrderTicket(order.client_order_id, order.symbol))
    log.info("recovery done", extra={
        "resolved": len(unresolved), "watching": len(live), "resubmitting": len(pending)})
    task_status.started()


async def _resolve(engine: Engine, order: Order) -> Order:
    async with engine.store.lease(engine.send_lease(order.symbol)) as lease:
        return await resolve_order(engine, order, lease)


async def _with_status(engine: Engine, statuses: set[OrderStatus]) -> Sequence[Order]:
    async with engine.store.transaction() as uow:
        return await uow.orders.with_status(statuses)
