"""A fill (GMO: an execution) of one of our orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from hexexec.domain.orders import SettleType, Side


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. ``execution_id`` is the venue's and is unique: replaying it changes nothing.

    ``fee`` is signed as GMO reports it: positive is paid, negative is a maker rebate.
    ``loss_gain`` is the venue's realized PnL for a closing leverage fill (None when not given).
    """

    execution_id: str
    order_id: str
    exchange: str
    symbol: str
    side: Side
    settle_type: SettleType
    price: Decimal
    size: Decimal
    fee: Decimal
    timestamp: datetime
    loss_gain: Decimal | None = None


def booking_order(fill: Fill) -> tuple[datetime, int, str]:
    """The venue's order of fills, in which they are booked: by time, then by execution id
    (numeric ids compare as numbers: shorter first, then character by character)."""
    return (fill.timestamp, len(fill.execution_id), fill.execution_id)
