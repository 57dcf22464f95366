"""Make a log event safe to store: secrets masked, text PostgreSQL accepts, JSON that parses.

A key is secret when its words (split on ``_``, ``-``, ``.`` and case changes) name a secret:
``api_key``, ``API-SIGN``, ``apiSecret``, ``password``, ``Authorization``, ``sign``, ``token``…
Its value is replaced whatever it is, nested mappings and ``(name, value)`` pairs (header lists)
included. A credential inside a URL (``scheme://user:password@host``) is masked in any string.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

MASK = "[redacted]"
MAX_DEPTH = 8
MAX_TEXT = 10_000  # one event should not fill the table: long text is cut, and says so

_SECRET_WORDS = frozenset({
    "secret", "password", "passwd", "pwd", "authorization", "auth", "sign", "signature",
    "token", "credential", "credentials", "cookie", "apikey", "passphrase",
})
_KEY_QUALIFIERS = frozenset({"api", "private", "access", "secret"})  # api_key, private_key …
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:@/\s]*):[^@/\s]*@")


def is_secret_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    words = {w.lower() for w in _WORD.findall(key)}
    if words & _SECRET_WORDS:
        return True
    return "key" in words and bool(words & _KEY_QUALIFIERS)


def clean_text(text: str) -> str:
    """Mask URL credentials, replace NUL (PostgreSQL text cannot hold it), cap the length."""
    text = _URL_CREDENTIALS.sub(rf"\g<scheme>\g<user>:{MASK}@", text).replace("\x00", "\ufffd")
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
