"""Does a venue order look like the one we may have sent? (DESIGN §3 step 4)

GMO has no client order id, so an ambiguous submission is found again by its shape: symbol,
side, settlement (leverage only: spot orders always report OPEN), type, price, size, and a venue
timestamp no earlier than our send time minus the allowed clock skew.
"""

from __future__ import annotations

from datetime import timedelta

from hexexec.domain.orders import Order
from hexexec.domain.signal import OrderType
from hexexec.domain.symbols import is_leverage
from hexexec.domain.venue import VenueOrder


def matches_submission(order: Order, venue: VenueOrder, skew: timedelta) -> bool:
    intent = order.intent
    if venue.symbol != intent.symbol or venue.side is not intent.side:
        return False
    if is_leverage(intent.symbol) and venue.settle_type is not intent.settle_type:
        return False
    if venue.order_type is not intent.order_type or venue.size != intent.size:
        return False
    if intent.order_type is OrderType.LIMIT and venue.price != intent.price:
        return False
    sent = order.submitted_at
    return sent is None or venue.timestamp >= sent - skew
