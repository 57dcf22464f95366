"""What writing a row to a database does to a value, done in memory: times come back in UTC.

A PostgreSQL ``timestamptz`` keeps the instant, not the offset it was written with, and refuses
nothing but gives back naive times as if they were local; the memory store keeps the instant too
(the value is converted to UTC) and refuses naive times outright, since the project's rule is
that every time is timezone-aware. Mappings are copied so a caller mutating its dict later cannot
reach into the store. NaN and infinite Decimals are refused, as schema.sql's CHECKs refuse them.
Everything else in the domain values is immutable and kept as is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

T = TypeVar("T")


class IntegrityError(Exception):
    """A write broke a rule a database would enforce (a unique key, a missing parent row, a
    CHECK constraint of schema.sql)."""


class NaiveDatetime(ValueError):
    """A datetime without a timezone reached the store."""


def _convert(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetime(f"naive datetime {value.isoformat()} (times must be aware UTC)")
        return value if value.tzinfo is UTC else value.astimezone(UTC)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return normalized(value)
    if isinstance(value, tuple):
        converted = tuple(_convert(v) for v in value)
        return value if all(a is b for a, b in zip(converted, value, strict=True)) else converted
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Decimal) and not value.is_finite():
        raise IntegrityError(f"{value} is not a number a NUMERIC column keeps")
    return value


def normalized(row: T) -> T:
    """``row`` (a frozen dataclass) with every datetime inside it in UTC, nested values too.
    Returns the same object when nothing needed converting."""
    changes = {}
    for f in dataclasses.fields(row):  # type: ignore[arg-type]
        old = getattr(row, f.name)
        new = _convert(old)
        if new is not old:
            changes[f.name] = new
    return dataclasses.replace(row, **changes) if changes else row  # type: ignore[type-var]
