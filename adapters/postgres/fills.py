"""Fills on PostgreSQL (ports.store.FillRepository), the seed's ``executions`` table adapted.

``execution_id`` (the venue's) is unique, so storing a fill twice changes nothing;
``executions.order_id`` points at ``orders.id`` as in the seed, and ``venue_order_id`` keeps the
venue's order id as the fill reported it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from adapters.postgres.adaptation import utc, utc_or_none
from hexexec.domain.accounting import Position
from hexexec.domain.fills import Fill
from hexexec.domain.orders import SettleType, Side

if TYPE_CHECKING:
    from adapters.postgres.unit_of_work import PostgresUnitOfWork

_FILL_FIELDS = (
    "exchange", "symbol", "execution_id", "venue_order_id", "side", "settle_type", "price",
    "size", "fee", "loss_gain", "timestamp",
)
INSERT_FILL = (
    f"INSERT INTO executions (order_id, {', '.join(_FILL_FIELDS)}) "
    f"SELECT o.id, {', '.join(f'%({f})s' for f in _FILL_FIELDS)} "
    "FROM orders o WHERE o.client_order_id = %(client_order_id)s "
    "ON CONFLICT (execution_id) DO NOTHING RETURNING id"
)
FILL_EXISTS = "SELECT 1 AS found FROM executions WHERE execution_id = %s"
SELECT_FILLS = (
    f"SELECT {', '.join('e.' + f for f in _FILL_FIELDS)} FROM executions e "
    "JOIN orders o ON o.id = e.order_id WHERE o.client_order_id = %s "
    "ORDER BY e.timestamp, e.id"
)

SELECT_SYMBOL_FILLS = (
    f"SELECT {', '.join('e.' + f for f in _FILL_FIELDS)} FROM executions e "
    "WHERE e.exchange = %(exchange)s AND e.symbol = %(symbol)s"
)
SELECT_FILLS_SINCE = SELECT_SYMBOL_FILLS + " AND e.timestamp >= %(at)s"
# The symbol's last fill dated before %(at)s in the venue's order (booking_order: time, then
# the id's length, then its characters — COLLATE "C" compares them as Python does), and the
# position recorded after it (``recorded`` false for a fill stored before version 3).
_POSITION_FIELDS = (
    "quantity", "average_price", "realized_pnl", "fees", "trip_pnl", "trip_opened_at",
)
SELECT_POSITION_BEFORE = (
    f"SELECT e.timestamp, p.execution_id IS NOT NULL AS recorded, "
    f"{', '.join('p.' + f for f in _POSITION_FIELDS)} "
    "FROM executions e LEFT JOIN fill_positions p ON p.execution_id = e.execution_id "
    "WHERE e.exchange = %(exchange)s AND e.symbol = %(symbol)s AND e.timestamp < %(at)s "
    'ORDER BY e.timestamp DESC, length(e.execution_id) DESC, e.execution_id COLLATE "C" DESC '
    "LIMIT 1"
)
RECORD_POSITION = (
    f"INSERT INTO fill_positions (execution_id, {', '.join(_POSITION_FIELDS)}) "
    f"VALUES (%(execution_id)s, {', '.join(f'%({f})s' for f in _POSITION_FIELDS)}) "
    "ON CONFLICT (execution_id) DO UPDATE SET "
    + ", ".join(f"{f} = EXCLUDED.{f}" for f in _POSITION_FIELDS)
)


def fill_params(fill: Fill, client_order_id: str) -> dict[str, Any]:
    return {
        "client_order_id": client_order_id,
        "exchange": fill.exchange,
        "symbol": fill.symbol,
        "execution_id": fill.execution_id,
        "venue_order_id": fill.order_id,
        "side": fill.side.value,
        "settle_type": fill.settle_type.value,
        "price": fill.price,
        "size": fill.size,
        "fee": fill.fee,
        "loss_gain": fill.loss_gain,
        "timestamp": fill.timestamp,
    }


def fill_from_row(row: dict[str, Any]) -> Fill:
    return Fill(
        execution_id=row["execution_id"],
        order_id=row["venue_order_id"],
        exchange=row["exchange"],
        symbol=row["symbol"],
        side=Side(row["side"]),
        settle_type=SettleType(row["settle_type"]),
        price=row["price"],
        size=row["size"],
        fee=row["fee"],
        timestamp=utc(row["timestamp"]),
        loss_gain=row["loss_gain"],
    )


class UnknownOrder(LookupError):
    """A fill was offered for an order the store does not have."""


class PostgresFillRepository:
    def __init__(self, uow: PostgresUnitOfWork) -> None:
        self._uow = uow

    async def add(self, fill: Fill, client_order_id: str) -> bool:
        """Insert; False (and nothing changed) when the execution id is already there."""
        if await self._uow.fetchone(INSERT_FILL, fill_params(fill, client_order_id)) is not None:
            return True
        if await self._uow.fetchone(FILL_EXISTS, (fill.execution_id,)) is not None:
            return False
        raise UnknownOrder(f"fill {fill.execution_id} for unknown order {client_order_id}")

    async def for_order(self, client_order_id: str) -> Sequence[Fill]:
        """The order's fills by time (ties in insertion order)."""
        rows = await self._uow.fetchall(SELECT_FILLS, (client_order_id,))
        return [fill_from_row(r) for r in rows]

    async def replay_from(self, fill: Fill) -> tuple[Position, Sequence[Fill]]:
        """The position recorded after the symbol's last fill dated before ``fill`` and the
        fills dated from ``fill`` on; from flat and every fill when none was recorded."""
        params = {"exchange": fill.exchange, "symbol": fill.symbol, "at": fill.timestamp}
        before = await self._uow.fetchone(SELECT_POSITION_BEFORE, params)
        flat = Position(fill.exchange, fill.symbol)
        if before is not None and not before["recorded"]:
            return flat, [fill_from_row(r) for r in await self._uow.fetchall(
                SELECT_SYMBOL_FILLS, params)]
        rows = await self._uow.fetchall(SELECT_FILLS_SINCE, params)
        start = flat if before is None else Position(
            fill.exchange, fill.symbol, before["quantity"], before["average_price"],
            before["realized_pnl"], before["fees"], before["trip_pnl"],
            utc_or_none(before["trip_opened_at"]), utc(before["timestamp"]))
        return start, [fill_from_row(r) for r in rows]

    async def record_positions(self, after: Sequence[tuple[str, Position]]) -> None:
        """Keep the position after each fill (upserted), with the next hop."""
        await self._uow.executemany_later(RECORD_POSITION, [
            {"execution_id": eid, "quantity": p.quantity, "average_price": p.average_price,
             "realized_pnl": p.realized_pnl, "fees": p.fees, "trip_pnl": p.trip_pnl,
             "trip_opened_at": p.trip_opened_at} for eid, p in after])
