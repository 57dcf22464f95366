"""Submit: send decided orders to the broker, each exactly once (DESIGN §3 steps 3–4, 6).

One lane per symbol sends that symbol's orders in runs, each under one taking of the symbol's
lease (shared by every worker on the store), a few sends in flight at once. A send that ends
ambiguous is resolved once every other send of its run has finished and been recorded, before
the lease is let go: so no look-alike order — ours or another worker's — is in flight, or
unrecorded, while the venue is searched for it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

import trio

from hexexec.domain.errors import BrokerRejected, BrokerUnavailable
from hexexec.domain.order_status import OrderStatus
from hexexec.domain.orders import Order
from hexexec.domain.records import SignalStatus
from hexexec.services.backoff import Backoff
from hexexec.services.concurrently import gather
from hexexec.services.engine import Engine, OrderTicket
from hexexec.services.resolve import resolve_order
from hexexec.services.store_retry import retry_store
from ports.store import Lease

log = logging.getLogger("hexexec.submit")
# Orders sent under one taking of a symbol's lease when they queue up: fewer round trips under
# load, and other workers of the symbol still get their turn.
LEASE_RUN = 20
# Sends of one symbol in flight at once within a run: at 50 ms a request, one at a time caps a
# symbol at 20 orders a second.
SENDS_AT_ONCE = 4


async def submit_orders(
    engine: Engine,
    incoming: trio.MemoryReceiveChannel[OrderTicket],
    to_monitor: trio.MemorySendChannel[OrderTicket],
    stop: trio.Event | None = None,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Route tickets to per-symbol lanes that send them. Ready at once; ends when ``incoming``
    closes and every lane has drained, or when cancelled (an order cut mid-send stays SUBMITTING
    and is resolved at the next start). Once ``stop`` is set, lanes finish the sends in flight and
    start no other: the rest stay PENDING for the next start, and the grace period covers a few
    sends per symbol instead of a whole queue."""
    stop = stop if stop is not None else trio.Event()
    lanes: dict[str, trio.MemorySendChannel[str]] = {}
    async with trio.open_nursery() as nursery:
        task_status.started()
        async with incoming:
            async for ticket in incoming:
                lane = lanes.get(ticket.symbol)
                if lane is None:
                    lane, lane_in = trio.open_memory_channel[str](engine.options.queue_size)
                    lanes[ticket.symbol] = lane
                    nursery.start_soon(_run_lane, engine, ticket.symbol, lane_in, to_monitor, stop)
                await lane.send(ticket.client_order_id)
        for lane in lanes.values():
            await lane.aclose()


async def _run_lane(
    engine: Engine,
    symbol: str,
    lane_in: trio.MemoryReceiveChannel[str],
    to_monitor: trio.MemorySendChannel[OrderTicket],
    stop: trio.Event,
) -> None:
    async with lane_in:
        async for client_order_id in lane_in:
            if stop.is_set():
                continue  # left PENDING: recovery hands it over again at the next start
            # Kept across the attempts: sends left unresolved by an attempt cut short (the
            # store, or the lease, lost) are resolved by the next one.
            unresolved: list[Order] = []
            await retry_store(engine, "send", partial(
                _send_under_lease, engine, client_order_id, symbol, lane_in, to_monitor, stop,
                unresolved))


