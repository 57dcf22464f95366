"""What the stores keep besides orders, fills and positions: the signal inbox and decisions."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from hexexec.domain.risk import RuleResult
from hexexec.domain.signal import MessageRef, Signal


class SignalStatus(enum.StrEnum):
    ACCEPTED = "ACCEPTED"  # an order was decided for it
    REJECTED = "REJECTED"  # a rule said no (see its decision)
    INVALID = "INVALID"  # bad input: dead-lettered with the reason
    EXPIRED = "EXPIRED"  # too old to trade when it would have been sent


@dataclass(frozen=True, slots=True)
class SignalRecord:
    """One inbox row, keyed by (stream, message id). ``fields`` are the raw bytes as received."""

    source: MessageRef
    fields: tuple[tuple[bytes, bytes], ...]
    status: SignalStatus
    received_at: datetime
    reason: str | None = None
    signal: Signal | None = None
    deliveries: int = 1


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """The risk decision for one signal: every rule run, its inputs and verdict."""

    source: MessageRef
    approved: bool
    results: tuple[RuleResult, ...]
    decided_at: datetime
    client_order_id: str | None = None

    @property
    def rejected_by(self) -> tuple[str, ...]:
        return tuple(r.rule for r in self.results if not r.passed)
