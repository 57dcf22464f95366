"""PostgreSQL adapters: the store (PostgresStore, on schema.sql) and the event-log sink."""

from adapters.postgres.adaptation import RefusedValue
from adapters.postgres.event_log import PostgresEventLog
from adapters.postgres.schema import SCHEMA_VERSION, SchemaError
from adapters.postgres.store import PostgresStore
from adapters.postgres.unit_of_work import PostgresUnitOfWork, UnitOfWorkClosed

__all__ = [
    "SCHEMA_VERSION",
    "PostgresEventLog",
    "PostgresStore",
    "PostgresUnitOfWork",
    "RefusedValue",
    "SchemaError",
    "UnitOfWorkClosed",
]
