"""Harnesses for the Broker contract suite: a broker under test plus a small venue control surface.

The suite (``test_broker_contract.py``) only speaks to :class:`BrokerHarness`, so another broker
(GMO over HTTP against the simulated venue) joins it by adding one entry to ``HARNESSES``: a
:class:`BrokerBackend` whose factory (called with the fixtures it ``needs``) returns an async
context manager yielding a fresh harness (the same shape as the other suites' backends). The
control surface is what any simulated venue can offer: move a price, lose the next order reply,
switch maintenance, and list every order the venue accepted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import pytest

from adapters.paper import PaperBroker, PaperFaults, PaperVenue, VenueSettings
from hexexec.domain.venue import VenueOrder
from ports.broker import Broker
from tests.contract.harnesses.gmo_broker import gmo_harness


class BrokerHarness(Protocol):
    broker: Broker
    exchange: str
    leverage_symbol: str  # an X_JPY symbol: positions, closeBulkOrder
    spot_symbol: str  # a spot symbol, starting with no coins and enough yen

    async def set_price(self, symbol: str, price: Decimal) -> None:
        """The market of ``symbol`` trades at ``price`` now."""
        ...

    async def lose_next_reply(self) -> None:
        """The venue accepts the next order, and the reply to it never arrives."""
        ...

    async def set_maintenance(self, on: bool) -> None: ...

    async def venue_orders(self) -> Sequence[VenueOrder]:
        """Every order the venue ever accepted (straight from the venue, not via the broker)."""
        ...


@dataclass(frozen=True)
class BrokerBackend:
    factory: Callable[..., AbstractAsyncContextManager[BrokerHarness]]
    needs: tuple[str, ...] = ()  # fixtures passed to the factory by name
    marks: tuple[pytest.MarkDecorator, ...] = ()


class PaperHarness:
    """The in-process paper broker over a fresh venue with default (honest) settings."""

    exchange = "gmo"
    leverage_symbol = "BTC_JPY"
    spot_symbol = "BTC"

    def __init__(self) -> None:
        self.venue = PaperVenue.for_symbols(
            [self.leverage_symbol, self.spot_symbol], settings=VenueSettings(exchange=self.exchange)
        )
        self.faults = PaperFaults()
        self.paper = PaperBroker(self.venue, latency_s=0.001, faults=self.faults)
        self.broker: Broker = self.paper

    async def set_price(self, symbol: str, price: Decimal) -> None:
        self.venue.set_price(symbol, price)

    async def lose_next_reply(self) -> None:
        self.faults.lose_next_reply("place")

    async def set_maintenance(self, on: bool) -> None:
        self.venue.set_maintenance(on)

    async def venue_orders(self) -> Sequence[VenueOrder]:
        return self.venue.all_orders()


@asynccontextmanager
async def paper_harness() -> AsyncIterator[BrokerHarness]:
    harness = PaperHarness()
    async with harness.paper:
        yield harness


HARNESSES: dict[str, BrokerBackend] = {
    "paper": BrokerBackend(paper_harness),
    "gmo": BrokerBackend(gmo_harness),  # GmoBroker over real HTTP to the simulated GMO
}
