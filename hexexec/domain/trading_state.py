"""The persisted trading state (DESIGN §4): ACTIVE, REDUCING (exits only), HALTED (nothing new)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime


class TradingState(enum.StrEnum):
    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RiskState:
    """Trading state with its reason, who set it and when.

    ``resumed_at`` is when an operator last resumed: breakers look only at what happened after it
    (the drawdown peak and the loss streak start afresh), so a resume really releases them.
    """

    state: TradingState = TradingState.ACTIVE
    reason: str = "initial"
    set_by: str = "system"
    set_at: datetime = EPOCH
    resumed_at: datetime = EPOCH

    def tripped(self, state: TradingState, reason: str, at: datetime) -> RiskState:
        """A breaker sets a stricter state; it never loosens one (HALTED stays HALTED)."""
        order = [TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED]
        if order.index(state) <= order.index(self.state):
            return self
        return RiskState(state, reason, "risk", at, self.resumed_at)

    def halted(self, reason: str, by: str, at: datetime) -> RiskState:
        return RiskState(TradingState.HALTED, reason, by, at, self.resumed_at)

    def resumed(self, reason: str, by: str, at: datetime) -> RiskState:
        return RiskState(TradingState.ACTIVE, reason, by, at, resumed_at=at)
