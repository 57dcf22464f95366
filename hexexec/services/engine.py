"""What every service is given: the ports it talks through and the options it runs by."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import trio

from hexexec.domain.orders import Order
from hexexec.domain.risk import RiskLimits
from hexexec.domain.symbols import SymbolRules
from ports.broker import Broker
from ports.clock import Clock
from ports.market_data import MarketData
from ports.metrics import Metrics
from ports.signal_source import SignalSource
from ports.store import Store


@dataclass(frozen=True)
class EngineOptions:
    exchange_name: str
    symbols: frozenset[str]
    limits: RiskLimits
    max_signal_age: timedelta = timedelta(seconds=60)
    order_timeout: timedelta = timedelta(seconds=60)  # LIMIT orders: cancel after this
    market_order_timeout: timedelta = timedelta(seconds=30)  # MARKET: cancel if still live
    poll_interval_s: float = 1.0
    read_batch: int = 50
    max_deliveries: int = 5
    resolve_checks: int = 3  # searches of the venue before "not placed"
    resolve_interval_s: float = 2.0  # between those searches (lets a late request land)
    resolve_skew: timedelta = timedelta(seconds=5)  # venue clock vs ours when matching
    queue_size: int = 100  # bounded hand-over between tasks
    backoff_max_s: float = 30.0  # cap of the backoff while the venue is unavailable
    shutdown_grace_s: float = 5.0  # on stop: time for in-flight decisions and sends to finish
    drift_interval_s: float = 60.0  # 0 disables the drift check
    drift_checks: int = 3  # consecutive checks a drift must last before it counts
    drift_tolerance: Decimal = Decimal("0")  # past this (base units) trading is reduced
    sweep_interval_s: float = 15.0  # how often orders another worker left behind are looked for
    orphan_after: timedelta = timedelta(seconds=30)  # untouched this long: nobody handles it


class NullMetrics:
    """Metrics that go nowhere (tests, tools that do not serve /metrics)."""

    def signal_received(self, stream: str) -> None: ...
    def signal_decided(self, outcome: str, rules: tuple[str, ...] = ()) -> None: ...
    def dead_lettered(self, stream: str) -> None: ...
    def order_status(self, status: str) -> None: ...
    def submit_latency(self, seconds: float) -> None: ...
    def step_duration(self, step: str, seconds: float) -> None: ...
    def venue_unavailable(self, unavailable: bool) -> None: ...
    def position_drift(self, symbol: str, drift: float) -> None: ...
    def ready(self, ready: bool) -> None: ...


@dataclass(frozen=True)
class OrderTicket:
    """What one task hands another about an order: its id, and its symbol for routing. Submit
    hands the monitor the order as it has just stored it, which saves the monitor a read."""

    client_order_id: str
    symbol: str
    order: Order | None = None


@dataclass(frozen=True)
class Engine:
    """The ports, the options and the venue's symbol rules (fetched once at start)."""

    store: Store
    broker: Broker
    source: SignalSource
    clock: Clock
    market_data: MarketData
    options: EngineOptions
    rules: Mapping[str, SymbolRules] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=NullMetrics)

    def symbol_lock(self, symbol: str) -> str:
        """The lock that serializes every decision and submission on one symbol."""
        return f"{self.options.exchange_name}:{symbol}"

    def send_lease(self, symbol: str) -> str:
        """The lease under which one worker at a time sends or resolves a symbol's orders."""
        return f"send:{self.options.exchange_name}:{symbol}"

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        """Report the block's duration (trio's clock) as ``step``'s, if it ends normally."""
        began = trio.current_time()
        yield
        self.metrics.step_duration(step, trio.current_time() - began)
