"""Reading GMO requests strictly: decimals must be JSON strings, ids JSON numbers (reference §2).

Being strict is the point of a fake: a client that sends a float size or a string id must fail
here rather than on the real exchange. Every problem is the ``GmoError`` GMO would answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from adapters.paper.http.wire import GmoError

E = TypeVar("E", bound=StrEnum)
PLAIN_DECIMAL = re.compile(r"\d+(\.\d+)?")
MAX_COUNT = 100


def bad(message: str) -> GmoError:
    return GmoError("ERR-5106", message)


def json_body(raw: bytes) -> dict[str, Any]:
    """A POST body: a JSON object (numbers with a fraction come back as Decimal, to be refused)."""
    try:
        body = json.loads(raw or b"{}", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as error:
        raise bad("The request body is not valid JSON.") from error
    if not isinstance(body, dict):
        raise bad("The request body must be a JSON object.")
    return body


def text(body: Mapping[str, Any], name: str) -> str:
    """A required string field."""
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise bad(f"{name} is required and must be a string.")
    return value


def decimal_text(body: Mapping[str, Any], name: str, *, required: bool = True) -> Decimal | None:
    """A price or size: a JSON string holding a plain non-negative decimal ("0.0001")."""
    value = body.get(name)
    if value is None:
        if required:
            raise bad(f"{name} is required.")
        return None
    if not isinstance(value, str) or not PLAIN_DECIMAL.fullmatch(value):
        raise bad(f"{name} must be a decimal string such as \"0.01\", got {value!r}.")
    return Decimal(value)


def choice(body: Mapping[str, Any], name: str, kind: type[E], *, code: str = "ERR-5106") -> E | None:
    """An optional enumerated string field (None when absent)."""
    value = body.get(name)
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError as error:
        raise GmoError(code, f"{name} {value!r} is not one of {[m.value for m in kind]}.") from error


def flag(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise bad(f"{name} must be true or false.")
    return value


def order_id(value: Any, name: str = "orderId") -> int:
    """An id as GMO wants it in a request body: a JSON integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise bad(f"{name} must be a positive JSON number, got {value!r}.")
    return value


def id_list(value: str | None, *, name: str, most: int, too_many: str) -> list[int]:
    """A comma-separated list of ids in a query string; ``too_many`` beyond ``most``."""
    if not value:
        raise bad(f"{name} is required.")
    parts = value.split(",")
    if len(parts) > most:
        raise GmoError(too_many, f"At most {most} ids may be given in {name}.")
    if not all(p.isascii() and p.isdigit() for p in parts):
        raise bad(f"{name} must be comma-separated numbers, got {value!r}.")
    return [int(p) for p in parts]


def query_symbol(query: Mapping[str, str], *, required: bool = True) -> str | None:
    symbol = query.get("symbol")
    if not symbol:
        if required:
            raise bad("symbol is required.")
        return None
    return symbol


def page_and_count(query: Mapping[str, str]) -> tuple[int, int]:
    """``page`` (default 1) and ``count`` (default and at most 100)."""
    values = []
    for name, default in (("page", 1), ("count", MAX_COUNT)):
        raw = query.get(name)
        if raw is None or raw == "":
            values.append(default)
            continue
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise bad(f"{name} must be a positive number, got {raw!r}.")
        values.append(int(raw))
    page, count = values
    if count > MAX_COUNT:
        raise bad(f"count must be at most {MAX_COUNT}.")
    return page, count
