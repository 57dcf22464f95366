"""GMO's private-API authentication, checked the way the reference describes it (§1, §8).

``API-SIGN`` is the lowercase hex HMAC-SHA256, keyed with the secret, of
``API-TIMESTAMP + METHOD + path + body`` where the path starts at ``/v1`` (no ``/private``, no
query string) and the body is the exact text of a POST (empty for GET). The secret never leaves
this module: errors name the key at most.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from adapters.paper.http.wire import GmoError

PRIVATE_PREFIX = "/private"


def sign(secret: str, timestamp: str, method: str, path: str, body: str = "") -> str:
    """The ``API-SIGN`` a client sends for this request (``path`` as signed: ``/v1/...``)."""
    message = f"{timestamp}{method.upper()}{path}{body}"
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def signed_path(url_path: str) -> str:
    """The part of a request path that is signed: ``/private/v1/order`` -> ``/v1/order``."""
    return url_path.removeprefix(PRIVATE_PREFIX)


def signed_body(method: str, raw_body: bytes) -> str:
    """POST bodies are signed byte for byte; GET (and PUT/DELETE) bodies are not."""
    if method.upper() != "POST":
        return ""
    try:
        return raw_body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise GmoError("ERR-5106", "The request body is not UTF-8.") from error


def authenticate(
    headers: Mapping[str, str],
    method: str,
    url_path: str,
    raw_body: bytes,
    *,
    credentials: Mapping[str, str],
    now_ms: int,
    stale_after_ms: int,
    ahead_after_ms: int,
) -> str:
    """Check the three headers; the API key on success, else the ``GmoError`` GMO would give.

    Order of checks: key missing (5011), key unknown (5012), timestamp missing or not a number
    (5007), too old (5008), too far ahead (5009), signature (5010).
    """
    key = headers.get("api-key", "")
    if not key:
        raise GmoError("ERR-5011")
    secret = credentials.get(key)
    if secret is None:
        raise GmoError("ERR-5012")
    timestamp = headers.get("api-timestamp", "")
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise GmoError("ERR-5007")
    skew = now_ms - int(timestamp)
    if skew > stale_after_ms:
        raise GmoError("ERR-5008")
    if -skew > ahead_after_ms:
        raise GmoError("ERR-5009")
    expected = sign(secret, timestamp, method, signed_path(url_path), signed_body(method, raw_body))
    given = headers.get("api-sign", "")
    if not hmac.compare_digest(expected.encode("ascii"), given.encode("ascii", "replace")):
        raise GmoError("ERR-5010")
    return key
