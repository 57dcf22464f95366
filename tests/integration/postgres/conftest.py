"""Fixtures for the PostgreSQL integration tests: every test gets a schema of its own.

``pg_schema`` names a new schema (dropped after the test); ``pg_store`` is a PostgresStore
opened on it (schema.sql applied); ``db`` runs SQL on a separate connection with that schema on
its search path, to look at (or prepare) the tables without going through the store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.postgres import PostgresStore
from tests.contract.harnesses.postgres import scratch_schema
from tests.integration.postgres.db import Database


@pytest.fixture
async def pg_schema(database_url: str) -> AsyncIterator[str]:
    async with scratch_schema(database_url) as schema:
        yield schema


@pytest.fixture
async def pg_store(database_url: str, pg_schema: str) -> AsyncIterator[PostgresStore]:
    async with PostgresStore.open(database_url, schema=pg_schema, max_size=4) as store:
        yield store


@pytest.fixture
def db(database_url: str, pg_schema: str) -> Database:
    return Database(database_url, pg_schema)
