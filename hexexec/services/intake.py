"""Intake: read signals, decide each, then acknowledge (DESIGN §3 steps 1–2)."""

from __future__ import annotations

import logging
from functools import partial

import trio

from hexexec.domain.order_status import OrderStatus
from hexexec.domain.orders import Order
from hexexec.domain.records import SignalStatus
from hexexec.domain.signal import MessageRef
from hexexec.services.decide import Outcome, decide_batch
from hexexec.services.engine import Engine, OrderTicket
from hexexec.services.store_retry import retry_store

log = logging.getLogger("hexexec.intake")


async def consume_signals(
    engine: Engine,
    to_submit: trio.MemorySendChannel[OrderTicket],
    stop: trio.Event | None = None,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Read batches from the signal source, decide each entry, acknowledge after the commit.

    Ready at once (``started()`` before the first read). Runs until cancelled, or until ``stop``
    is set: then the batch in hand is finished, no new batch is read (the source's block timeout
    bounds the wait), and ``to_submit`` is closed so submit can drain and end. Cancellation is
    safe anywhere: an entry is acknowledged only after its decision committed, and deciding an
    entry again is harmless, so a cut batch is simply redelivered. Accepted orders are handed to
    ``to_submit`` (bounded: a slow broker slows reading). A redelivered entry whose order is still
    PENDING is handed over again: its first reader may have died before submitting it (submit
    claims an order once, so a double hand-over is harmless).
    """
    stop = stop if stop is not None else trio.Event()
    async with to_submit:
        task_status.started()
        while not stop.is_set():
            await _one_batch(engine, to_submit)


async def _one_batch(engine: Engine, to_submit: trio.MemorySendChannel[OrderTicket]) -> None:
    metrics = engine.metrics
    batch = await engine.source.read(engine.options.read_batch)
    if not batch:
        return
    for message in batch:
        metrics.signal_received(message.ref.stream)
    # One transaction for the whole batch (run again whole if the store was unavailable).
    with engine.timed("decide"):
        results = await retry_store(engine, "decide", partial(decide_batch, engine, batch))
    acks: list[MessageRef] = []
    for message, decided in zip(batch, results, strict=True):
        metrics.signal_decided(decided.outcome.value, decided.rules)
        invalid = decided.outcome is Outcome.INVALID or (
            decided.outcome is Outcome.REDELIVERY and decided.previous is SignalStatus.INVALID
        )
        if invalid:
            # The DLQ copy and its ack are one atomic step of the source.
            await engine.source.dead_letter(message, decided.reason or "invalid")
            metrics.dead_lettered(message.ref.stream)
            continue
        acks.append(message.ref)
        # Handed over before the batch is acknowledged: submit's queue is bounded, so a slow
        # venue holds reading — and the entries stay pending, for another worker to take over
        # if this one dies (deciding them again finds the PENDING order and hands it over).
        if decided.client_order_id and decided.symbol:
            await to_submit.send(OrderTicket(decided.client_order_id, decided.symbol))
        elif decided.outcome is Outcome.REDELIVERY and decided.previous is SignalStatus.ACCEPTED:
            order = await retry_store(engine, "redelivery", partial(_order_of, engine, message.ref))
            if order is not None and order.status is OrderStatus.PENDING:
                await to_submit.send(OrderTicket(order.client_order_id, order.symbol))
    if acks:
        await engine.source.ack(acks)


async def _order_of(engine: Engine, ref: MessageRef) -> Order | None:
    async with engine.store.transaction() as uow:
        return await uow.orders.for_signal(ref)
