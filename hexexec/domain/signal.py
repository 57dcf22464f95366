"""The trading signal as the strategy publishes it (DESIGN §1), once validated."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


class Action(enum.StrEnum):
    ENTER_LONG = "enter_long"
    EXIT_LONG = "exit_long"
    ENTER_SHORT = "enter_short"
    EXIT_SHORT = "exit_short"

    @property
    def is_entry(self) -> bool:
        return self in (Action.ENTER_LONG, Action.ENTER_SHORT)

    @property
    def direction(self) -> int:
        """+1 for the long book, -1 for the short book."""
        return 1 if self in (Action.ENTER_LONG, Action.EXIT_LONG) else -1


class OrderType(enum.StrEnum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"


class TimeInForce(enum.StrEnum):
    FAS = "FAS"  # rest on the book (GTC)
    FAK = "FAK"  # fill and kill
    FOK = "FOK"  # fill or kill
    SOK = "SOK"  # post only


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where a signal came from: a stream and the entry's id in it."""

    stream: str
    message_id: str


@dataclass(frozen=True, slots=True)
class Signal:
    """A validated signal. ``size`` is None only for an exit of the whole position."""

    source: MessageRef
    exchange: str
    symbol: str
    action: Action
    size: Decimal | None
    order_type: OrderType
    price_ref: Decimal | None
    time_in_force: TimeInForce | None
    signal_id: int | None
    strategy: str | None
    timestamp: datetime

    def age_seconds(self, now: datetime) -> float:
        return (now - self.timestamp).total_seconds()


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A stream entry exactly as read: raw fields, and how many times it has been delivered."""

    ref: MessageRef
    fields: tuple[tuple[bytes, bytes], ...]
    deliveries: int = 1

    @staticmethod
    def of(
        ref: MessageRef, fields: dict[str, str] | dict[bytes, bytes], deliveries: int = 1
    ) -> InboundMessage:
        pairs = tuple(
            (k.encode() if isinstance(k, str) else k, v.encode() if isinstance(v, str) else v)
            for k, v in fields.items()
        )
        return InboundMessage(ref, pairs, deliveries)
