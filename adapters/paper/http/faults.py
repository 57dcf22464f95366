"""Faults the simulated GMO server injects on demand, each for the next matching request(s).

Kinds, and what the client sees (``before``: the venue never sees the request; ``after``: the
venue has acted):
- ``latency``: ``delay_s`` more before the request is handled; it then proceeds normally.
- ``timeout`` (before): the request is held without an answer until the client gives up or
  ``hold_s`` passes, then the connection is closed. The venue never acts.
- ``http_error``: an HTTP ``http_status`` (5xx) with an HTML body, as a gateway sends it;
  ``after=True`` lets the venue act first (an order placed behind a 502).
- ``drop_reply`` (after): the venue acts (an order is accepted and recorded), then the reply is
  lost: ``mode="hold"`` withholds it (the client times out), ``mode="close"`` sends the status
  line and headers and closes the connection before the body (the client sees a broken reply).
- ``error``: a GMO error envelope with ``code`` (e.g. ERR-5003, ERR-554) without acting.

A fault matches a request when its ``method`` and ``path`` (``/v1/order``, or the full
``/private/v1/order``) match, None matching anything; it fires ``count`` times, oldest fault first.
``/sim/...`` control requests are never faulted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

FaultKind = Literal["latency", "timeout", "http_error", "drop_reply", "error"]
KINDS: frozenset[str] = frozenset({"latency", "timeout", "http_error", "drop_reply", "error"})
DropMode = Literal["hold", "close"]


@dataclass(slots=True)
class SimFault:
    """One scripted fault; see the module docstring for the kinds."""

    kind: FaultKind
    path: str | None = None
    method: str | None = None
    count: int = 1
    delay_s: float = 0.0
    http_status: int = 503
    after: bool = False
    mode: DropMode = "hold"
    code: str = "ERR-5003"
    status: int = 1

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {sorted(KINDS)}")
        if self.count < 1:
            raise ValueError("count must be at least 1")
        if self.delay_s < 0:
            raise ValueError("delay_s must not be negative")
        if not 500 <= self.http_status <= 599:
            raise ValueError("http_status must be a 5xx code")
        if self.mode not in ("hold", "close"):
            raise ValueError("mode must be 'hold' or 'close'")
        if self.path is not None and not self.path.startswith("/"):
            raise ValueError("path must start with '/' (e.g. /v1/order)")
        if self.method is not None:
            self.method = self.method.upper()

    def matches(self, method: str, url_path: str) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        if self.path is None:
            return True
        short = url_path.removeprefix("/private").removeprefix("/public")
        return self.path in (url_path, short)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> SimFault:
        """From a ``/sim/fault`` request body (same field names); ValueError when malformed."""
        allowed = set(cls.__dataclass_fields__)
        unknown = set(body) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields {sorted(unknown)}")
        if "kind" not in body:
            raise ValueError("a fault needs a 'kind'")
        try:
            return cls(**body)
        except TypeError as error:
            raise ValueError(str(error)) from error


class FaultScript:
    """Pending faults, fired in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[SimFault] = []
        self.fired: list[SimFault] = []  # a record of what fired, for tests and the operator

    def add(self, fault: SimFault) -> None:
        self._faults.append(fault)

    def clear(self) -> None:
        self._faults.clear()

    @property
    def pending(self) -> list[SimFault]:
        return list(self._faults)

    def take(self, method: str, url_path: str) -> list[SimFault]:
        """The faults this request meets: every matching latency fault, plus the first matching
        fault of another kind. Each one taken counts down and leaves the script at zero."""
        taken: list[SimFault] = []
        other = False
        for fault in list(self._faults):
            if not fault.matches(method, url_path):
                continue
            if fault.kind != "latency":
                if other:
                    continue
                other = True
            taken.append(fault)
            fault.count -= 1
            if fault.count == 0:
                self._faults.remove(fault)
        self.fired.extend(taken)
        return taken
