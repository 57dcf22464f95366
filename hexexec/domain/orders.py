"""Orders: what we intend to send (OrderIntent) and what we keep about it (Order)."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from hexexec.domain.order_status import OrderStatus, check_transition
from hexexec.domain.signal import MessageRef, OrderType, TimeInForce


class Side(enum.StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class SettleType(enum.StrEnum):
    """OPEN: ``POST /v1/order`` (spot buy/sell, leverage open). CLOSE: ``/v1/closeBulkOrder``."""

    OPEN = "OPEN"
    CLOSE = "CLOSE"


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """Exactly what is sent to the venue: rounded to the symbol's rules, nothing left to decide."""

    exchange: str
    symbol: str
    side: Side
    settle_type: SettleType
    order_type: OrderType
    size: Decimal
    price: Decimal | None
    time_in_force: TimeInForce | None

    @property
    def notional(self) -> Decimal | None:
        return None if self.price is None else self.price * self.size


@dataclass(frozen=True, slots=True)
class Order:
    """One order as we keep it. ``order_id`` is the venue's id, None until the venue knows it.

    ``client_order_id`` is ours: unique, set when the decision is committed, never reused.
    ``submitted_at`` is the wall-clock time of the (only) send, used to match an ambiguous
    submission against the venue's orders.
    """

    client_order_id: str
    source: MessageRef
    intent: OrderIntent
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    signal_time: datetime
    order_id: str | None = None
    filled_size: Decimal = Decimal("0")
    average_price: Decimal | None = None
    submitted_at: datetime | None = None
    cancel_requested_at: datetime | None = None
    reject_code: str | None = None
    reason: str | None = None

    @property
    def remaining(self) -> Decimal:
        return self.intent.size - self.filled_size

    @property
    def symbol(self) -> str:
        return self.intent.symbol

    def moved_to(self, status: OrderStatus, at: datetime, **changes: object) -> Order:
        """A copy in ``status`` (raises IllegalTransition when the table forbids it)."""
        check_transition(self.status, status)
        return replace(self, status=status, updated_at=at, **changes)  # type: ignore[arg-type]


def client_order_id_for(source: MessageRef) -> str:
    """Our order id for the (only) order a signal can produce: derived from the stream entry, so
    a redelivered entry can never mint a second id."""
    digest = hashlib.blake2b(f"{source.stream}\0{source.message_id}".encode(), digest_size=10)
    return "hx" + digest.hexdigest()
