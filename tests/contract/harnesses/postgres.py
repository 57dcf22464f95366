"""The PostgreSQL backend of the store suite: a PostgresStore over a schema of its own.

Each test gets a new schema ``t_<random>`` in the database at ``database_url`` (the store creates
it and applies schema.sql there); it is dropped when the test ends, whatever happened.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import trio
from psycopg import sql

from adapters.postgres import PostgresStore
from ports.store import Store


def new_schema_name() -> str:
    return f"t_{uuid.uuid4().hex[:16]}"


def drop_schema(database_url: str, schema: str) -> None:
    """Blocking: drop ``schema`` and everything in it."""
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@asynccontextmanager
async def scratch_schema(database_url: str) -> AsyncIterator[str]:
    """A schema name for one test; the schema (if anything created it) is dropped afterwards."""
    schema = new_schema_name()
    try:
        yield schema
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(drop_schema, database_url, schema)


@asynccontextmanager
async def postgres_store(database_url: str) -> AsyncIterator[Store]:
    async with scratch_schema(database_url) as schema:
        async with PostgresStore.open(database_url, schema=schema, max_size=4,
                                      statement_timeout=10.0) as store:
            yield store
