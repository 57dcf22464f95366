"""GMO's wire format: the response envelope, errors, decimals as strings, times with ms and Z.

Success is ``{"status":0,"data":...,"responsetime":"...Z"}`` (no ``data`` key for calls such as
cancelOrder); an error is ``{"status":1,"messages":[{"message_code":...,"message_string":...}],
"responsetime":...}`` with HTTP 200, status 5 for maintenance (reference §2).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from starlette.responses import Response

from hexexec.domain.errors import (
    BrokerError,
    BrokerRejected,
    BrokerUnavailable,
    OrderNotCancellable,
    OrderNotFound,
)


class _NoData:
    """Marks a success reply that carries no ``data`` key at all."""

    def __repr__(self) -> str:
        return "NO_DATA"


NO_DATA: Final = _NoData()
MAINTENANCE_CODES = frozenset({"ERR-5201", "ERR-5202"})

# GMO's message strings are free text; these read like the real ones where known.
MESSAGES = {
    "ERR-5003": "Requests are too many.",
    "ERR-5007": "API-TIMESTAMP is missing or not a number.",
    "ERR-5008": "A timestamp of API-TIMESTAMP in the request header is later than the API receipt time.",
    "ERR-5009": "A timestamp of API-TIMESTAMP in the request header is too far ahead of the server time.",
    "ERR-5010": "The signature of API-SIGN is invalid.",
    "ERR-5011": "API-KEY is not set.",
    "ERR-5012": "API authentication is invalid.",
    "ERR-5201": "MAINTENANCE. Please wait for a while",
    "ERR-5203": "The market is in PREOPEN. Orders are not accepted yet.",
    "ERR-5204": "The request API PATH is invalid.",
}


class GmoError(Exception):
    """An error reply: ``code`` (ERR-xxxx), body ``status`` (1, or 5 for maintenance)."""

    def __init__(self, code: str, message: str | None = None, *, status: int | None = None) -> None:
        self.code = code
        self.message = message or MESSAGES.get(code, code)
        self.status = status if status is not None else (5 if code in MAINTENANCE_CODES else 1)
        super().__init__(f"{code}: {self.message}")


def from_broker_error(error: BrokerError) -> GmoError:
    """The reply GMO gives for a venue's refusal."""
    if isinstance(error, BrokerRejected | BrokerUnavailable):
        return GmoError(error.code, error.message)
    if isinstance(error, OrderNotFound):
        return GmoError("ERR-5123", "The order does not exist.")
    if isinstance(error, OrderNotCancellable):
        return GmoError("ERR-5122", "The order cannot be changed or cancelled in its current state.")
    return GmoError("ERR-5106", str(error))


def iso_ms(moment: datetime) -> str:
    """``2019-03-19T02:15:06.108Z``: UTC, milliseconds, Z."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def dec(value: Decimal | None) -> str:
    """A decimal as GMO sends it: a plain string, no exponent, no trailing zeros ("0" for none)."""
    if value is None or value.is_zero():
        return "0"
    return format(value.normalize(), "f")


def envelope_ok(data: Any, now: datetime) -> dict[str, Any]:
    if data is NO_DATA:
        return {"status": 0, "responsetime": iso_ms(now)}
    return {"status": 0, "data": data, "responsetime": iso_ms(now)}


def envelope_error(error: GmoError, now: datetime) -> dict[str, Any]:
    return {
        "status": error.status,
        "messages": [{"message_code": error.code, "message_string": error.message}],
        "responsetime": iso_ms(now),
    }


class GmoJSONResponse(Response):
    """Compact JSON, UTF-8, as GMO sends it."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def ok_response(data: Any, now: datetime) -> GmoJSONResponse:
    return GmoJSONResponse(envelope_ok(data, now))


def error_response(error: GmoError, now: datetime, http_status: int = 200) -> GmoJSONResponse:
    return GmoJSONResponse(envelope_error(error, now), status_code=http_status)
