"""GMO's wire objects, field for field as they arrive (reference §3, §4), structured with cattrs.

Field names are GMO's own (camelCase, ``orderdSize`` misspelt as GMO spells it), so a schema
reads like the documentation. Prices, sizes and fees are Decimal from JSON strings (never
floats); ids arrive as numbers or strings and are kept as strings; times are aware UTC datetimes.
Unknown extra fields are ignored; a missing required field or a value of the wrong shape is a
:class:`~adapters.gmo.wire.WireError`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NewType, TypeVar

import cattrs

from adapters.gmo.wire import WireError, parse_time
from hexexec.domain.order_status import VenueStatus
from hexexec.domain.orders import Side

Id = NewType("Id", str)
T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)


@dataclass(frozen=True, slots=True)
class WireOrder:
    """An order of ``/v1/orders`` and ``/v1/activeOrders``."""

    orderId: Id
    symbol: str
    side: Side
    executionType: str  # MARKET, LIMIT, STOP
    settleType: str  # OPEN, CLOSE
    size: Decimal
    executedSize: Decimal
    price: Decimal  # "0" for MARKET
    status: VenueStatus
    timestamp: datetime
    timeInForce: str | None = None
    rootOrderId: Id | None = None
    orderType: str | None = None  # NORMAL, LOSSCUT
    losscutPrice: Decimal | None = None
    cancelType: str | None = None


@dataclass(frozen=True, slots=True)
class WireExecution:
    """A fill of ``/v1/executions`` and ``/v1/latestExecutions``."""

    executionId: Id
    orderId: Id
    symbol: str
    side: Side
    settleType: str
    size: Decimal
    price: Decimal
    fee: Decimal  # positive: paid; negative: maker rebate
    timestamp: datetime
    lossGain: Decimal = Decimal("0")
    positionId: Id | None = None


@dataclass(frozen=True, slots=True)
class WirePositionSummary:
    """One (symbol, side) of ``/v1/positionSummary``."""

    symbol: str
    side: Side
    sumPositionQuantity: Decimal
    averagePositionRate: Decimal | None = None
    sumOrderQuantity: Decimal | None = None
    positionLossGain: Decimal | None = None


@dataclass(frozen=True, slots=True)
class WireAsset:
    """One balance of ``/v1/account/assets``."""

    symbol: str
    amount: Decimal
    available: Decimal | None = None


@dataclass(frozen=True, slots=True)
class WireSymbol:
    """One symbol's rules of ``/public/v1/symbols``."""

    symbol: str
    minOrderSize: Decimal
    maxOrderSize: Decimal
    sizeStep: Decimal
    tickSize: Decimal
    takerFee: Decimal = Decimal("0")
    makerFee: Decimal = Decimal("0")


@dataclass(frozen=True, slots=True)
class WireTicker:
    """One symbol of ``/public/v1/ticker``."""

    symbol: str
    last: Decimal
    timestamp: datetime
    ask: Decimal | None = None
    bid: Decimal | None = None


def _decimal(value: Any, _: type) -> Decimal:
    # JSON strings as GMO sends them; Decimal/int when a number slipped through (parse_float=Decimal).
    if isinstance(value, bool) or not isinstance(value, str | Decimal | int):
        raise WireError(f"expected a decimal string, got {value!r}")
    try:
        number = Decimal(value)
    except ArithmeticError:
        raise WireError(f"expected a decimal string, got {value!r}") from None
    if not number.is_finite():
        raise WireError(f"expected a finite decimal, got {value!r}")
    return number


def _id(value: Any, _: type) -> Id:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise WireError(f"expected an id, got {value!r}")
    text = str(value)
    if not text.isdigit():
        raise WireError(f"expected a numeric id, got {value!r}")
    return Id(str(int(text)))


def _enum(value: Any, kind: type[E]) -> E:
    try:
        return kind(value)
    except ValueError:
        raise WireError(f"{value!r} is not a {kind.__name__}") from None


def _text(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise WireError(f"expected a string, got {value!r}")
    return value


converter = cattrs.Converter(forbid_extra_keys=False)
converter.register_structure_hook(Decimal, _decimal)
converter.register_structure_hook(Id, _id)
converter.register_structure_hook(str, _text)
for _kind in (Side, VenueStatus):  # str subclasses: their own hook, or the str one would match
    converter.register_structure_hook(_kind, _enum)
converter.register_structure_hook(datetime, lambda v, _: parse_time(v))


def structure(value: Any, kind: type[T]) -> T:
    """``value`` (parsed JSON) as ``kind``; ``WireError`` naming what did not fit."""
    try:
        return converter.structure(value, kind)
    except WireError:
        raise
    except Exception as exc:  # cattrs' grouped errors: flatten into one readable line
        raise WireError(f"{getattr(kind, '__name__', kind)}: {_describe(exc)}") from None


def structure_list(value: Any, kind: type[T]) -> list[T]:
    """A ``list`` of ``kind``; each item structured strictly."""
    if not isinstance(value, list):
        raise WireError(f"expected a list of {kind.__name__}, got {type(value).__name__}")
    return [structure(item, kind) for item in value]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        notes = [n for e in exc.exceptions for n in getattr(e, "__notes__", [])]
        inner = "; ".join(_describe(e) for e in exc.exceptions)
        return f"{inner} ({'; '.join(notes)})" if notes else inner
    return f"{type(exc).__name__}: {exc}"
