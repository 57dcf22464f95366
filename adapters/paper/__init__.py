"""Paper trading: a simulated GMO venue (PaperVenue), the Broker port over it in-process
(PaperBroker, with latency and faults) and the MarketData port from its prices (PaperMarketData).
"""

from adapters.paper.broker import PaperBroker
from adapters.paper.clock import ManualClock
from adapters.paper.faults import FaultRates, PaperFaults
from adapters.paper.market_data import PaperMarketData
from adapters.paper.settings import VenueSettings
from adapters.paper.venue import PaperVenue

__all__ = [
    "FaultRates",
    "ManualClock",
    "PaperBroker",
    "PaperFaults",
    "PaperMarketData",
    "PaperVenue",
    "VenueSettings",
]
