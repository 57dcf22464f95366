"""The order state machine (DESIGN §3): one table of legal transitions, everything else refused."""

from __future__ import annotations

import enum
from decimal import Decimal


class OrderStatus(enum.StrEnum):
    PENDING = "PENDING"  # decided and committed, not yet sent
    SUBMITTING = "SUBMITTING"  # about to be sent / being sent: the send may have reached the venue
    UNKNOWN = "UNKNOWN"  # the send got no clear answer: must be resolved, never resent
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"

    @property
    def is_final(self) -> bool:
        """No more venue activity is expected (a CANCELED/EXPIRED order may still take a late
        fill, which the monitor records before it lets the order go)."""
        return self in FINAL

    @property
    def is_live(self) -> bool:
        """Known to the venue and possibly still working."""
        return self in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)

    @property
    def is_unresolved(self) -> bool:
        return self in (OrderStatus.SUBMITTING, OrderStatus.UNKNOWN)


S = OrderStatus
FINAL = frozenset({S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED})
_VENUE_OUTCOMES = frozenset({S.NEW, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED})

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.SUBMITTING, S.EXPIRED}),
    # SUBMITTING -> PENDING only when the venue clearly refused to look at it for now
    # (maintenance, rate limit): definitively not placed, so it may be sent again later.
    S.SUBMITTING: _VENUE_OUTCOMES | {S.REJECTED, S.UNKNOWN, S.PENDING},
    S.UNKNOWN: _VENUE_OUTCOMES | {S.REJECTED},
    S.NEW: frozenset({S.NEW, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED}),
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED}),
    # A cancel races fills: a fill reported after the venue said CANCELED/EXPIRED is still ours.
    S.CANCELED: frozenset({S.CANCELED}),
    S.EXPIRED: frozenset({S.EXPIRED}),
    S.FILLED: frozenset({S.FILLED}),
    S.REJECTED: frozenset({S.REJECTED}),
}


class IllegalTransition(ValueError):
    def __init__(self, current: OrderStatus, new: OrderStatus) -> None:
        super().__init__(f"illegal order transition {current.value} -> {new.value}")
        self.current = current
        self.new = new


def can_transition(current: OrderStatus, new: OrderStatus) -> bool:
    return new in TRANSITIONS[current]


def check_transition(current: OrderStatus, new: OrderStatus) -> None:
    if not can_transition(current, new):
        raise IllegalTransition(current, new)


class VenueStatus(enum.StrEnum):
    """GMO's order statuses."""

    WAITING = "WAITING"
    ORDERED = "ORDERED"
    MODIFYING = "MODIFYING"
    CANCELLING = "CANCELLING"
    CANCELED = "CANCELED"
    EXECUTED = "EXECUTED"
    EXPIRED = "EXPIRED"

    @property
    def is_final(self) -> bool:
        return self in (VenueStatus.CANCELED, VenueStatus.EXECUTED, VenueStatus.EXPIRED)


def status_from_venue(venue: VenueStatus, executed: Decimal, size: Decimal) -> OrderStatus:
    """Map GMO's status plus executed size to ours (DESIGN §3)."""
    if venue is VenueStatus.EXECUTED:
        return S.FILLED
    if venue is VenueStatus.CANCELED:
        return S.CANCELED
    if venue is VenueStatus.EXPIRED:
        return S.EXPIRED
    if executed <= 0:
        return S.NEW
    return S.FILLED if executed >= size else S.PARTIALLY_FILLED
