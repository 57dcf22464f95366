"""Monitor: watch every open order until the venue says it has ended (DESIGN §3 step 5).

One ``monitor_order`` task per order holds that order's deadline (a cancel scope): at the
deadline it asks the venue to cancel and keeps watching, since a fill can still arrive after a
cancel. One ``poll_orders`` task queries the venue for all watched orders in batches of ten (GMO's
``/v1/orders`` limit) and wakes the order tasks whose orders have ended.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

import trio

from hexexec.domain.errors import (
    BrokerError,
    BrokerUnavailable,
    OrderNotCancellable,
    OrderNotFound,
    StoreUnavailable,
)
from hexexec.domain.fills import Fill
from hexexec.domain.orders import Order
from hexexec.domain.signal import OrderType
from hexexec.domain.venue import VenueOrder
from hexexec.services.backoff import Backoff
from hexexec.services.bookkeeping import VenueUpdate, apply_venue_states
from hexexec.services.concurrently import gather
from hexexec.services.engine import Engine, OrderTicket
from hexexec.services.store_retry import retry_store

log = logging.getLogger("hexexec.monitor")
BATCH = 10
LATEST_FILLS = 100  # one GMO page of latestExecutions
AT_ONCE = 4  # requests, or bookings of different symbols, in flight at once


@dataclass
class Watch:
    ticket: OrderTicket
    order_id: str | None = None
    filled: Decimal = Decimal("0")
    ended: trio.Event = field(default_factory=trio.Event)


async def monitor_orders(
    engine: Engine,
    incoming: trio.MemoryReceiveChannel[OrderTicket],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Start a watch for each ticket received (once per order) and poll them all.

    Ready at once. Runs until cancelled; orders still open then are picked up by the next start.
    """
    watches: dict[str, Watch] = {}
    async with trio.open_nursery() as nursery:
        nursery.start_soon(poll_orders, engine, watches)
        task_status.started()
        async with incoming:
            async for ticket in incoming:
                if ticket.client_order_id in watches:
                    continue
                watch = Watch(ticket)
                watches[ticket.client_order_id] = watch
                nursery.start_soon(monitor_order, engine, watch, watches)


def _timeout_s(engine: Engine, order: Order) -> float:
    opts = engine.options
    limit = opts.market_order_timeout
    if order.intent.order_type is OrderType.LIMIT:
        limit = opts.order_timeout
    start = order.submitted_at or order.created_at
    return (start + limit - engine.clock.now()).total_seconds()


async def monitor_order(engine: Engine, watch: Watch, watches: dict[str, Watch]) -> None:
    """Wait for the order to end; at its deadline ask for a cancel, then keep waiting."""
    cid = watch.ticket.client_order_id
    try:
        order = watch.ticket.order  # as submit stored it, when it comes from submit
        if order is None:
            order = await retry_store(engine, "watch", partial(_stored_order, engine, cid))
        if order is None or order.order_id is None or order.status.is_final:
            return
        watch.filled = order.filled_size
        watch.order_id = order.order_id  # from here on the poller includes it
        with trio.move_on_after(max(0.0, _timeout_s(engine, order))):
            await watch.ended.wait()
        if not watch.ended.is_set():
            await _cancel(engine, order, watch)
            await watch.ended.wait()
    finally:
        watches.pop(cid, None)


async def _cancel(engine: Engine, order: Order, watch: Watch) -> None:
    """Ask the venue to cancel until it has taken the request or the order ended by itself."""
    assert order.order_id is not None
    backoff = Backoff(max_s=engine.options.backoff_max_s)
    while not watch.ended.is_set():
        try:
            await engine.broker.cancel(order.order_id)
        except (OrderNotCancellable, OrderNotFound):
            pass  # already ending or ended: the poller will see how
        except BrokerUnavailable as exc:
            await trio.sleep(backoff.delay(exc.retry_after))
            continue
        except BrokerError as exc:
            log.warning("cancel failed, retrying", extra={"order_id": order.order_id, "error": str(exc)})
            await trio.sleep(backoff.delay())
            continue
        log.info("cancel requested at the deadline", extra={
            "client_order_id": order.client_order_id, "order_id": order.order_id})
        await retry_store(engine, "note cancel",
                          partial(_note_cancel_requested, engine, order.client_order_id))
        return


async def _stored_order(engine: Engine, client_order_id: str) -> Order | None:
    async with engine.store.transaction() as uow:
        return await uow.orders.get(client_order_id)


async def _note_cancel_requested(engine: Engine, client_order_id: str) -> None:
    async with engine.store.transaction() as uow:
        current = await uow.orders.get(client_order_id)
        if current is not None and current.cancel_requested_at is None:
            now = engine.clock.now()
            await uow.orders.update(current.moved_to(current.status, now, cancel_requested_at=now))


