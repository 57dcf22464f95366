"""Net positions and realized PnL (DESIGN §5), exact with Decimal.

A fill in the position's direction grows it and moves the average price by weight; a fill against
it shrinks it and realizes (fill − average) × qty × direction; a fill larger than the position
closes it and opens the rest the other way. Every fee (signed; negative is a rebate) is charged to
realized PnL when it is paid, so that for any fill sequence

    realized_pnl + unrealized(mark) == Σ cash flows of the fills + quantity × mark − Σ fees.

A round trip runs from flat to flat (or to a flip); its PnL after fees is what the
consecutive-losses rule counts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from hexexec.domain.fills import Fill

ZERO = Decimal("0")


class PositionSide(enum.StrEnum):
    LONG = "LONG"
    SHORT = "SHORT"


@dataclass(frozen=True, slots=True)
class ClosedTrip:
    """A round trip that ended: its realized PnL after fees, and when it closed."""

    exchange: str
    symbol: str
    pnl: Decimal
    opened_at: datetime | None
    closed_at: datetime

    @property
    def is_loss(self) -> bool:
        return self.pnl < 0


@dataclass(frozen=True, slots=True)
class Position:
    """Net position of one (exchange, symbol). ``quantity`` is signed: + long, − short."""

    exchange: str
    symbol: str
    quantity: Decimal = ZERO
    average_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO  # after fees, since the beginning
    fees: Decimal = ZERO  # paid, signed as the venue reports
    trip_pnl: Decimal = ZERO  # realized after fees within the current round trip
    trip_opened_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def size(self) -> Decimal:
        return abs(self.quantity)

    @property
    def side(self) -> PositionSide | None:
        if self.quantity > 0:
            return PositionSide.LONG
        if self.quantity < 0:
            return PositionSide.SHORT
        return None

    @property
    def direction(self) -> int:
        return (self.quantity > 0) - (self.quantity < 0)

    def unrealized(self, mark: Decimal | None) -> Decimal:
        if mark is None or self.quantity == 0:
            return ZERO
        return (mark - self.average_price) * self.quantity


@dataclass(frozen=True, slots=True)
class FillEffect:
    position: Position
    realized_gross: Decimal  # realized by this fill before fees (GMO's lossGain for a close)
    closed_trip: ClosedTrip | None


def apply_fill(position: Position, fill: Fill) -> FillEffect:
    """The position after ``fill``; pure, so replaying a stored fill list rebuilds it exactly."""
    if fill.symbol != position.symbol or fill.exchange != position.exchange:
        raise ValueError(f"fill for {fill.exchange}:{fill.symbol} applied to {position.symbol}")
    if fill.size <= 0:
        raise ValueError(f"fill {fill.execution_id} has non-positive size {fill.size}")
    q = position.quantity
    signed = fill.size * fill.side.sign
    realized_gross = ZERO
    trip_pnl = position.trip_pnl - fill.fee
    trip_opened_at = position.trip_opened_at
    closed: ClosedTrip | None = None

    if q == 0 or (q > 0) == (signed > 0):
        new_q = q + signed
        average = (position.average_price * abs(q) + fill.price * fill.size) / abs(new_q)
        if q == 0:
            trip_opened_at = fill.timestamp
    else:
        closing = min(fill.size, abs(q))
        realized_gross = (fill.price - position.average_price) * closing * position.direction
        trip_pnl += realized_gross
        new_q = q + signed
        average = position.average_price
        if new_q == 0 or (new_q > 0) != (q > 0):
            closed = ClosedTrip(
                position.exchange, position.symbol, trip_pnl, trip_opened_at, fill.timestamp
            )
            trip_pnl = ZERO
            # A flip opens the remainder at the fill price; flat has no average.
            average = fill.price if new_q != 0 else ZERO
            trip_opened_at = fill.timestamp if new_q != 0 else None

    new_position = replace(
        position,
        quantity=new_q,
        average_price=average,
        realized_pnl=position.realized_pnl + realized_gross - fill.fee,
        fees=position.fees + fill.fee,
        trip_pnl=trip_pnl,
        trip_opened_at=trip_opened_at,
        updated_at=fill.timestamp,
    )
    return FillEffect(new_position, realized_gross, closed)


def order_fill_summary(fills: list[Fill]) -> tuple[Decimal, Decimal | None]:
    """Filled size and size-weighted average price of an order's fills."""
    size = sum((f.size for f in fills), ZERO)
    if size == 0:
        return ZERO, None
    return size, sum((f.price * f.size for f in fills), ZERO) / size