async def _send_under_lease(
    engine: Engine,
    first: str,
    symbol: str,
    lane_in: trio.MemoryReceiveChannel[str],
    to_monitor: trio.MemorySendChannel[OrderTicket],
    stop: trio.Event,
    unresolved: list[Order],
) -> None:
    """Send ``first`` and what has queued up behind it (a run of up to LEASE_RUN orders, up to
    SENDS_AT_ONCE of them in flight together) under one taking of the symbol's lease, then
    resolve any send that ended ambiguous (those of ``unresolved`` too, left by an earlier
    attempt). Run again if the lease could not be taken, or was found lost: submit_order never
    sends an order it did not claim itself."""

    async def send(client_order_id: str) -> None:
        if stop.is_set() and client_order_id != first:
            return  # left PENDING: recovery hands it over again at the next start
        order = await submit_order(engine, client_order_id, symbol)
        if order is not None and order.status.is_unresolved:
            if all(o.client_order_id != order.client_order_id for o in unresolved):
                unresolved.append(order)
        elif order is not None and order.order_id is not None:
            await to_monitor.send(OrderTicket(order.client_order_id, order.symbol, order))

    # The symbol's lease spans the sends and the resolutions: no other worker has a look-alike
    # order of this symbol in flight while the venue is searched.
    asked = trio.current_time()
    async with engine.store.lease(engine.send_lease(symbol)) as lease:
        engine.metrics.step_duration("lease", trio.current_time() - asked)
        # Taken from the lane only now that the lease is held: if taking it fails, this is
        # run again from ``first`` and nothing queued has been lost.
        run = [first]
        while len(run) < LEASE_RUN:
            try:
                run.append(lane_in.receive_nowait())
            except (trio.WouldBlock, trio.EndOfChannel):
                break
        await gather([partial(send, cid) for cid in run], SENDS_AT_ONCE)
        # Only now, with none of this run's sends in flight (each one that reached the venue is
        # recorded with its venue id), can a look-alike on the venue be told apart: resolve.
        # (A lease found lost stops this with StoreUnavailable: the run is taken again from
        # ``first`` under the lease taken again, and what is still unresolved is resolved then.)
        while unresolved:
            resolved = await resolve_order(engine, unresolved[0], lease)
            unresolved.pop(0)
            if resolved.status.is_live:
                await to_monitor.send(OrderTicket(resolved.client_order_id, resolved.symbol,
                                                  resolved))


async def submit_order(engine: Engine, client_order_id: str, symbol: str, *,
                       lease: Lease | None = None) -> Order | None:
    """Send one PENDING order; returns it as it ended up, or None if it was not ours to send.
    An order left unresolved (the send was ambiguous, or it was found claimed by someone else)
    is resolved here under ``lease`` (the symbol's send lease, held by the caller), or, without
    one, returned so that the caller resolves it once none of its other sends of the symbol is
    in flight.

    Maintenance or a rate limit means "not taken, come back later": the order goes back to
    PENDING and is retried after a backoff — and expires if it grows too old meanwhile.
    """
    backoff = Backoff(max_s=engine.options.backoff_max_s)
    while True:
        with engine.timed("claim"):
            order, claimed = await retry_store(
                engine, "claim", partial(_claim, engine, client_order_id, symbol))
        if order is not None and not claimed and order.status.is_unresolved:
            # Claimed by someone else — another worker that died mid-send, or our own claim
            # whose commit reply was lost — and not resolved yet. It may have reached the
            # venue, so it is never sent again: resolve it (the caller holds the lease).
            return order if lease is None else await resolve_order(engine, order, lease)
        if order is None or not claimed:
            return order
        sent = trio.current_time()
        try:
            venue_id = await engine.broker.place(order.intent)
        except BrokerUnavailable as exc:
            engine.metrics.venue_unavailable(True)
            await _update(engine, order, OrderStatus.PENDING, submitted_at=None)
            delay = backoff.delay(exc.retry_after)
            log.warning("venue unavailable, order waits", extra={
                "client_order_id": client_order_id, "code": exc.code, "retry_in_s": delay})
            await trio.sleep(delay)
            continue
        except BrokerRejected as exc:
            engine.metrics.submit_latency(trio.current_time() - sent)
            log.info("order rejected by the venue", extra={
                "client_order_id": client_order_id, "code": exc.code, "venue_message": exc.message})
            return await _update(engine, order, OrderStatus.REJECTED,
                                 reject_code=exc.code, reason=exc.message)
        except Exception as exc:  # anything unclear after sending is ambiguous: never resend
            log.warning("order send ambiguous: resolving", extra={
                "client_order_id": client_order_id, "error": repr(exc)})
            unknown = await _update(engine, order, OrderStatus.UNKNOWN, reason=repr(exc)[:500])
            if unknown is None or unknown.status is not OrderStatus.UNKNOWN or lease is None:
                return unknown
            return await resolve_order(engine, unknown, lease)
        engine.metrics.submit_latency(trio.current_time() - sent)
        engine.metrics.venue_unavailable(False)
        return await _update(engine, order, OrderStatus.NEW, order_id=venue_id)


