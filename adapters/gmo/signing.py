"""GMO Coin request signing: API-SIGN = hex(HMAC-SHA256(secret, timestamp + METHOD + path + body)).

The rules that trip clients (reference §1, §10.2): the signed path starts at ``/v1`` (no
``/private`` prefix) and carries no query string; only POST bodies are signed (GET has none, and
PUT/DELETE bodies are sent but not signed); a POST body is signed exactly as sent.

The secret lives in :class:`ApiSecret`, whose repr and str mask it: a traceback rendered with its
locals (structlog's default) or any repr of an object holding it shows nothing usable.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Protocol

_BODY_SIGNED = frozenset({"POST"})


class _SecretLike(Protocol):
    def get_secret_value(self) -> str: ...  # pydantic's SecretStr


def signed_text(timestamp: str, method: str, path: str, body: str = "") -> str:
    """The exact string GMO signs for a request. ``path`` starts at ``/v1``, without a query."""
    method = method.upper()
    if not path.startswith("/v1"):
        raise ValueError(f"the signed path starts at /v1, got {path!r}")
    if "?" in path:
        raise ValueError("the query string is not signed: pass the path alone")
    if not timestamp.isdigit():
        raise ValueError("API-TIMESTAMP is a decimal count of milliseconds")
    return timestamp + method + path + (body if method in _BODY_SIGNED else "")


def api_sign(secret: str, timestamp: str, method: str, path: str, body: str = "") -> str:
    """API-SIGN of one request (lowercase hex)."""
    text = signed_text(timestamp, method, path, body)
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


class ApiSecret:
    """The API secret, kept out of every repr, str and rendered traceback."""

    __slots__ = ("_key",)

    def __init__(self, secret: str | _SecretLike | ApiSecret) -> None:
        if isinstance(secret, ApiSecret):
            self._key: bytes = secret._key
            return
        raw = secret if isinstance(secret, str) else secret.get_secret_value()
        if not raw:
            raise ValueError("the API secret is empty")
        self._key = raw.encode()

    def sign(self, timestamp: str, method: str, path: str, body: str = "") -> str:
        """API-SIGN of one request with this secret."""
        text = signed_text(timestamp, method, path, body)
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "ApiSecret('**********')"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[Any, ...]:
        raise TypeError("an API secret is not to be pickled or stored")
