"""GMO's reply envelope: JSON with exact numbers, ``status`` 0 or an error with message codes.

``{"status": 0, "data": ..., "responsetime": "..."}`` on success (some calls send no ``data``);
``{"status": <non-zero>, "messages": [{"message_code", "message_string"}], ...}`` on error. The
body is read whatever the HTTP code; the code, never ``status`` alone, says what went wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from adapters.gmo.outcomes import VenueMessage, error_for_envelope


class WireError(ValueError):
    """A reply that is not what GMO sends (not JSON, not an envelope, a field of the wrong shape)."""


def _no_constants(name: str) -> Any:
    raise WireError(f"{name} is not a number GMO sends")


def parse_json(raw: bytes | str) -> Any:
    """JSON with every fractional number as a Decimal (never a float); NaN/Infinity refused."""
    try:
        return json.loads(raw, parse_float=Decimal, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError included
        raise WireError(f"reply is not JSON: {exc}") from None


def parse_time(value: object) -> datetime:
    """An ISO-8601 UTC time such as ``2019-03-19T02:15:06.108Z``, as an aware UTC datetime."""
    if not isinstance(value, str):
        raise WireError(f"expected an ISO-8601 time, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise WireError(f"expected an ISO-8601 time, got {value!r}") from None
    if parsed.tzinfo is None:
        raise WireError(f"time without a zone: {value!r}")
    return parsed.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Envelope:
    status: int
    data: Any  # None when the reply carries no data
    messages: tuple[VenueMessage, ...]
    response_time: datetime | None  # the venue's clock when it answered

    @property
    def ok(self) -> bool:
        return self.status == 0

    def result(self) -> Any:
        """``data`` of a successful reply; the matching exception for an error."""
        if not self.ok:
            raise error_for_envelope(self.status, self.messages)
        return self.data


def read_envelope(raw: bytes | str) -> Envelope:
    """Parse one reply body; ``WireError`` when it is not GMO's envelope."""
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise WireError("reply is not a JSON object")
    status = body.get("status")
    if not isinstance(status, int) or isinstance(status, bool):
        raise WireError(f"reply has no integer status: {status!r}")
    messages = tuple(_message(m) for m in _list(body.get("messages")))
    when = body.get("responsetime")
    try:
        response_time = parse_time(when) if when is not None else None
    except WireError:
        response_time = None  # only a hint for clock skew: an odd one is not worth failing for
    return Envelope(status, body.get("data"), messages, response_time)


def _list(value: object) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise WireError(f"messages is not a list: {value!r}")
    return value


def _message(entry: object) -> VenueMessage:
    if not isinstance(entry, dict) or not isinstance(entry.get("message_code"), str):
        raise WireError(f"message without a message_code: {entry!r}")
    text = entry.get("message_string")
    return VenueMessage(entry["message_code"], text if isinstance(text, str) else "")
