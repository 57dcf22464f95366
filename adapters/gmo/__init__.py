"""Live GMO Coin: the Broker port over the private REST API (GmoBroker) and the MarketData port
from the public ticker (GmoMarketData), on a signed, rate-limited httpx client (GmoClient)."""

from adapters.gmo.broker import GmoBroker
from adapters.gmo.client import GmoClient, HttpTimeouts, RateLimits
from adapters.gmo.market_data import GmoMarketData
from adapters.gmo.signing import ApiSecret

__all__ = ["ApiSecret", "GmoBroker", "GmoClient", "GmoMarketData", "HttpTimeouts", "RateLimits"]
