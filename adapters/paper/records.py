"""The venue's own record of one order: mutable inside the venue, read out as a VenueOrder."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from hexexec.domain.fills import Fill
from hexexec.domain.order_status import VenueStatus
from hexexec.domain.orders import OrderIntent, SettleType
from hexexec.domain.signal import OrderType, TimeInForce
from hexexec.domain.venue import VenueOrder

# Statuses in which an order is still working (GMO's activeOrders).
LIVE = frozenset(
    {VenueStatus.WAITING, VenueStatus.ORDERED, VenueStatus.MODIFYING, VenueStatus.CANCELLING}
)


@dataclass(slots=True)
class OrderRecord:
    """Everything the venue knows about one order it accepted, fills included.

    ``settle_type`` is what the venue reports: spot orders are always OPEN on GMO, even when we
    send them to reduce a holding. ``cancel_type`` follows GMO (USER, EXPIRED_FAK, ...).
    """

    order_id: str
    intent: OrderIntent
    settle_type: SettleType
    time_in_force: TimeInForce
    timestamp: datetime
    status: VenueStatus = VenueStatus.ORDERED
    executed: Decimal = Decimal("0")
    cancel_type: str | None = None
    cancel_due: datetime | None = None
    fills: list[Fill] = field(default_factory=list)

    @property
    def remaining(self) -> Decimal:
        return self.intent.size - self.executed

    @property
    def symbol(self) -> str:
        return self.intent.symbol

    @property
    def is_live(self) -> bool:
        return self.status in LIVE

    def ended(self, status: VenueStatus, cancel_type: str | None) -> None:
        """Move to a final status (CANCELED/EXPIRED with a cancel type, or EXECUTED)."""
        self.status = status
        self.cancel_type = cancel_type
        self.cancel_due = None

    def view(self) -> VenueOrder:
        """The order as the venue reports it."""
        market = self.intent.order_type is OrderType.MARKET
        return VenueOrder(
            order_id=self.order_id,
            symbol=self.intent.symbol,
            side=self.intent.side,
            settle_type=self.settle_type,
            order_type=self.intent.order_type,
            price=None if market else self.intent.price,
            size=self.intent.size,
            executed_size=self.executed,
            status=self.status,
            timestamp=self.timestamp,
            time_in_force=self.time_in_force,
        )
