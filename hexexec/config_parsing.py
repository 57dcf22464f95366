"""Turning setting text into values, and validation errors into one line a person can act on.

Helpers of :mod:`hexexec.config`: comma-separated lists, ``SYMBOL:value`` maps, URL checks, and
:func:`describe_errors`, which names each variable as it is spelled in the environment and never
echoes a secret (a secret field's input is left out; a password inside a URL is masked).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from hexexec.logs import redact_text

SYMBOL = re.compile(r"[A-Z0-9]+(?:_[A-Z0-9]+)?")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]*")
STREAM = re.compile(r"[^\s,]+")

_NUMBER_ERRORS = {
    "decimal_parsing": "not a number",
    "decimal_type": "not a number",
    "float_parsing": "not a number",
    "float_type": "not a number",
    "int_parsing": "not a whole number",
    "int_type": "not a whole number",
    "int_from_float": "not a whole number",
    "finite_number": "not a finite number",
    "bool_parsing": "not a boolean (true or false)",
    "bool_type": "not a boolean (true or false)",
    "missing": "required",
}


def invalid(message: str) -> PydanticCustomError:
    """An error whose message is shown as it is (no 'Value error, ' prefix)."""
    return PydanticCustomError("setting", message)


def split_list(value: Any) -> list[str] | Any:
    """``"a, b,c"`` -> ``["a", "b", "c"]``; an empty item is an error (a stray comma is a typo)."""
    if not isinstance(value, str):
        return value
    items = [item.strip() for item in value.split(",")]
    if items == [""]:
        return []
    if "" in items:
        raise invalid("empty item in the comma-separated list")
    return items


def check_symbols(items: Iterable[str]) -> tuple[str, ...]:
    seen: list[str] = []
    for item in items:
        if not SYMBOL.fullmatch(item):
            raise invalid(f"not a symbol such as BTC_JPY or BTC: {item!r}")
        if item in seen:
            raise invalid(f"listed twice: {item!r}")
        seen.append(item)
    if not seen:
        raise invalid("at least one symbol is needed")
    return tuple(seen)


def check_streams(items: Iterable[str]) -> tuple[str, ...]:
    names = tuple(items)
    for name in names:
        if not STREAM.fullmatch(name):
            raise invalid(f"not a stream name or pattern: {name!r}")
    if len(set(names)) != len(names):
        raise invalid("a stream is listed twice")
    return names


def parse_symbol_map(value: Any) -> dict[str, Decimal] | Any:
    """``"BTC_JPY:0.05,ETH_JPY:1"`` -> ``{"BTC_JPY": Decimal("0.05"), "ETH_JPY": Decimal("1")}``."""
    if not isinstance(value, str):
        return value
    result: dict[str, Decimal] = {}
    for item in split_list(value):
        symbol, sep, amount = (part.strip() for part in item.partition(":"))
        if not sep or not SYMBOL.fullmatch(symbol):
            raise invalid(f"expected SYMBOL:size items such as BTC_JPY:0.05, got {item!r}")
        if symbol in result:
            raise invalid(f"listed twice: {symbol!r}")
        try:
            size = Decimal(amount)
        except InvalidOperation:
            raise invalid(f"not a number: {amount!r} (for {symbol})") from None
        if not size.is_finite() or size <= 0:
            raise invalid(f"must be a positive number: {amount!r} (for {symbol})")
        result[symbol] = size
    return result


def check_url(value: str | None, schemes: Collection[str]) -> str | None:
    """A URL with one of ``schemes`` and a host (or a socket path), or None."""
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise invalid(f"not a URL: {redact_text(value)!r}") from None
    if parts.scheme not in schemes:
        wanted = " or ".join(f"{s}://" for s in sorted(schemes))
        raise invalid(f"must start with {wanted}: {redact_text(value)!r}")
    if not (parts.hostname or parts.path or parts.query):
        raise invalid(f"has no host: {redact_text(value)!r}")
    return value


def _field_env_name(loc: tuple[int | str, ...]) -> str:
    return str(loc[0]).upper() if loc else ""


def _phrase(error: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _NUMBER_ERRORS:
        return _NUMBER_ERRORS[kind]
    if kind == "greater_than":
        return f"must be greater than {ctx.get('gt')}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than":
        return f"must be less than {ctx.get('lt')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "literal_error":
        return f"must be {ctx.get('expected')}"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def describe_errors(exc: ValidationError, secret_fields: Collection[str]) -> str:
    """One line for all of ``exc``'s errors: ``NAME: what is wrong[: 'input']; NAME2: …``."""
    parts: list[str] = []
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        name = _field_env_name(loc)
        phrase = _phrase(error)
        text = f"{name}: {phrase}" if name else phrase
        raw = error.get("input")
        # Our own messages already quote what they refer to; built-in ones get the input appended.
        if (
            error["type"] != "setting"
            and name
            and str(loc[0]) not in secret_fields
            and isinstance(raw, str | int | float | Decimal)
        ):
            text += f": {redact_text(str(raw))!r}"
        parts.append(" ".join(text.split()))  # one line, whatever the input held
    return "; ".join(parts)
