"""Broker: the venue, live (GMO over HTTP) or paper (the simulated venue in-process)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from hexexec.domain.fills import Fill
from hexexec.domain.orders import OrderIntent
from hexexec.domain.symbols import SymbolRules
from hexexec.domain.venue import VenueOrder, VenuePosition


class Broker(Protocol):
    """Every call may raise :mod:`hexexec.domain.errors`: ``BrokerUnavailable`` (maintenance, rate
    limit: come back later), ``AmbiguousOutcome`` (no clear answer) or ``BrokerRejected``."""

    async def symbol_rules(self) -> Mapping[str, SymbolRules]:
        """Trading rules of every symbol the venue lists."""
        ...

    async def place(self, intent: OrderIntent) -> str:
        """Send one order (OPEN: new order; CLOSE: close by symbol and side). Returns the venue's
        order id. ``BrokerRejected``/``BrokerUnavailable`` mean it was not taken; ``AmbiguousOutcome``
        means it may have been: the caller must resolve it and never resend."""
        ...

    async def cancel(self, order_id: str) -> None:
        """Ask the venue to cancel. Raises ``OrderNotCancellable`` if it is already ending or
        ended, ``OrderNotFound`` if the venue does not know it. Cancelling is asynchronous: the
        order ends when ``orders`` says so."""
        ...

    async def orders(self, order_ids: Sequence[str]) -> Sequence[VenueOrder]:
        """Current state of these orders, live or ended (unknown ids are left out)."""
        ...

    async def fills(self, order_id: str) -> Sequence[Fill]:
        """Every fill of one order."""
        ...

    async def active_orders(self, symbol: str) -> Sequence[VenueOrder]:
        """Orders of ``symbol`` still working on the venue (all pages)."""
        ...

    async def latest_fills(self, symbol: str, limit: int | None = None) -> Sequence[Fill]:
        """Recent fills of ``symbol`` (GMO: the last day), newest first; only the latest
        ``limit`` when given (GMO: one request per 100)."""
        ...

    async def positions(self) -> Sequence[VenuePosition]:
        """The venue's net holdings per symbol (leverage positions; spot balances)."""
        ...
