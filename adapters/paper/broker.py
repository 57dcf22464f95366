"""PaperBroker: the Broker port over a PaperVenue in-process, with latency and injected faults.

Each call takes half the latency to reach the venue and half to come back, so a lost reply
happens *after* the venue acted, and a timeout *before* it saw anything. The venue's own errors
(rejections, maintenance, unknown orders) pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import TypeVar

import trio

from adapters.paper.faults import PaperFaults
from adapters.paper.venue import PaperVenue
from hexexec.domain.errors import BrokerError
from hexexec.domain.fills import Fill
from hexexec.domain.orders import OrderIntent
from hexexec.domain.symbols import SymbolRules
from hexexec.domain.venue import VenueOrder, VenuePosition

T = TypeVar("T")


class PaperBroker:
    """Implements :class:`ports.broker.Broker` by calling ``venue`` directly."""

    def __init__(
        self, venue: PaperVenue, *, latency_s: float = 0.0, faults: PaperFaults | None = None
    ) -> None:
        if latency_s < 0:
            raise ValueError("latency_s must not be negative")
        self.venue = venue
        self.latency_s = latency_s
        self.faults = faults or PaperFaults()

    async def __aenter__(self) -> PaperBroker:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def _call(self, name: str, action: Callable[[], T]) -> T:
        half = self.latency_s / 2
        await trio.sleep(half)  # also a checkpoint when there is no latency
        self.faults.before(name)
        try:
            result = action()
        except BrokerError:
            await trio.sleep(half)
            raise
        await trio.sleep(half)
        self.faults.after(name)
        return result

    async def symbol_rules(self) -> Mapping[str, SymbolRules]:
        return await self._call("symbol_rules", self.venue.symbol_rules)

    async def place(self, intent: OrderIntent) -> str:
        return await self._call("place", lambda: self.venue.place(intent))

    async def cancel(self, order_id: str) -> None:
        await self._call("cancel", lambda: self.venue.cancel(order_id))

    async def orders(self, order_ids: Sequence[str]) -> Sequence[VenueOrder]:
        ids = list(order_ids)
        return await self._call("orders", lambda: self.venue.orders(ids))

    async def fills(self, order_id: str) -> Sequence[Fill]:
        return await self._call("fills", lambda: self.venue.fills(order_id))

    async def active_orders(self, symbol: str) -> Sequence[VenueOrder]:
        return await self._call("active_orders", lambda: self.venue.active_orders(symbol))

    async def latest_fills(self, symbol: str, limit: int | None = None) -> Sequence[Fill]:
        return await self._call("latest_fills", lambda: self.venue.latest_fills(symbol, limit))

    async def positions(self) -> Sequence[VenuePosition]:
        return await self._call("positions", self.venue.positions)
