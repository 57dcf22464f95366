"""Make a log event safe to store: secrets masked, text PostgreSQL accepts, JSON that parses.

Which keys are secret is the domain's rule (:mod:`hexexec.domain.secrets`); a secret's value is
replaced whatever it is, nested mappings and ``(name, value)`` pairs (header lists) included.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hexexec.domain.secrets import MASK, is_secret_key, mask_credentials

MAX_DEPTH = 8
MAX_TEXT = 10_000  # one event should not fill the table: long text is cut, and says so


def clean_text(text: str) -> str:
    """Mask URL credentials, replace NUL (PostgreSQL text cannot hold it), cap the length."""
    text = mask_credentials(text).replace("\x00", "\ufffd")
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + f"…[{len(text) - MAX_TEXT} more characters]"
    return text


def redact(value: Any, depth: int = 0) -> Any:
    """A JSON-ready copy of ``value`` with every secret masked."""
    if depth > MAX_DEPTH:
        return "[too deep]"
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # JSON has no NaN/Infinity
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, bytes | bytearray):
        return clean_text(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, Mapping):
        return {
            clean_text(str(k)): MASK if is_secret_key(k) else redact(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)
        if len(items) == 2 and is_secret_key(items[0]):  # a (name, value) pair, e.g. a header
            return [redact(items[0], depth + 1), MASK]
        return [redact(v, depth + 1) for v in items]
    return clean_text(str(value))  # Decimal, datetime, enums, exceptions …
