"""What may cross between Python and a query: refuse floats, non-finite decimals and naive
times on the way in; give times back in UTC on the way out.

Registered on every pooled connection (never globally), for both of psycopg's wire formats, so
no code path of this adapter can write a float into a NUMERIC column, or a time without a zone
into a timestamptz column (which PostgreSQL would silently read as UTC wall-clock time).
``Decimal`` values are sent as their exact digits, whatever their scale.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import psycopg
from psycopg.adapt import Buffer, Dumper, PyFormat
from psycopg.pq import Format
from psycopg.types.datetime import DatetimeBinaryDumper, DatetimeDumper
from psycopg.types.numeric import DecimalBinaryDumper, DecimalDumper


class RefusedValue(TypeError):
    """A value that must never reach the database was passed to a query."""


class _FloatRefused(Dumper):
    oid = 0

    def dump(self, obj: float) -> Buffer | None:
        raise RefusedValue(
            f"float {obj!r} refused: money, prices and sizes are Decimal end to end "
            "(parse the text with Decimal(str) at the edge, never via float)"
        )


class _FloatRefusedBinary(_FloatRefused):
    format = Format.BINARY


def _check_finite(obj: Decimal) -> None:
    if not obj.is_finite():
        raise RefusedValue(f"non-finite Decimal {obj!r} refused: no NaN or Infinity in the books")


class _FiniteDecimal(DecimalDumper):
    def dump(self, obj: Decimal) -> Buffer | None:
        _check_finite(obj)
        return super().dump(obj)


class _FiniteDecimalBinary(DecimalBinaryDumper):
    def dump(self, obj: Decimal) -> Buffer | None:
        _check_finite(obj)
        return super().dump(obj)


def _check_aware(obj: datetime) -> None:
    if obj.tzinfo is None or obj.utcoffset() is None:
        raise RefusedValue(f"naive datetime {obj.isoformat()} refused: times are aware UTC")


class _AwareDatetime(DatetimeDumper):
    def upgrade(self, obj: datetime, format: PyFormat) -> Dumper:
        _check_aware(obj)
        return self


class _AwareDatetimeBinary(DatetimeBinaryDumper):
    def upgrade(self, obj: datetime, format: PyFormat) -> Dumper:
        _check_aware(obj)
        return self


def configure_connection(conn: psycopg.Connection[object]) -> None:
    """Install the dumpers above on ``conn`` (the pool calls this for each new connection)."""
    adapters = conn.adapters
    adapters.register_dumper(float, _FloatRefused)
    adapters.register_dumper(float, _FloatRefusedBinary)
    adapters.register_dumper(Decimal, _FiniteDecimal)
    adapters.register_dumper(Decimal, _FiniteDecimalBinary)
    adapters.register_dumper(datetime, _AwareDatetime)
    adapters.register_dumper(datetime, _AwareDatetimeBinary)


def utc(value: datetime) -> datetime:
    """A timestamptz as the domain keeps it: aware, in UTC (whatever the session's zone)."""
    return value.astimezone(UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)
