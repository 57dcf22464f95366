"""The memory store's order and fill repositories (ports.store.OrderRepository, FillRepository).

Reads merge the committed tables with this transaction's own writes. Every method begins with a
trio checkpoint, as a database round trip would, so a cancellation can land between any two
calls of a transaction (and then the whole transaction rolls back). Writes enforce what the
schema would: one row per client order id, one order per signal, one owner per venue order id
(``VenueOrderOwned``), one fill per execution id, a fill only for a known order, and
schema.sql's CHECKs on sizes and prices.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from datetime import datetime
from typing import Any

from adapters.memory.rows import normalized
from adapters.memory.store_tables import OPEN_STATUSES, IntegrityError, Repository
from hexexec.domain.accounting import Position
from hexexec.domain.errors import VenueOrderOwned
from hexexec.domain.fills import Fill, booking_order
from hexexec.domain.order_status import OrderStatus
from hexexec.domain.orders import Order
from hexexec.domain.signal import MessageRef
from ports.store import Deferred


def _check_order(order: Order) -> None:
    """schema.sql's CHECKs on orders."""
    i = order.intent
    if i.size <= 0 or (i.price is not None and i.price <= 0) or order.filled_size < 0 or (
            order.average_price is not None and order.average_price < 0):
        raise IntegrityError(f"order {order.client_order_id} breaks a CHECK: sizes and prices")


class MemoryOrderRepository(Repository):
    def _current(self, cid: str) -> Order | None:
        return self._c.orders.get(cid) or self._t.orders.get(cid)

    def _seq(self, cid: str) -> int:
        return self._t.order_seq.get(cid, self._c.order_seq.get(cid, -1))

    def _sorted(self, orders: list[Order]) -> list[Order]:
        return sorted(orders, key=lambda o: (o.created_at, self._seq(o.client_order_id)))

    def _by_unique(self, index: Mapping[Any, str], key: Hashable,
                   column: Callable[[Order], object]) -> Order | None:
        """The order whose ``column`` is ``key`` (a unique column with a committed ``index``)."""
        for order in self._c.orders.values():
            if column(order) == key:
                return order
        cid = index.get(key)
        if cid is None or cid in self._c.orders:  # changed here: the loop above saw it
            return None
        return self._t.orders[cid]

    def _venue_owner(self, order_id: str) -> Order | None:
        return self._by_unique(self._t.order_by_venue, order_id, lambda o: o.order_id)

    def _signal_owner(self, ref: MessageRef) -> Order | None:
        return self._by_unique(self._t.order_by_signal, ref, lambda o: o.source)

    def _check_venue_id(self, order: Order) -> None:
        if order.order_id is None:
            return
        owner = self._venue_owner(order.order_id)
        if owner is not None and owner.client_order_id != order.client_order_id:
            raise VenueOrderOwned(order.order_id, owner.client_order_id)

    async def add(self, order: Order) -> None:
        await self._begin()
        order = normalized(order)
        _check_order(order)
        cid = order.client_order_id
        if self._current(cid) is not None:
            raise IntegrityError(f"client order id {cid} already exists")
        other = self._signal_owner(order.source)
        if other is not None:
            raise IntegrityError(
                f"signal {order.source.stream}/{order.source.message_id} already has order "
                f"{other.client_order_id}")
        self._check_venue_id(order)
        self._c.order_seq[cid] = self._t.next_order_seq + len(self._c.order_seq)
        self._c.orders[cid] = order

    async def get(self, client_order_id: str) -> Order | None:
        await self._begin()
        return self._current(client_order_id)

    async def update(self, order: Order) -> None:
        await self._begin()
        order = normalized(order)
        _check_order(order)
        old = self._current(order.client_order_id)
        if old is None:
            raise LookupError(f"no order {order.client_order_id} to update")
        if order.source != old.source and self._signal_owner(order.source) is not None:
            raise IntegrityError(f"signal of {order.client_order_id} already has an order")
        self._check_venue_id(order)
        self._c.orders[order.client_order_id] = order

    async def change_at_commit(self, client_order_id: str, change: Callable[[Order], Order]
                               ) -> Deferred[tuple[Order, Order] | None]:
        """Read, change and write now: nothing else sees this transaction's writes before it
        commits, and a rollback drops them with the rest."""
        result: Deferred[tuple[Order, Order] | None] = Deferred()
        before = await self.get(client_order_id)
        if before is None:
            result.set(None)
            return result
        after = change(before)
        if after is not before:
            await self.update(after)
        result.set((before, after))
        return result

    async def by_venue_id(self, order_id: str) -> Order | None:
        await self._begin()
        return self._venue_owner(order_id)

    async def for_signal(self, ref: MessageRef) -> Order | None:
        await self._begin()
        return self._signal_owner(ref)

    async def with_status(self, statuses: Collection[OrderStatus]) -> Sequence[Order]:
        await self._begin()
        wanted = frozenset(statuses)
        cids = set(self._c.orders)
        for status in wanted:
            cids.update(self._t.orders_by_status.get(status, ()))
        found = [o for cid in cids if (o := self._current(cid)) and o.status in wanted]
        return self._sorted(found)

    async def open_for_symbols(self, exchange: str, symbols: Collection[str]) -> Sequence[Order]:
        found = [o for symbol in set(symbols) for o in await self.open_for_symbol(exchange, symbol)]
        return self._sorted(found)

    async def add_many(self, orders: Sequence[Order]) -> None:
        for order in orders:
            await self.add(order)

    async def open_for_symbol(self, exchange: str, symbol: str) -> Sequence[Order]:
        await self._begin()
        cids = set(self._c.orders) | set(self._t.open_by_symbol.get((exchange, symbol), ()))
        found = [
            o for cid in cids
            if (o := self._current(cid)) and o.status in OPEN_STATUSES
            and o.intent.exchange == exchange and o.symbol == symbol
        ]
        return self._sorted(found)

    async def count_created_since(self, exchange: str, since: datetime) -> int:
        """Orders of ``exchange`` created at or after ``since``."""
        await self._begin()
        created = self._t.created.get(exchange, [])
        count = len(created) - bisect.bisect_left(created, since)
        for cid, order in self._c.orders.items():
            old = self._t.orders.get(cid)  # counted above in its committed version
            if old is not None and old.intent.exchange == exchange and old.created_at >= since:
                count -= 1
            if order.intent.exchange == exchange and order.created_at >= since:
                count += 1
        return count


class MemoryFillRepository(Repository):
    async def add(self, fill: Fill, client_order_id: str) -> bool:
        await self._begin()
        fill = normalized(fill)
        if fill.price <= 0 or fill.size <= 0:
            raise IntegrityError(f"fill {fill.execution_id} breaks a CHECK: price and size > 0")
        if fill.execution_id in self._c.fills or fill.execution_id in self._t.fills:
            return False
        if client_order_id not in self._c.orders and client_order_id not in self._t.orders:
            raise IntegrityError(f"fill {fill.execution_id} for unknown order {client_order_id}")
        self._c.fills[fill.execution_id] = (fill, client_order_id)
        return True

    async def for_order(self, client_order_id: str) -> Sequence[Fill]:
        """The order's fills by time (ties in insertion order)."""
        await self._begin()
        committed = [self._t.fills[e][0] for e in self._t.fills_by_order.get(client_order_id, ())]
        mine = [f for f, cid in self._c.fills.values() if cid == client_order_id]
        return sorted(committed + mine, key=lambda f: f.timestamp)  # stable: ties keep order

    async def replay_from(self, fill: Fill) -> tuple[Position, Sequence[Fill]]:
        """The position recorded after the symbol's last fill dated before ``fill`` and the
        fills dated from ``fill`` on; from flat and every fill when none was recorded."""
        await self._begin()
        key = (fill.exchange, fill.symbol)
        every = [self._t.fills[e][0] for e in self._t.fills_by_symbol.get(key, ())]
        every += [f for f, _ in self._c.fills.values() if (f.exchange, f.symbol) == key]
        flat = Position(fill.exchange, fill.symbol)
        earlier = [f for f in every if f.timestamp < fill.timestamp]
        if not earlier:
            return flat, every
        last = max(earlier, key=booking_order).execution_id
        recorded = self._c.fill_positions.get(last) or self._t.fill_positions.get(last)
        if recorded is None:
            return flat, every
        return recorded, [f for f in every if f.timestamp >= fill.timestamp]

    async def record_positions(self, after: Sequence[tuple[str, Position]]) -> None:
        await self._begin()
        for eid, position in after:
            if eid not in self._c.fills and eid not in self._t.fills:
                raise IntegrityError(f"position recorded after unknown fill {eid}")
            self._c.fill_positions[eid] = normalized(position)
