"""Orders on PostgreSQL (ports.store.OrderRepository), the seed's ``orders`` table adapted.

``orders.order_id`` is the venue's id, null until the venue knows the order and unique when set;
``client_order_id`` is ours. ``orders.signal_id`` points at the inbox row of the signal the order
came from (when that row exists). One order per signal: (source_stream, source_message_id) is
unique.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg.errors import UniqueViolation
from psycopg.rows import dict_row

from adapters.postgres.adaptation import utc, utc_or_none
from hexexec.domain.errors import VenueOrderOwned
from hexexec.domain.order_status import OrderStatus
from hexexec.domain.orders import Order, OrderIntent, SettleType, Side
from hexexec.domain.signal import MessageRef, OrderType, TimeInForce
from ports.store import Deferred

if TYPE_CHECKING:
    import psycopg

    from adapters.postgres.unit_of_work import PostgresUnitOfWork

    Connection = psycopg.Connection[Any]

OPEN = [s.value for s in (OrderStatus.PENDING, OrderStatus.SUBMITTING, OrderStatus.UNKNOWN,
                          OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)]
_FIELDS = (
    "client_order_id", "source_stream", "source_message_id", "exchange", "symbol", "side",
    "settle_type", "order_type", "size", "price", "time_in_force", "status", "created_at",
    "updated_at", "signal_time", "order_id", "filled_size", "average_price", "submitted_at",
    "cancel_requested_at", "reject_code", "reason",
)
_COLS = ", ".join(_FIELDS)
_VALUES = ", ".join(f"%({f})s" for f in _FIELDS)
# The seed's ``timestamp``: when the order was placed (sent), or decided if not sent yet.
_TIMESTAMP = "coalesce(%(submitted_at)s, %(created_at)s)"
_SIGNAL_ID = (
    "(SELECT id FROM signals WHERE stream = %(source_stream)s "
    "AND message_id = %(source_message_id)s)"
)
INSERT = (
    f"INSERT INTO orders ({_COLS}, timestamp, signal_id) "
    f"VALUES ({_VALUES}, {_TIMESTAMP}, {_SIGNAL_ID})"
)
UPDATE = (
    "UPDATE orders SET "
    + ", ".join(f"{f} = %({f})s" for f in _FIELDS if f != "client_order_id")
    + f", timestamp = {_TIMESTAMP}, signal_id = {_SIGNAL_ID} "
    "WHERE client_order_id = %(client_order_id)s"
)
SELECT = f"SELECT {_COLS} FROM orders"
ORDERED = " ORDER BY created_at, id"
VENUE_OWNER = "SELECT client_order_id FROM orders WHERE order_id = %s AND client_order_id <> %s"
SIGNAL_OWNER = (
    "SELECT client_order_id FROM orders WHERE source_stream = %s AND source_message_id = %s"
)


def order_params(order: Order) -> dict[str, Any]:
    intent = order.intent
    return {
        "client_order_id": order.client_order_id,
        "source_stream": order.source.stream,
        "source_message_id": order.source.message_id,
        "exchange": intent.exchange,
        "symbol": intent.symbol,
        "side": intent.side.value,
        "settle_type": intent.settle_type.value,
        "order_type": intent.order_type.value,
        "size": intent.size,
        "price": intent.price,
        "time_in_force": intent.time_in_force.value if intent.time_in_force else None,
        "status": order.status.value,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "signal_time": order.signal_time,
        "order_id": order.order_id,
        "filled_size": order.filled_size,
        "average_price": order.average_price,
        "submitted_at": order.submitted_at,
        "cancel_requested_at": order.cancel_requested_at,
        "reject_code": order.reject_code,
        "reason": order.reason,
    }


def order_from_row(row: dict[str, Any]) -> Order:
    tif = row["time_in_force"]
    intent = OrderIntent(
        exchange=row["exchange"],
        symbol=row["symbol"],
        side=Side(row["side"]),
        settle_type=SettleType(row["settle_type"]),
        order_type=OrderType(row["order_type"]),
        size=row["size"],
        price=row["price"],
        time_in_force=TimeInForce(tif) if tif else None,
    )
    return Order(
        client_order_id=row["client_order_id"],
        source=MessageRef(row["source_stream"], row["source_message_id"]),
        intent=intent,
        status=OrderStatus(row["status"]),
        created_at=utc(row["created_at"]),
        updated_at=utc(row["updated_at"]),
        signal_time=utc(row["signal_time"]),
        order_id=row["order_id"],
        filled_size=row["filled_size"],
        average_price=row["average_price"],
        submitted_at=utc_or_none(row["submitted_at"]),
        cancel_requested_at=utc_or_none(row["cancel_requested_at"]),
        reject_code=row["reject_code"],
        reason=row["reason"],
    )


def _write(conn: Connection, query: str, order: Order, params: dict[str, Any]) -> int:
    """Run an INSERT or UPDATE of ``order``; the rows it touched. The venue id is checked first,
    so that the refusal names the row that owns it; the unique index settles a race between two
    transactions that the check cannot see."""
    with conn.cursor() as cur:
        if order.order_id is not None:
            owner = cur.execute(VENUE_OWNER, (order.order_id, order.client_order_id)).fetchone()
            if owner is not None:
                raise VenueOrderOwned(order.order_id, owner[0])
        try:
            return cur.execute(query, params).rowcount
        except UniqueViolation as exc:
            if exc.diag.constraint_name == "orders_order_id_key" and order.order_id is not None:
                # Lost a race the check above could not see: the other row committed meanwhile.
                raise VenueOrderOwned(order.order_id, "a concurrent transaction") from exc
            raise


class PostgresOrderRepository:
    def __init__(self, uow: PostgresUnitOfWork) -> None:
        self._uow = uow

    async def add(self, order: Order) -> None:
        """Insert a new order (its client_order_id must be new, its signal without an order).
        Sent with the unit of work's next hop; a refusal is raised from there."""
        params = order_params(order)
        await self._uow.later(lambda conn: _write(conn, INSERT, order, params))

    async def update(self, order: Order) -> None:
        """Replace the stored order; VenueOrderOwned if its venue id belongs to another row,
        LookupError if there is no such order (both raised by the unit of work's next hop)."""
        params = order_params(order)

        def work(conn: Connection) -> None:
            if _write(conn, UPDATE, order, params) == 0:
                raise LookupError(f"no order {order.client_order_id} to update")

        await self._uow.later(work)

    async def get(self, client_order_id: str) -> Order | None:
        row = await self._uow.fetchone(SELECT + " WHERE client_order_id = %s", (client_order_id,))
        return None if row is None else order_from_row(row)

    async def change_at_commit(self, client_order_id: str, change: Callable[[Order], Order]
                               ) -> Deferred[tuple[Order, Order] | None]:
        """Read, change and write the order on the worker thread, in the commit's hop."""
        result: Deferred[tuple[Order, Order] | None] = Deferred()

        def work(conn: Connection) -> None:
            with conn.cursor(row_factory=dict_row) as cur:
                row = cur.execute(SELECT + " WHERE client_order_id = %s",
                                  (client_order_id,)).fetchone()
            if row is None:
                result.set(None)
                return
            before = order_from_row(row)
            after = change(before)
            if after is not before:
                _write(conn, UPDATE, after, order_params(after))
            result.set((before, after))

        await self._uow.later(work)
        return result

    async def by_venue_id(self, order_id: str) -> Order | None:
        row = await self._uow.fetchone(SELECT + " WHERE order_id = %s", (order_id,))
        return None if row is None else order_from_row(row)

    async def for_signal(self, ref: MessageRef) -> Order | None:
        query = SELECT + " WHERE source_stream = %s AND source_message_id = %s"
        row = await self._uow.fetchone(query, (ref.stream, ref.message_id))
        return None if row is None else order_from_row(row)

    async def with_status(self, statuses: Collection[OrderStatus]) -> Sequence[Order]:
        """Orders in any of these statuses, oldest first."""
        wanted = [OrderStatus(s).value for s in statuses]
        rows = await self._uow.fetchall(SELECT + " WHERE status = ANY(%s)" + ORDERED, (wanted,))
        return [order_from_row(r) for r in rows]

    async def open_for_symbol(self, exchange: str, symbol: str) -> Sequence[Order]:
        """Orders of the symbol that may still fill: PENDING up to PARTIALLY_FILLED."""
        query = SELECT + " WHERE exchange = %s AND symbol = %s AND status = ANY(%s)" + ORDERED
        rows = await self._uow.fetchall(query, (exchange, symbol, OPEN))
        return [order_from_row(r) for r in rows]

    async def open_for_symbols(self, exchange: str, symbols: Collection[str]) -> Sequence[Order]:
        query = SELECT + " WHERE exchange = %s AND symbol = ANY(%s) AND status = ANY(%s)" + ORDERED
        rows = await self._uow.fetchall(query, (exchange, sorted(symbols), OPEN))
        return [order_from_row(r) for r in rows]

    async def add_many(self, orders: Sequence[Order]) -> None:
        if orders:
            await self._uow.executemany_later(INSERT, [order_params(o) for o in orders])

    async def count_created_since(self, exchange: str, since: datetime) -> int:
        query = "SELECT count(*) AS n FROM orders WHERE exchange = %s AND created_at >= %s"
        row = await self._uow.fetchone(query, (exchange, since))
        return int(row["n"]) if row else 0
