"""Fault injection for the paper broker: scripted one-shot faults plus seeded random ones.

Two moments per call: *before* the venue sees it (the call has no effect: a rejection, a timeout
before accepting, a transient ``BrokerUnavailable``, a failed query) and *after* the venue acted
(the reply is lost: the venue did it, the caller gets ``AmbiguousOutcome``). Scripted faults fire
first, in the order they were added, each once; random ones draw from a seeded generator so a
failing run can be replayed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from hexexec.domain.errors import AmbiguousOutcome, BrokerError, BrokerRejected, BrokerUnavailable

CALLS = frozenset(
    {
        "symbol_rules", "place", "cancel", "orders", "fills", "active_orders", "latest_fills",
        "positions",
    }
)
ACTIONS = frozenset({"place", "cancel"})  # the calls that change something on the venue
Stage = Literal["before", "after"]


@dataclass(frozen=True, slots=True)
class FaultRates:
    """Probabilities per call (0 to 1).

    ``reject``: a place is refused with ``reject_code``. ``timeout``: a place never reaches the
    venue and raises ``AmbiguousOutcome``. ``lost_reply``: a place or cancel is done by the venue
    but raises ``AmbiguousOutcome``. ``unavailable``: any call raises ``BrokerUnavailable``
    (ERR-5003, rate limit) without effect. ``query_error``: a query raises ``AmbiguousOutcome``.
    """

    reject: float = 0.0
    timeout: float = 0.0
    lost_reply: float = 0.0
    unavailable: float = 0.0
    query_error: float = 0.0
    reject_code: str = "ERR-201"


@dataclass(frozen=True, slots=True)
class _Scripted:
    call: str | None  # None: the next call of any kind
    stage: Stage
    make: Callable[[], BrokerError]


class PaperFaults:
    """A small programmable source of broker faults."""

    def __init__(self, *, seed: int = 0, rates: FaultRates | None = None) -> None:
        self.rates = rates or FaultRates()
        self._rng = random.Random(seed)
        self._script: list[_Scripted] = []

    @property
    def pending(self) -> int:
        """Scripted faults not fired yet."""
        return len(self._script)

    def reject_next_place(self, code: str, message: str = "rejected by fault injection") -> None:
        self._add("place", "before", lambda: BrokerRejected(code, message))

    def timeout_next_place(self) -> None:
        """The next place times out before the venue sees it."""
        self._add("place", "before", lambda: AmbiguousOutcome("timeout before the venue replied"))

    def lose_next_reply(self, call: str = "place") -> None:
        """The venue does the next ``call`` (place or cancel), and its reply is lost."""
        if call not in ACTIONS:
            raise ValueError(f"only {sorted(ACTIONS)} have a reply worth losing, not {call!r}")
        self._add(call, "after", lambda: AmbiguousOutcome("reply lost after the venue acted"))

    def unavailable_next(
        self, call: str | None = None, code: str = "ERR-5003", retry_after: float = 1.0
    ) -> None:
        """The next ``call`` (any call when None) is turned away without effect."""
        self._add(call, "before", lambda: BrokerUnavailable(code, "injected", retry_after))

    def fail_next(self, call: str, error: Callable[[], BrokerError] | None = None) -> None:
        """The next ``call`` fails before reaching the venue (default: ``AmbiguousOutcome``)."""
        self._add(call, "before", error or (lambda: AmbiguousOutcome(f"{call} failed (injected)")))

    def before(self, call: str) -> None:
        """Raise the fault due before the venue sees ``call``, if any."""
        self._fire_scripted(call, "before")
        r = self.rates
        if self._draw(r.unavailable):
            raise BrokerUnavailable("ERR-5003", "Requests are too many. (injected)")
        if call == "place":
            if self._draw(r.reject):
                raise BrokerRejected(r.reject_code, "rejected (injected)")
            if self._draw(r.timeout):
                raise AmbiguousOutcome("timeout before the venue replied (injected)")
        elif call not in ACTIONS and self._draw(r.query_error):
            raise AmbiguousOutcome(f"{call} failed (injected)")

    def after(self, call: str) -> None:
        """Raise the fault due after the venue acted on ``call`` (a lost reply), if any."""
        self._fire_scripted(call, "after")
        if call in ACTIONS and self._draw(self.rates.lost_reply):
            raise AmbiguousOutcome("reply lost after the venue acted (injected)")

    def _add(self, call: str | None, stage: Stage, make: Callable[[], BrokerError]) -> None:
        if call is not None and call not in CALLS:
            raise ValueError(f"unknown broker call {call!r}")
        self._script.append(_Scripted(call, stage, make))

    def _fire_scripted(self, call: str, stage: Stage) -> None:
        for i, fault in enumerate(self._script):
            if fault.stage == stage and fault.call in (None, call):
                del self._script[i]
                raise fault.make()

    def _draw(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate
