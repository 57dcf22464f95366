"""What a GMO error means for the caller: every code of the reference (§8) has one class.

- definitive, ``BrokerRejected``: the venue answered and did not do it;
- come back later, ``BrokerUnavailable``: rate limit, maintenance, pre-open, busy (not done either:
  an order may be sent again after the pause);
- ``OrderNotCancellable`` (ERR-5122) and ``OrderNotFound`` (ERR-5123);
- ambiguous, ``AmbiguousOutcome``: no readable answer (timeout, reset, 5xx, garbage), decided by
  the transport, never guessed from a code.

An error code not in the table still came in an error envelope, a clear "no": it is a rejection.
ERR-5008/5009 (our clock is off) are "come back later": the request was refused before it was
looked at, so it may be signed again with a fresh timestamp.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hexexec.domain.errors import (
    AmbiguousOutcome,
    BrokerError,
    BrokerRejected,
    BrokerUnavailable,
    OrderNotCancellable,
    OrderNotFound,
)

RATE_LIMITED = "ERR-5003"
CLOCK_SKEW = frozenset({"ERR-5008", "ERR-5009"})
MAINTENANCE = "ERR-5201"
MAINTENANCE_STATUS = 5

# Seconds to wait before coming back, per code (a hint: the core backs off at least this long).
RETRY_AFTER: dict[str, float] = {
    RATE_LIMITED: 1.0,
    "ERR-5008": 1.0,
    "ERR-5009": 1.0,
    MAINTENANCE: 30.0,  # regular maintenance: about two hours
    "ERR-5202": 30.0,  # emergency maintenance
    "ERR-5203": 5.0,  # pre-open: orders refused until OPEN
    "ERR-554": 2.0,  # server unavailable
    "ERR-626": 1.0,  # server busy
}
NOT_CANCELLABLE = "ERR-5122"
NOT_FOUND = "ERR-5123"

# Every other code of the reference: a clear refusal (bug, funds, rules, account state).
REJECTIONS = frozenset({
    "ERR-70", "ERR-189", "ERR-200", "ERR-201", "ERR-208", "ERR-254", "ERR-422", "ERR-430",
    "ERR-635", "ERR-682", "ERR-683", "ERR-846", "ERR-5007", "ERR-5010", "ERR-5011", "ERR-5012",
    "ERR-5014", "ERR-5106", "ERR-5111", "ERR-5114", "ERR-5118", "ERR-5121", "ERR-5125",
    "ERR-5126", "ERR-5127", "ERR-5129", "ERR-5130", "ERR-5132", "ERR-5204", "ERR-5206",
    "ERR-5207", "ERR-5208",
})


@dataclass(frozen=True, slots=True)
class VenueMessage:
    """One entry of an error envelope's ``messages``."""

    code: str
    text: str


def error_for(code: str, text: str) -> BrokerError:
    """The exception one GMO error code stands for."""
    if code in RETRY_AFTER:
        return BrokerUnavailable(code, text, RETRY_AFTER[code])
    if code == NOT_CANCELLABLE:
        return OrderNotCancellable(f"{code}: {text}")
    if code == NOT_FOUND:
        return OrderNotFound(f"{code}: {text}")
    return BrokerRejected(code, text)


# When an envelope carries several codes, the one that decides (lowest rank wins): waiting is
# safer than giving up, and a missing order says more than a refused cancel.
def _rank(code: str) -> int:
    if code in RETRY_AFTER:
        return 0
    if code == NOT_FOUND:
        return 1
    if code == NOT_CANCELLABLE:
        return 2
    return 3


def error_for_envelope(status: int, messages: Sequence[VenueMessage]) -> BrokerError:
    """The exception for a non-zero ``status`` with its messages (every entry is looked at)."""
    if not messages:
        if status == MAINTENANCE_STATUS:
            return BrokerUnavailable(MAINTENANCE, "maintenance (status 5)", RETRY_AFTER[MAINTENANCE])
        return AmbiguousOutcome(f"error status {status} without a message code")
    deciding = min(messages, key=lambda m: _rank(m.code))
    others = [f"{m.code}: {m.text}" for m in messages if m is not deciding]
    text = deciding.text if not others else f"{deciding.text} (also {'; '.join(others)})"
    return error_for(deciding.code, text)

