"""The GMO backend of the Broker contract suite: GmoBroker over real HTTP to the simulated GMO.

The venue behind the simulator is a fresh ``PaperVenue`` per test (the same venue the paper
harness calls in-process), served on a free port; the harness drives it through the simulator's
control surface, never through the broker under test. A lost reply is the simulator accepting the
order and closing the connection before the reply's body.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal

import trio

from adapters.gmo import GmoBroker, HttpTimeouts
from adapters.paper import VenueSettings
from hexexec.domain.venue import VenueOrder
from ports.broker import Broker
from tests.integration.gmo.sim import SimHandle, running_sim

TIMEOUTS = HttpTimeouts(connect_s=2.0, read_s=3.0, write_s=2.0, pool_s=2.0, total_s=5.0)


class GmoHarness:
    exchange = "gmo"
    leverage_symbol = "BTC_JPY"
    spot_symbol = "BTC"

    def __init__(self, gmo: SimHandle, broker: GmoBroker) -> None:
        self.gmo = gmo
        self.broker: Broker = broker

    async def set_price(self, symbol: str, price: Decimal) -> None:
        await trio.lowlevel.checkpoint()
        self.gmo.sim.set_price(symbol, price)

    async def lose_next_reply(self) -> None:
        await trio.lowlevel.checkpoint()
        self.gmo.sim.drop_next_reply("/v1/order", mode="close")

    async def set_maintenance(self, on: bool) -> None:
        await trio.lowlevel.checkpoint()
        self.gmo.sim.set_maintenance(on)

    async def venue_orders(self) -> Sequence[VenueOrder]:
        await trio.lowlevel.checkpoint()
        return self.gmo.sim.venue.all_orders()


@asynccontextmanager
async def gmo_harness() -> AsyncIterator[GmoHarness]:
    symbols = (GmoHarness.leverage_symbol, GmoHarness.spot_symbol)
    async with running_sim(symbols=symbols, prices={},
                           venue_settings=VenueSettings(exchange=GmoHarness.exchange)) as gmo:
        async with GmoBroker.open(gmo.base_url, gmo.key, gmo.secret, exchange=GmoHarness.exchange,
                                  timeouts=TIMEOUTS) as broker:
            yield GmoHarness(gmo, broker)
