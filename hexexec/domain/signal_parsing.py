"""Turn a raw stream entry into a :class:`Signal`, or say exactly why it is bad input (DESIGN §1).

Pure: the adapter hands over the entry's fields as it read them (bytes or str); every rule of the
contract is checked here, so the memory and the Redis source reject the same things the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from hexexec.domain.signal import Action, MessageRef, OrderType, Signal, TimeInForce
from hexexec.domain.symbols import is_leverage

E = TypeVar("E", Action, OrderType, TimeInForce)

MAX_PAYLOAD_BYTES = 64 * 1024
MAX_DECIMAL_CHARS = 40
# Sizes and prices at or above this are nonsense, and would overflow the 28-digit rounding.
MAX_DECIMAL_VALUE = Decimal(10) ** 15
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SIGNAL_ID = re.compile(r"-?[0-9]{1,19}")
INT64 = range(-(2**63), 2**63)  # signal_id is a BIGINT in the store
MAX_STRATEGY_CHARS = 200
KNOWN_FIELDS = frozenset(
    {
        "exchange", "symbol", "action", "size", "order_type", "price_ref", "time_in_force",
        "signal_id", "strategy", "timestamp",
    }
)
# GMO's timeInForce matrix (reference §5): MARKET takes FAK only; LIMIT takes FAS/FAK/FOK/SOK.
ALLOWED_TIF = {
    OrderType.MARKET: frozenset({TimeInForce.FAK}),
    OrderType.LIMIT: frozenset(TimeInForce),
}


class InvalidSignal(ValueError):
    """Bad input: the entry cannot be traded. ``reason`` is one line for people and the DLQ."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def decode_fields(raw: Mapping[bytes | str, bytes | str]) -> dict[str, str]:
    """Decode an entry's fields to text, refusing oversize or non-UTF-8 entries."""
    total = 0
    out: dict[str, str] = {}
    for key, value in raw.items():
        # surrogatepass: a lone surrogate in a str field is refused below as bad UTF-8.
        kb = key.encode("utf-8", "surrogatepass") if isinstance(key, str) else key
        vb = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
        total += len(kb) + len(vb)
        if total > MAX_PAYLOAD_BYTES:
            raise InvalidSignal(f"payload over {MAX_PAYLOAD_BYTES // 1024} KiB")
        try:
            out[kb.decode("utf-8")] = vb.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidSignal("field is not valid UTF-8") from None
    return out


