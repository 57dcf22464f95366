"""What the three parties hold at the end of a run, read straight from them: PostgreSQL's rows,
Redis's streams and consumer group, and the simulated venue's orders and fills (``/sim/...``).

Read with plain SQL and redis commands, not through the adapters under test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
import redis
from psycopg.rows import dict_row

from hexexec.domain.fills import Fill
from hexexec.domain.orders import SettleType, Side

Row = dict[str, Any]


@dataclass(frozen=True)
class StreamState:
    entries: list[str]  # every entry id on the signal stream
    pending: int  # entries delivered to the group and not acknowledged
    last_delivered: str  # the group's last delivered id
    dead_letters: list[str]  # source_id of each entry on <stream>:dlq, in order


@dataclass(frozen=True)
class Books:
    signals: list[Row]
    decisions: list[Row]
    orders: list[Row]
    fills: list[Row]  # executions in booking order, with the owner's client_order_id
    positions: dict[str, Row]
    stream: StreamState
    venue_orders: dict[str, Row]  # by venue order id
    venue_fills: dict[str, Row]  # by execution id


def read_database(url: str, schema: str | None = None) -> dict[str, Any]:
    with psycopg.connect(url, row_factory=dict_row, connect_timeout=10) as conn:
        if schema:
            conn.execute(psycopg.sql.SQL("SET search_path TO {}").format(psycopg.sql.Identifier(schema)))
        return {
            "signals": conn.execute(
                "SELECT stream, message_id, status, reason FROM signals ORDER BY id").fetchall(),
            "decisions": conn.execute(
                "SELECT message_id, approved, rejected_by, client_order_id FROM risk_decisions"
            ).fetchall(),
            "orders": conn.execute(
                "SELECT client_order_id, order_id, status, symbol, source_message_id, filled_size, "
                "reason FROM orders ORDER BY id").fetchall(),
            "fills": conn.execute(
                "SELECT e.execution_id, e.venue_order_id, e.exchange, e.symbol, e.side, "
                "e.settle_type, e.price, e.size, e.fee, e.loss_gain, e.timestamp, "
                "o.client_order_id, o.order_id AS owner_order_id FROM executions e "
                "JOIN orders o ON o.id = e.order_id ORDER BY e.id").fetchall(),
            "positions": {r["symbol"]: r for r in conn.execute(
                "SELECT symbol, side, size, realized_pnl FROM positions").fetchall()},
        }


def read_stream(client: redis.Redis, stream: str, group: str) -> StreamState:
    entries = [i.decode() for i, _ in client.xrange(stream)]
    groups = {g["name"].decode(): g for g in client.xinfo_groups(stream)}
    info = groups[group]
    dlq = [f[b"source_id"].decode() for _, f in client.xrange(stream + ":dlq")]
    return StreamState(entries, int(info["pending"]), info["last-delivered-id"].decode(), dlq)


def read_books(database_url: str, client: redis.Redis, stream: str, group: str,
               venue_orders: list[Row], venue_fills: list[Row], schema: str | None = None) -> Books:
    return Books(
        **read_database(database_url, schema),
        stream=read_stream(client, stream, group),
        venue_orders={str(o["orderId"]): o for o in venue_orders},
        venue_fills={str(f["executionId"]): f for f in venue_fills},
    )


def our_fill(row: Row) -> Fill:
    """An executions row as the domain's Fill (for replaying the position)."""
    return Fill(
        execution_id=row["execution_id"], order_id=row["venue_order_id"], exchange=row["exchange"],
        symbol=row["symbol"], side=Side(row["side"]), settle_type=SettleType(row["settle_type"]),
        price=row["price"], size=row["size"], fee=row["fee"], timestamp=row["timestamp"],
        loss_gain=row["loss_gain"],
    )


def signed(size: Decimal, side: str) -> Decimal:
    return size if side in ("BUY", "LONG") else -size


def quantity(position: Row | None) -> Decimal:
    if position is None or position["side"] is None:
        return Decimal(0)
    return signed(position["size"], position["side"])


def venue_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
