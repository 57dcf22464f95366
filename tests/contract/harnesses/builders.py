"""Domain values for the store suite: valid rows (they pass schema.sql's CHECKs), with every
optional field easy to set, and ``stored_order`` to add an order with its signal. Times are
offsets from one aware UTC instant."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hexexec.domain.accounting import ClosedTrip, Position
from hexexec.domain.fills import Fill
from hexexec.domain.order_status import OrderStatus
from hexexec.domain.orders import Order, OrderIntent, SettleType, Side
from hexexec.domain.records import DecisionRecord, SignalRecord, SignalStatus
from hexexec.domain.risk import RuleResult
from hexexec.domain.signal import (
    Action,
    MessageRef,
    OrderType,
    Signal,
    TimeInForce,
)
from ports.store import UnitOfWork

T0 = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
EXCHANGE = "gmo"
SYMBOL = "BTC_JPY"
_ids = itertools.count(1)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ref(stream: str = "signal:gmo") -> MessageRef:
    """A new (stream, message id) each call."""
    return MessageRef(stream, f"1714555800000-{next(_ids)}")


def signal(source: MessageRef, *, size: Decimal | None = Decimal("0.01"),
           price_ref: Decimal | None = Decimal("10000000"), symbol: str = SYMBOL) -> Signal:
    return Signal(
        source=source, exchange=EXCHANGE, symbol=symbol, action=Action.ENTER_LONG, size=size,
        order_type=OrderType.LIMIT, price_ref=price_ref, time_in_force=TimeInForce.FAS,
        signal_id=42, strategy="breakout-v2", timestamp=at(-1),
    )


def signal_record(source: MessageRef, *, status: SignalStatus = SignalStatus.ACCEPTED,
                  fields: tuple[tuple[bytes, bytes], ...] | None = None,
                  parsed: bool = True, reason: str | None = None) -> SignalRecord:
    raw = fields if fields is not None else ((b"exchange", b"gmo"), (b"symbol", SYMBOL.encode()))
    return SignalRecord(
        source=source, fields=raw, status=status, received_at=at(0), reason=reason,
        signal=signal(source) if parsed else None, deliveries=1,
    )


def decision(source: MessageRef, *, approved: bool = True, seconds: float = 0,
             client_order_id: str | None = None) -> DecisionRecord:
    results = (
        RuleResult("trading_state", True, "state ACTIVE (initial)",
                   {"state": "ACTIVE", "entry": "True"}),
        RuleResult("max_position", approved, "projected 0.02 of 0.05",
                   {"projected": "0.02", "limit": "0.05"}),
    )
    return DecisionRecord(source, approved, results, at(seconds), client_order_id)


def intent(*, symbol: str = SYMBOL, side: Side = Side.BUY, size: Decimal = Decimal("0.01"),
           price: Decimal | None = Decimal("10000000"), exchange: str = EXCHANGE,
           settle: SettleType = SettleType.OPEN) -> OrderIntent:
    order_type = OrderType.LIMIT if price is not None else OrderType.MARKET
    tif = TimeInForce.FAS if price is not None else None
    return OrderIntent(exchange, symbol, side, settle, order_type, size, price, tif)


def order(source: MessageRef, *, cid: str | None = None, status: OrderStatus = OrderStatus.PENDING,
          seconds: float = 0, order_id: str | None = None, **intent_args: Any) -> Order:
    return Order(
        client_order_id=cid or f"hx-{source.message_id}",
        source=source,
        intent=intent(**intent_args),
        status=status,
        created_at=at(seconds),
        updated_at=at(seconds),
        signal_time=at(seconds - 1),
        order_id=order_id,
    )


async def stored_order(uow: UnitOfWork, **kwargs: Any) -> Order:
    """A new order of a new signal, both added in ``uow`` (the schema's keys need the signal)."""
    source = ref()
    assert await uow.signals.add(signal_record(source))
    new = order(source, **kwargs)
    await uow.orders.add(new)
    return new


def fill(execution_id: str, *, order_id: str = "9001", seconds: float = 10,
         price: Decimal = Decimal("10000000"), size: Decimal = Decimal("0.01"),
         fee: Decimal = Decimal("0"), loss_gain: Decimal | None = None,
         side: Side = Side.BUY, symbol: str = SYMBOL) -> Fill:
    return Fill(execution_id, order_id, EXCHANGE, symbol, side, SettleType.OPEN, price, size, fee,
                at(seconds), loss_gain)


def position(symbol: str = SYMBOL, quantity: Decimal = Decimal("0.03")) -> Position:
    return Position(
        EXCHANGE, symbol, quantity=quantity, average_price=Decimal("10000123.456789"),
        realized_pnl=Decimal("-1234.5"), fees=Decimal("-12.25"), trip_pnl=Decimal("7.000001"),
        trip_opened_at=at(5), updated_at=at(6),
    )


def trip(seconds: float, pnl: Decimal = Decimal("-100")) -> ClosedTrip:
    return ClosedTrip(EXCHANGE, SYMBOL, pnl, at(seconds - 60), at(seconds))
