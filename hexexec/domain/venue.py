"""What the venue tells us about orders and positions (already mapped from its wire format)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from hexexec.domain.order_status import OrderStatus, VenueStatus, status_from_venue
from hexexec.domain.orders import SettleType, Side
from hexexec.domain.signal import OrderType, TimeInForce


@dataclass(frozen=True, slots=True)
class VenueOrder:
    order_id: str
    symbol: str
    side: Side
    settle_type: SettleType
    order_type: OrderType
    price: Decimal | None  # None for MARKET (GMO sends "0")
    size: Decimal
    executed_size: Decimal
    status: VenueStatus
    timestamp: datetime
    time_in_force: TimeInForce | None = None

    @property
    def our_status(self) -> OrderStatus:
        return status_from_venue(self.status, self.executed_size, self.size)


@dataclass(frozen=True, slots=True)
class VenuePosition:
    """The venue's net holding of a symbol: signed quantity (+ long, − short)."""

    symbol: str
    quantity: Decimal
    average_price: Decimal | None = None
