"""Bring one of our orders in line with what the venue reports (DESIGN §3 step 5, §5).

New fills are stored keyed by the venue's execution id and applied to the position in the same
transaction, so a replay changes nothing. The order's filled size and average price are derived
from its stored fills, its status from the venue's. Equity is recorded after new fills and the
drawdown breaker checked.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from hexexec.domain.accounting import Position, apply_fill, order_fill_summary
from hexexec.domain.equity import EquityPoint, equity
from hexexec.domain.fills import Fill, booking_order
from hexexec.domain.order_status import can_transition, status_from_venue
from hexexec.domain.orders import Order
from hexexec.domain.risk import drawdown_breaker
from hexexec.domain.trading_state import RiskState
from hexexec.domain.venue import VenueOrder
from hexexec.services.books import window_peak
from hexexec.services.concurrently import at_once
from hexexec.services.engine import Engine
from ports.store import UnitOfWork

log = logging.getLogger("hexexec.bookkeeping")


@dataclass(frozen=True)
class VenueUpdate:
    """What the venue said about one of our orders in one poll, with its fills if it filled."""

    client_order_id: str
    venue: VenueOrder
    fills: Sequence[Fill] = ()


async def apply_venue_states(
    engine: Engine, symbol: str, updates: Sequence[VenueUpdate], marks: Mapping[str, Decimal]
) -> set[str]:
    """Store the new fills of these orders of one symbol — all together, in the venue's order,
    since average-cost PnL depends on it — and each order's state. Returns the ids of the orders
    that have ended on the venue with every fill it reports recorded."""
    ended: set[str] = set()
    # Reads that do not depend on one another are made at once (one round trip on PostgreSQL),
    # so a poll that books several orders of the symbol costs a handful of them, not a few each.
    async with engine.store.transaction(lock=engine.symbol_lock(symbol)) as uow:
        ids = [u.client_order_id for u in updates]
        found: list[Order | None] = await at_once(*(partial(uow.orders.get, cid) for cid in ids))
        orders = dict(zip(ids, found, strict=True))
        candidates = sorted(((f, u.client_order_id) for u in updates
                             if orders[u.client_order_id] is not None for f in u.fills),
                            key=lambda pair: booking_order(pair[0]))
        if candidates:
            first = candidates[0][0]
            *new, position = await at_once(
                *(partial(uow.fills.add, f, cid) for f, cid in candidates),
                partial(uow.positions.get, first.exchange, first.symbol))
            added = [f for (f, _), fresh in zip(candidates, new, strict=True) if fresh]
            if added:
                await _book_fills(engine, uow, added, position, marks)
        live = [(u, order) for u in updates if (order := orders[u.client_order_id]) is not None]
        ended.update(cid for cid, order in orders.items() if order is None)
        fills = await at_once(*(partial(uow.fills.for_order, u.client_order_id) for u, _ in live))
        for (update, order), its_fills in zip(live, fills, strict=True):
            if await _record_state(engine, uow, order, update.venue, its_fills):
                ended.add(update.client_order_id)
    return ended


async def _record_state(engine: Engine, uow: UnitOfWork, order: Order, venue: VenueOrder,
                        fills: Sequence[Fill]) -> bool:
    filled, average = order_fill_summary(list(fills))
    status = status_from_venue(venue.status, filled, order.intent.size)
    if (status, filled, average) != (order.status, order.filled_size, order.average_price):
        if can_transition(order.status, status):
            await uow.orders.update(order.moved_to(
                status, engine.clock.now(), filled_size=filled, average_price=average))
            if status is not order.status:
                engine.metrics.order_status(status.value)
        else:
            # The table is the law: log it loudly, never apply it.
            log.error("illegal transition refused", extra={
                "client_order_id": order.client_order_id, "order_id": venue.order_id,
                "from": order.status.value, "to": status.value})
    return venue.status.is_final and filled >= venue.executed_size


async def _book_fills(engine: Engine, uow: UnitOfWork, added: list[Fill], position: Position,
                      marks: Mapping[str, Decimal]) -> None:
    first = added[0]  # all of one symbol, as is ``position``
    new: set[str] | None = None
    replay: Sequence[Fill] = added
    if position.updated_at is not None and first.timestamp <= position.updated_at:
        # A fill dated no later than one already booked (found late: a lost reply, a restart,
        # orders of one symbol polled in another order than they filled). Average-cost PnL
        # depends on the venue's order, so the fills from its time on are replayed from the
        # position recorded just before it; only the new fills' round trips are added (the
        # earlier ones stay as recorded).
        new = {f.execution_id for f in added}
        position, stored = await uow.fills.replay_from(first)
        replay = sorted(stored, key=booking_order)
        log.info("fill booked late: fills replayed in the venue's order",
                 extra={"symbol": first.symbol, "fills": len(replay)})
    after: list[tuple[str, Position]] = []
    for fill in replay:
        effect = apply_fill(position, fill)
        position = effect.position
        after.append((fill.execution_id, position))
        if new is not None and fill.execution_id not in new:
            continue
        if fill.loss_gain is not None and fill.loss_gain != effect.realized_gross:
            log.warning("realized PnL differs from the venue's lossGain", extra={
                "execution_id": fill.execution_id, "ours": str(effect.realized_gross),
                "venue": str(fill.loss_gain)})
        if effect.closed_trip is not None:
            await uow.risk.add_trip(effect.closed_trip)
    await uow.fills.record_positions(after)
    await uow.positions.put(position)
    limits = engine.options.limits
    now = engine.clock.now()
    prices = {**marks, first.symbol: marks.get(first.symbol, added[-1].price)}
    positions: Sequence[Position]
    state: RiskState
    point: EquityPoint | None
    positions, state, point = await at_once(  # the position put above included
        uow.positions.all, uow.risk.state, partial(uow.risk.peak, now - limits.drawdown_window))
    current = equity(limits.base_equity, positions, prices)
    peak = await window_peak(uow, point, now, limits, state)
    await uow.risk.add_equity_point(EquityPoint(now, current))
    tripped = drawdown_breaker(state, peak, current, limits, now)
    if tripped is not None:
        await uow.risk.set_state(tripped)
        log.warning("breaker tripped", extra={"state": tripped.state.value, "reason": tripped.reason})
