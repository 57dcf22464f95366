"""Fills on PostgreSQL (ports.store.FillRepository), the seed's ``executions`` table adapted.

``execution_id`` (the venue's) is unique, so storing a fill twice changes nothing;
``executions.order_id`` points at ``orders.id`` as in the seed, and ``venue_order_id`` keeps the
venue's order id as the fill reported it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from adapters.postgres.adaptation import utc
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
    "WHERE e.exchange = %s AND e.symbol = %s ORDER BY e.id"
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

    async def for_symbol(self, exchange: str, symbol: str) -> Sequence[Fill]:
        """Every fill of the symbol, in the order they were stored."""
        rows = await self._uow.fetchall(SELECT_SYMBOL_FILLS, (exchange, symbol))
        return [fill_from_row(r) for r in rows]
