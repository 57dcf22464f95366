"""A plain psycopg connection for tests: look at the tables the store wrote, independently of it.

Each call opens a short autocommit connection on a worker thread, with the test's schema first
on the search path, so what it sees is exactly what is committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
import trio

_SNAPSHOT_TABLES = (
    "signals", "risk_decisions", "orders", "executions", "fill_positions", "positions",
    "trading_state", "trading_state_history", "equity_points", "closed_trips",
)


class Database:
    def __init__(self, url: str, schema: str) -> None:
        self.url = url
        self.schema = schema

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, autocommit=True, connect_timeout=5,
                               options=f"-c search_path={self.schema} -c TimeZone=UTC")

    def rows_sync(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._connect() as conn, conn.cursor() as cur:
            cur.execute(query, params or None)
            return cur.fetchall() if cur.description else []

    async def rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return await trio.to_thread.run_sync(self.rows_sync, query, params)

    async def value(self, query: str, params: Sequence[Any] = ()) -> Any:
        rows = await self.rows(query, params)
        assert len(rows) == 1 and len(rows[0]) == 1, rows
        return rows[0][0]

    def _snapshot_sync(self) -> dict[str, list[str]]:
        with self._connect() as conn:
            return {
                table: sorted(r[0] for r in conn.execute(f"SELECT to_jsonb(t)::text FROM {table} t"))
                for table in _SNAPSHOT_TABLES
            }

    async def snapshot(self) -> dict[str, list[str]]:
        """Every row of every store table, every column, as text, in a stable order."""
        return await trio.to_thread.run_sync(self._snapshot_sync)

    async def catalog(self) -> dict[str, list[tuple[Any, ...]]]:
        """The schema's columns, constraints and indexes, with its own name taken out."""
        columns = await self.rows(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
            "a.attidentity, pg_get_expr(d.adbin, d.adrelid) "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1, 2")
        constraints = await self.rows(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE connamespace = current_schema()::regnamespace "
            "ORDER BY 1, 2")
        indexes = await self.rows(
            "SELECT tablename, indexname, replace(indexdef, current_schema() || '.', '') "
            "FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1, 2")
        return {"columns": columns, "constraints": constraints, "indexes": indexes}
