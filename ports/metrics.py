"""Metrics: what the core reports about itself (DESIGN §9). Implemented over prometheus-client."""

from __future__ import annotations

from typing import Protocol


class Metrics(Protocol):
    def signal_received(self, stream: str) -> None: ...

    def signal_decided(self, outcome: str, rules: tuple[str, ...] = ()) -> None:
        """outcome: accepted, rejected, invalid, expired, redelivery; rules: the rules that said no."""
        ...

    def dead_lettered(self, stream: str) -> None: ...

    def order_status(self, status: str) -> None:
        """An order moved to ``status``."""
        ...

    def submit_latency(self, seconds: float) -> None:
        """From sending an order to the venue's answer (the placement request alone)."""
        ...

    def step_duration(self, step: str, seconds: float) -> None:
        """How long one step on a signal's way to the venue took: ``decide`` (a batch's decide
        transaction, retries included), ``lease`` (waiting for and taking a symbol's send
        lease), ``claim`` (the transaction that marks an order SUBMITTING), ``record`` (storing
        the venue's answer)."""
        ...

    def venue_unavailable(self, unavailable: bool) -> None:
        """The venue asked us to wait (maintenance, rate limit) / answers again."""
        ...

    def position_drift(self, symbol: str, drift: float) -> None:
        """Our position minus the venue's, in base units."""
        ...

    def ready(self, ready: bool) -> None:
        """Recovery finished and intake is reading (``/readyz``)."""
        ...