async def _claim(engine: Engine, client_order_id: str, symbol: str) -> tuple[Order | None, bool]:
    """PENDING → SUBMITTING (committed before the send), or EXPIRED if too old to trade. Returns
    the order and whether this call claimed it for sending: only then may it be sent.

    Under the symbol lock, so of several tasks or workers handed the same order only one sends it.
    The order is read and changed with the commit: one round trip. Only a PENDING order too old
    to send takes another transaction, which expires it.
    """
    # Read before the lock is waited for: a wait of a few milliseconds makes the send time a few
    # milliseconds early, far inside what resolving an ambiguous send allows for (resolve_skew).
    now = engine.clock.now()
    max_age = engine.options.max_signal_age
    async with engine.store.transaction(lock=engine.symbol_lock(symbol)) as uow:
        claim = await uow.orders.change_at_commit(client_order_id, partial(
            _submitting, now=now, max_age=max_age))
    if claim.value is None:
        return None, False
    before, after = claim.value
    if after is not before:
        engine.metrics.order_status(after.status.value)
        return after, True
    if before.status is not OrderStatus.PENDING:
        return before, False  # sent, being sent, or resolved by someone else
    return await _claim_or_expire(engine, client_order_id, symbol)


def _submitting(order: Order, *, now: datetime, max_age: timedelta) -> Order:
    """The order claimed for sending if it is PENDING and young enough; else as it is."""
    if order.status is not OrderStatus.PENDING or now - order.signal_time > max_age:
        return order
    return order.moved_to(OrderStatus.SUBMITTING, now, submitted_at=now)


async def _claim_or_expire(engine: Engine, client_order_id: str, symbol: str
                           ) -> tuple[Order | None, bool]:
    """A PENDING order found too old to send, looked at again under the symbol lock: EXPIRED
    (or as it is now, if someone changed it meanwhile)."""
    async with engine.store.transaction(lock=engine.symbol_lock(symbol)) as uow:
        order = await uow.orders.get(client_order_id)
        if order is None or order.status is not OrderStatus.PENDING:
            return order, False
        now = engine.clock.now()
        result = _submitting(order, now=now, max_age=engine.options.max_signal_age)
        if result is order:  # too old to send
            age = (now - order.signal_time).total_seconds()
            max_age = engine.options.max_signal_age.total_seconds()
            reason = f"signal is {age:.1f}s old when it would be sent (MAX_SIGNAL_AGE_S={max_age:g})"
            result = order.moved_to(OrderStatus.EXPIRED, now, reason=reason)
            await uow.signals.set_status(order.source, SignalStatus.EXPIRED, reason)
        await uow.orders.update(result)
    engine.metrics.order_status(result.status.value)
    if result.status is OrderStatus.EXPIRED:
        log.info("order expired before sending", extra={"client_order_id": client_order_id})
    return result, result.status is OrderStatus.SUBMITTING


async def _update(engine: Engine, order: Order, status: OrderStatus, **changes: object) -> Order | None:
    """Record the send's outcome, if the order is still SUBMITTING (nobody resolved it meanwhile).
    Waits out a store outage: the outcome of a send must not be dropped."""
    with engine.timed("record"):
        return await retry_store(engine, "send outcome",
                                 partial(_record, engine, order, status, changes))


async def _record(engine: Engine, order: Order, status: OrderStatus, changes: dict[str, object]
                  ) -> Order | None:
    now = engine.clock.now()

    def outcome(current: Order) -> Order:
        if current.status is not OrderStatus.SUBMITTING:
            return current  # resolved meanwhile (by a sweep, say): theirs stands
        return current.moved_to(status, now, **changes)

    async with engine.store.transaction(lock=engine.symbol_lock(order.symbol)) as uow:
        recorded = await uow.orders.change_at_commit(order.client_order_id, outcome)
    if recorded.value is None:
        return None
    before, after = recorded.value
    if after is not before:
        engine.metrics.order_status(after.status.value)
    return after
