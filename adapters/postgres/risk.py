"""Trading state, equity points and closed round trips on PostgreSQL (ports.store.RiskRepository).

The current trading state is one row of ``trading_state``; every state ever set is appended to
``trading_state_history`` in the same transaction, so "who halted it, when, why" stays answerable.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg

from adapters.postgres.adaptation import utc, utc_or_none
from hexexec.domain.accounting import ClosedTrip
from hexexec.domain.equity import EquityPoint
from hexexec.domain.trading_state import RiskState, TradingState

if TYPE_CHECKING:
    from adapters.postgres.unit_of_work import PostgresUnitOfWork

_STATE = "state, reason, set_by, set_at, resumed_at"
_STATE_VALUES = "%(state)s, %(reason)s, %(set_by)s, %(set_at)s, %(resumed_at)s"
SET_STATE = (
    f"WITH history AS (INSERT INTO trading_state_history ({_STATE}) VALUES ({_STATE_VALUES})) "
    f"INSERT INTO trading_state (id, {_STATE}) VALUES (true, {_STATE_VALUES}) "
    "ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, reason = EXCLUDED.reason, "
    "set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at, resumed_at = EXCLUDED.resumed_at"
)
TRIP_FIELDS = "exchange, symbol, pnl, opened_at, closed_at"
# The equity staircase: a point is superseded once a point at the same time or later is at least
# as high. Every window's peak is then its earliest unsuperseded point.
STAIRCASE_LOCK = ("SELECT pg_advisory_xact_lock(hashtext('hexexec:' || current_schema()), "
                  "hashtext('(equity staircase)'))")
SUPERSEDE_EARLIER = (
    "UPDATE equity_points SET superseded = true "
    "WHERE NOT superseded AND equity <= %(equity)s AND at <= %(at)s"
)
INSERT_POINT = (
    "INSERT INTO equity_points (at, equity, superseded) VALUES (%(at)s, %(equity)s, EXISTS ("
    "SELECT 1 FROM equity_points WHERE NOT superseded AND at >= %(at)s AND equity >= %(equity)s))"
)
PEAK_SINCE = (
    "SELECT at, equity FROM equity_points WHERE NOT superseded AND at >= %s "
    "ORDER BY at, id LIMIT 1"
)


def state_from_row(row: dict[str, Any]) -> RiskState:
    return RiskState(
        state=TradingState(row["state"]),
        reason=row["reason"],
        set_by=row["set_by"],
        set_at=utc(row["set_at"]),
        resumed_at=utc(row["resumed_at"]),
    )


class PostgresRiskRepository:
    def __init__(self, uow: PostgresUnitOfWork) -> None:
        self._uow = uow

    async def state(self) -> RiskState:
        """The current trading state (ACTIVE when never set)."""
        row = await self._uow.fetchone(f"SELECT {_STATE} FROM trading_state")
        return RiskState() if row is None else state_from_row(row)

    async def set_state(self, state: RiskState) -> None:
        """Persist a new trading state; the history of states is kept."""
        await self._uow.execute_later(SET_STATE, {
            "state": state.state.value,
            "reason": state.reason,
            "set_by": state.set_by,
            "set_at": state.set_at,
            "resumed_at": state.resumed_at,
        })

    async def add_equity_point(self, point: EquityPoint) -> None:
        """Store the point and keep the staircase (schema.sql, version 2), with the next hop."""
        params = {"at": point.at, "equity": point.equity}

        def work(conn: psycopg.Connection[Any]) -> None:
            with conn.cursor() as cur:
                # Serialized, so every writer sees the points written before it: two concurrent
                # writers could otherwise each keep a point the other's makes superseded.
                cur.execute(STAIRCASE_LOCK)
                cur.execute(SUPERSEDE_EARLIER, params)
                cur.execute(INSERT_POINT, params)

        await self._uow.later(work)

    async def peak(self, since: datetime) -> EquityPoint | None:
        """The point of highest equity at or after ``since``: the earliest unsuperseded point
        from then (the staircase falls with time; of equal points only the latest is left),
        found by one index probe."""
        row = await self._uow.fetchone(PEAK_SINCE, (since,))
        return None if row is None else EquityPoint(utc(row["at"]), row["equity"])

    async def equity_points(self, since: datetime) -> Sequence[EquityPoint]:
        """Points at or after ``since``, oldest first (ties in insertion order)."""
        query = "SELECT at, equity FROM equity_points WHERE at >= %s ORDER BY at, id"
        rows = await self._uow.fetchall(query, (since,))
        return [EquityPoint(utc(r["at"]), r["equity"]) for r in rows]

    async def add_trip(self, trip: ClosedTrip) -> None:
        query = f"INSERT INTO closed_trips ({TRIP_FIELDS}) VALUES (%s, %s, %s, %s, %s)"
        params = (trip.exchange, trip.symbol, trip.pnl, trip.opened_at, trip.closed_at)
        await self._uow.execute_later(query, params)

    async def trips(self, since: datetime, limit: int | None = None) -> Sequence[ClosedTrip]:
        """Round trips closed at or after ``since``, newest first (ties: latest stored first)."""
        query = (
            f"SELECT {TRIP_FIELDS} FROM closed_trips WHERE closed_at >= %s "
            "ORDER BY closed_at DESC, id DESC LIMIT %s"
        )
        rows = await self._uow.fetchall(query, (since, limit))
        return [
            ClosedTrip(r["exchange"], r["symbol"], r["pnl"], utc_or_none(r["opened_at"]),
                       utc(r["closed_at"]))
            for r in rows
        ]
