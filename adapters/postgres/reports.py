"""Read-only reports for operators (``hexexec status``): trading state, positions, open orders,
today's realized PnL and signal counts, straight from the tables (blocking psycopg; a CLI tool)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from hexexec.domain.accounting import Position, apply_fill
from hexexec.domain.fills import Fill
from hexexec.domain.orders import SettleType, Side

OPEN_STATUSES = ("PENDING", "SUBMITTING", "UNKNOWN", "NEW", "PARTIALLY_FILLED")


@dataclass
class StatusReport:
    state: dict[str, Any]
    positions: list[dict[str, Any]]
    open_orders: list[dict[str, Any]]
    realized_today: dict[str, Decimal]
    signals_today: dict[str, int]
    orders_today: dict[str, int] = field(default_factory=dict)


def _connect(database_url: str, schema: str | None) -> psycopg.Connection[dict[str, Any]]:
    conn = psycopg.connect(database_url, connect_timeout=5, row_factory=dict_row,
                           options="-c statement_timeout=10000")
    if schema is not None:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    return conn


def read_status(database_url: str, *, exchange: str, since: datetime,
                schema: str | None = None) -> StatusReport:
    """Everything ``hexexec status`` shows; ``since`` is the start of "today" (UTC)."""
    with _connect(database_url, schema) as conn:
        state = conn.execute(
            "SELECT state, reason, set_by, set_at FROM trading_state LIMIT 1").fetchone() or {
            "state": "ACTIVE", "reason": "never set", "set_by": "", "set_at": None}
        positions = conn.execute(
            "SELECT symbol, side, size, average_price, realized_pnl, fees, updated_at "
            "FROM positions WHERE exchange = %s ORDER BY symbol", (exchange,)).fetchall()
        open_orders = conn.execute(
            "SELECT client_order_id, order_id, symbol, side, order_type, price, size, filled_size,"
            " status, created_at FROM orders WHERE exchange = %s AND status = ANY(%s)"
            " ORDER BY created_at", (exchange, list(OPEN_STATUSES))).fetchall()
        fills = conn.execute(
            "SELECT execution_id, venue_order_id, symbol, side, settle_type, price, size, fee,"
            " timestamp, loss_gain FROM executions WHERE exchange = %s ORDER BY id",
            (exchange,)).fetchall()
        signals = conn.execute(
            "SELECT status, count(*) AS n FROM signals WHERE received_at >= %s GROUP BY status",
            (since,)).fetchall()
        orders = conn.execute(
            "SELECT status, count(*) AS n FROM orders WHERE exchange = %s AND created_at >= %s"
            " GROUP BY status", (exchange, since)).fetchall()
    return StatusReport(
        state=dict(state),
        positions=[dict(p) for p in positions],
        open_orders=[dict(o) for o in open_orders],
        realized_today=realized_since(exchange, fills, since),
        signals_today={r["status"]: r["n"] for r in signals},
        orders_today={r["status"]: r["n"] for r in orders},
    )


def realized_since(exchange: str, rows: list[dict[str, Any]], since: datetime) -> dict[str, Decimal]:
    """Realized PnL after fees of the fills at or after ``since``, per symbol, replaying every fill
    in the order it was booked (the positions table was built the same way)."""
    positions: dict[str, Position] = {}
    today: dict[str, Decimal] = {}
    for row in rows:
        fill = Fill(
            execution_id=row["execution_id"], order_id=row["venue_order_id"], exchange=exchange,
            symbol=row["symbol"], side=Side(row["side"]), settle_type=SettleType(row["settle_type"]),
            price=row["price"], size=row["size"], fee=row["fee"], timestamp=row["timestamp"],
            loss_gain=row["loss_gain"],
        )
        before = positions.setdefault(fill.symbol, Position(exchange, fill.symbol))
        after = apply_fill(before, fill).position
        positions[fill.symbol] = after
        if fill.timestamp >= since:
            delta = after.realized_pnl - before.realized_pnl
            today[fill.symbol] = today.get(fill.symbol, Decimal(0)) + delta
    return dict(sorted(today.items()))


def ping(database_url: str, timeout_s: float) -> None:
    """Raise ``ConnectionError`` with the cause unless PostgreSQL at the URL accepts a session."""
    try:
        with psycopg.connect(database_url, connect_timeout=max(1, round(timeout_s))) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConnectionError(first) from None
