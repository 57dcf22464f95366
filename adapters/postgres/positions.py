"""Positions on PostgreSQL (ports.store.PositionRepository), the seed's ``positions`` table.

The seed keeps a position as ``side`` and unsigned ``size``; the domain's signed quantity is
size for LONG and −size for SHORT, and a flat position has no side. Values are stored exactly
(unconstrained NUMERIC), so a restarted worker reads the very books it wrote.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from adapters.postgres.adaptation import utc_or_none
from hexexec.domain.accounting import Position, PositionSide

if TYPE_CHECKING:
    from adapters.postgres.unit_of_work import PostgresUnitOfWork

_FIELDS = (
    "exchange", "symbol", "side", "size", "average_price", "realized_pnl", "fees", "trip_pnl",
    "trip_opened_at", "updated_at",
)
SELECT = f"SELECT {', '.join(_FIELDS)} FROM positions"
PUT = (
    f"INSERT INTO positions ({', '.join(_FIELDS)}) "
    f"VALUES ({', '.join(f'%({f})s' for f in _FIELDS)}) "
    "ON CONFLICT (exchange, symbol) DO UPDATE SET "
    + ", ".join(f"{f} = EXCLUDED.{f}" for f in _FIELDS[2:])
)


def position_params(p: Position) -> dict[str, Any]:
    return {
        "exchange": p.exchange,
        "symbol": p.symbol,
        "side": p.side.value if p.side else None,
        "size": p.size,
        "average_price": p.average_price,
        "realized_pnl": p.realized_pnl,
        "fees": p.fees,
        "trip_pnl": p.trip_pnl,
        "trip_opened_at": p.trip_opened_at,
        "updated_at": p.updated_at,
    }


def position_from_row(row: dict[str, Any]) -> Position:
    size = row["size"]
    quantity = -size if row["side"] == PositionSide.SHORT.value else size
    return Position(
        exchange=row["exchange"],
        symbol=row["symbol"],
        quantity=quantity,
        average_price=row["average_price"],
        realized_pnl=row["realized_pnl"],
        fees=row["fees"],
        trip_pnl=row["trip_pnl"],
        trip_opened_at=utc_or_none(row["trip_opened_at"]),
        updated_at=utc_or_none(row["updated_at"]),
    )


class PostgresPositionRepository:
    def __init__(self, uow: PostgresUnitOfWork) -> None:
        self._uow = uow

    async def get(self, exchange: str, symbol: str) -> Position:
        """The stored position, or a flat one when none is stored."""
        query = SELECT + " WHERE exchange = %s AND symbol = %s"
        row = await self._uow.fetchone(query, (exchange, symbol))
        return Position(exchange, symbol) if row is None else position_from_row(row)

    async def put(self, position: Position) -> None:
        await self._uow.execute_later(PUT, position_params(position))

    async def all(self) -> Sequence[Position]:
        """Every stored position, by (exchange, symbol)."""
        rows = await self._uow.fetchall(SELECT + " ORDER BY exchange, symbol")
        return [position_from_row(r) for r in rows]