async def poll_orders(engine: Engine, watches: dict[str, Watch]) -> None:
    """Every poll interval, fetch the state of every watched order (ten per call) and record it."""
    backoff = Backoff(max_s=engine.options.backoff_max_s)
    while True:
        await trio.sleep(engine.options.poll_interval_s)
        by_venue_id = {w.order_id: w for w in list(watches.values()) if w.order_id is not None}
        ids = sorted(by_venue_id)
        try:
            # A few requests at once: at 50 ms a request, 200 orders asked one batch after
            # another would take a second. (The broker's limiter still paces them.)
            batches = await gather([partial(engine.broker.orders, ids[start:start + BATCH])
                                    for start in range(0, len(ids), BATCH)], AT_ONCE)
            # All batches first, then the fills: orders of a symbol from every batch share
            # one request for the symbol's latest fills.
            await _sync(engine, by_venue_id, [o for batch in batches for o in batch])
        except BrokerUnavailable as exc:
            engine.metrics.venue_unavailable(True)
            await trio.sleep(backoff.delay(exc.retry_after))
            continue
        except BrokerError as exc:
            log.warning("order poll failed", extra={"error": str(exc)})
            continue
        except StoreUnavailable as exc:
            # Nothing is lost: the next poll asks again and booking is idempotent.
            log.warning("order poll not recorded: store unavailable", extra={"error": str(exc)})
            await trio.sleep(backoff.delay())
            continue
        if ids:
            engine.metrics.venue_unavailable(False)
        backoff.reset()


async def _sync(engine: Engine, by_venue_id: dict[str, Watch],
                venue_orders: Sequence[VenueOrder]) -> None:
    """Record one batch: per symbol, all new fills in one transaction, in the venue's order."""
    watched = [(by_venue_id[o.order_id], o) for o in venue_orders if o.order_id in by_venue_id]
    news: dict[str, list[VenueOrder]] = {}
    for watch, venue_order in watched:
        if venue_order.executed_size > watch.filled:
            news.setdefault(venue_order.symbol, []).append(venue_order)
    fills = await _new_fills(engine, news)
    by_symbol: dict[str, list[VenueUpdate]] = {}
    for watch, venue_order in watched:
        by_symbol.setdefault(venue_order.symbol, []).append(VenueUpdate(
            watch.ticket.client_order_id, venue_order, fills.get(venue_order.order_id, ())))
    # Symbols are independent (a transaction and a lock each): booked at once.
    ended_by_symbol = await gather([partial(_apply, engine, symbol, updates)
                                    for symbol, updates in by_symbol.items()], AT_ONCE)
    for updates, ended in zip(by_symbol.values(), ended_by_symbol, strict=True):
        for update in updates:
            watch = by_venue_id[update.venue.order_id]
            if update.fills:
                watch.filled = max(watch.filled, sum((f.size for f in update.fills), Decimal(0)))
            if update.client_order_id in ended:
                watch.ended.set()


async def _apply(engine: Engine, symbol: str, updates: list[VenueUpdate]) -> set[str]:
    mark = await engine.market_data.last_price(symbol)
    return await apply_venue_states(engine, symbol, updates,
                                    {symbol: mark} if mark is not None else {})


async def _new_fills(engine: Engine, news: dict[str, list[VenueOrder]]) -> dict[str, Sequence[Fill]]:
    """Every fill of each order that has new ones, with as few requests as can be: when several
    orders of a symbol have new fills, one request for the symbol's latest fills usually holds
    them all (GMO allows 20 GETs a second, and one per order would spend them twice as fast as
    orders arrive); an order whose fills it does not hold in full is asked for alone."""
    per_symbol = await gather([partial(_fills_of_symbol, engine, ordered)
                               for ordered in news.values()], AT_ONCE)
    return {order_id: fills for found in per_symbol for order_id, fills in found.items()}


async def _fills_of_symbol(engine: Engine, ordered: list[VenueOrder]) -> dict[str, Sequence[Fill]]:
    found: dict[str, Sequence[Fill]] = {}
    if len(ordered) > 1:
        latest = await engine.broker.latest_fills(ordered[0].symbol, limit=LATEST_FILLS)
        for venue_order in ordered:
            mine = [f for f in latest if f.order_id == venue_order.order_id]
            if sum((f.size for f in mine), Decimal(0)) >= venue_order.executed_size:
                found[venue_order.order_id] = mine[::-1]  # oldest first, as fills() gives
    for venue_order in ordered:
        if venue_order.order_id not in found:
            found[venue_order.order_id] = await engine.broker.fills(venue_order.order_id)
    return found
