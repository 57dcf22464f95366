"""Resolve an order whose send got no clear answer (DESIGN §3 step 4). Never resend it.

Look for it on the venue — active orders and latest fills of its symbol — matched by shape and send
time, never adopting a venue order another row already owns. Found: adopt the venue's id and go
on. Not found after the configured number of successful searches, spaced out so that a request
still in flight has landed: REJECTED with reason "not placed".
"""

from __future__ import annotations

import logging
from functools import partial

import trio

from hexexec.domain.errors import BrokerError, BrokerUnavailable
from hexexec.domain.matching import matches_submission
from hexexec.domain.order_status import OrderStatus
from hexexec.domain.orders import Order
from hexexec.domain.venue import VenueOrder
from hexexec.services.backoff import Backoff
from hexexec.services.engine import Engine
from hexexec.services.store_retry import retry_store
from ports.store import Lease

log = logging.getLogger("hexexec.resolve")
NOT_PLACED = "not placed"


async def resolve_order(engine: Engine, order: Order, lease: Lease) -> Order:
    """Resolve ``order`` (SUBMITTING or UNKNOWN) under ``lease``, its symbol's send lease;
    returns it adopted (with a venue id) or rejected.

    Waits out venue unavailability without counting it as a search. Cancellation leaves the order
    unresolved, to be resolved by the next start. Nothing is concluded once the lease is found
    lost — another worker may have look-alike orders in flight then: ``StoreUnavailable`` is
    raised and the order stays unresolved, for a later resolution under the lease taken again.
    """
    opts = engine.options
    backoff = Backoff(max_s=opts.backoff_max_s)
    searches = 0
    while searches < opts.resolve_checks:
        await trio.sleep(opts.resolve_interval_s)
        try:
            candidates = await _candidates(engine, order.symbol)
        except BrokerUnavailable as exc:
            await trio.sleep(backoff.delay(exc.retry_after))
            continue
        except BrokerError as exc:
            log.warning("resolve search failed", extra={"client_order_id": order.client_order_id,
                                                        "error": str(exc)})
            continue
        backoff.reset()
        searches += 1
        await lease.check()  # the search above saw no other worker's look-alike in flight
        adopted = await retry_store(engine, "adopt", partial(_adopt, engine, order, candidates))
        if adopted is not None:
            return adopted
    await lease.check()
    return await retry_store(engine, "reject", partial(_reject_not_placed, engine, order))


async def _candidates(engine: Engine, symbol: str) -> list[VenueOrder]:
    active = list(await engine.broker.active_orders(symbol))
    known = {o.order_id for o in active}
    # Orders that filled (or ended after a fill) are gone from the active list: find them by fills.
    filled_ids = sorted({f.order_id for f in await engine.broker.latest_fills(symbol)} - known)
    for start in range(0, len(filled_ids), 10):
        active.extend(await engine.broker.orders(filled_ids[start:start + 10]))
    return sorted(active, key=lambda o: o.timestamp)


async def _adopt(engine: Engine, order: Order, candidates: list[VenueOrder]) -> Order | None:
    async with engine.store.transaction(lock=engine.symbol_lock(order.symbol)) as uow:
        current = await uow.orders.get(order.client_order_id)
        if current is None or not current.status.is_unresolved:
            return current  # resolved meanwhile (another task or worker)
        for candidate in candidates:
            if not matches_submission(current, candidate, engine.options.resolve_skew):
                continue
            owner = await uow.orders.by_venue_id(candidate.order_id)
            if owner is not None:
                continue
            adopted = current.moved_to(OrderStatus.NEW, engine.clock.now(),
                                       order_id=candidate.order_id)
            await uow.orders.update(adopted)
            engine.metrics.order_status(adopted.status.value)
            log.info("ambiguous order adopted", extra={
                "client_order_id": order.client_order_id, "order_id": candidate.order_id})
            return adopted
    return None


async def _reject_not_placed(engine: Engine, order: Order) -> Order:
    async with engine.store.transaction(lock=engine.symbol_lock(order.symbol)) as uow:
        current = await uow.orders.get(order.client_order_id)
        if current is None or not current.status.is_unresolved:
            return current if current is not None else order
        rejected = current.moved_to(OrderStatus.REJECTED, engine.clock.now(), reason=NOT_PLACED)
        await uow.orders.update(rejected)
    engine.metrics.order_status(rejected.status.value)
    log.warning("ambiguous order not found on the venue: rejected as not placed",
                extra={"client_order_id": order.client_order_id})
    return rejected