def _unwrap_data(fields: dict[str, str]) -> dict[str, str]:
    if "data" not in fields:
        return fields
    if len(fields) != 1:
        raise InvalidSignal("'data' must be the only field when it is used")
    try:
        obj = json.loads(fields["data"], parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # deep nesting exhausts the parser's stack
        raise InvalidSignal(f"'data' is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidSignal("'data' is not a JSON object")
    out: dict[str, str] = {}
    for key, value in obj.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise InvalidSignal(f"'data.{key}' must be a string or a number")
        out[key] = str(value)
    return out


def _no_constant(name: str) -> object:
    raise InvalidSignal(f"{name} is not a number")


def _decimal(name: str, text: str) -> Decimal:
    if len(text) > MAX_DECIMAL_CHARS:
        raise InvalidSignal(f"{name} is too long")
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidSignal(f"{name} is not a decimal number: {text[:40]!r}") from None
    if not value.is_finite():
        raise InvalidSignal(f"{name} is not finite: {text[:40]!r}")
    if value <= 0:
        raise InvalidSignal(f"{name} must be positive, got {text[:40]}")
    if value >= MAX_DECIMAL_VALUE:
        raise InvalidSignal(f"{name} is out of range: {text[:40]}")
    return value


def _choice(name: str, text: str, enum_type: type[E]) -> E:
    try:
        return enum_type(text)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_type)
        raise InvalidSignal(f"unknown {name} {text[:40]!r} (expected one of {allowed})") from None


def stream_id_time(message_id: str) -> datetime:
    """The time a Redis stream id carries (its milliseconds part)."""
    try:
        ms = int(message_id.split("-", 1)[0])
        return EPOCH + timedelta(milliseconds=ms)  # exact: no float seconds
    except (ValueError, OverflowError):
        raise InvalidSignal(f"stream id {message_id[:40]!r} carries no time") from None


def _timestamp(text: str) -> datetime:
    text = text.strip()
    if text.isdigit():
        try:
            return EPOCH + timedelta(milliseconds=int(text))  # exact: no float seconds
        except (OverflowError, ValueError):
            raise InvalidSignal(f"timestamp out of range: {text[:40]}") from None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidSignal(f"timestamp is neither ISO-8601 nor epoch ms: {text[:40]!r}") from None
    if parsed.tzinfo is None:
        raise InvalidSignal(f"timestamp has no time zone: {text[:40]!r}")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. year 1 at +01:00 is before datetime.min in UTC
        raise InvalidSignal(f"timestamp out of range: {text[:40]!r}") from None


def parse_signal(
    source: MessageRef,
    raw: Mapping[bytes | str, bytes | str],
    *,
    exchange_name: str,
    symbols: frozenset[str],
) -> Signal:
    """Validate one entry against the signal contract. Raises :class:`InvalidSignal`."""
    fields = _unwrap_data(decode_fields(raw))

    def required(name: str) -> str:
        value = fields.get(name, "").strip()
        if not value:
            raise InvalidSignal(f"missing field {name!r}")
        return value

    exchange = required("exchange")
    if exchange != exchange_name:
        raise InvalidSignal(f"exchange {exchange[:40]!r} is not {exchange_name!r}")
    symbol = required("symbol")
    if symbol not in symbols:
        raise InvalidSignal(f"unknown symbol {symbol[:40]!r}")
    action = _choice("action", required("action"), Action)
    if not is_leverage(symbol) and action in (Action.ENTER_SHORT, Action.EXIT_SHORT):
        raise InvalidSignal(f"{action.value} on spot symbol {symbol}: spot cannot be shorted")

    size_text = fields.get("size", "").strip()
    if action.is_entry and not size_text:
        raise InvalidSignal(f"missing field 'size' (required for {action.value})")
    size = _decimal("size", size_text) if size_text else None

    order_type = _choice("order_type", fields.get("order_type", "LIMIT").strip() or "LIMIT", OrderType)
    price_text = fields.get("price_ref", "").strip()
    if order_type is OrderType.LIMIT and not price_text:
        raise InvalidSignal("missing field 'price_ref' (required for LIMIT)")
    price_ref = _decimal("price_ref", price_text) if price_text else None

    tif_text = fields.get("time_in_force", "").strip()
    tif = _choice("time_in_force", tif_text, TimeInForce) if tif_text else None
    if tif is not None and tif not in ALLOWED_TIF[order_type]:
        raise InvalidSignal(f"time_in_force {tif.value} is not allowed for {order_type.value}")

    signal_id: int | None = None
    if sid := fields.get("signal_id", "").strip():
        # ASCII digits only (str.isdigit also takes '²', which int() refuses), within BIGINT.
        if not SIGNAL_ID.fullmatch(sid) or int(sid) not in INT64:
            raise InvalidSignal(f"signal_id is not a 64-bit integer: {sid[:40]!r}")
        signal_id = int(sid)

    strategy = fields.get("strategy", "").strip() or None
    if strategy is not None and len(strategy) > MAX_STRATEGY_CHARS:
        raise InvalidSignal(f"strategy is longer than {MAX_STRATEGY_CHARS} characters")

    ts_text = fields.get("timestamp", "").strip()
    timestamp = _timestamp(ts_text) if ts_text else stream_id_time(source.message_id)

    return Signal(
        source=source,
        exchange=exchange,
        symbol=symbol,
        action=action,
        size=size,
        order_type=order_type,
        price_ref=price_ref,
        time_in_force=tif,
        signal_id=signal_id,
        strategy=strategy,
        timestamp=timestamp,
    )
