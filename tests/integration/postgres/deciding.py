"""The core's decide step wired to a store, for the race tests and the benchmark.

Decide touches only the store, the clock, the market data and the options; the broker and the
signal source are not used on this path, so none is given.
"""

from __future__ import annotations

import itertools
import time
from decimal import Decimal
from typing import Any

from adapters.memory.market_data import MemoryMarketData
from adapters.system.clock import SystemClock
from hexexec.domain.risk import RiskLimits
from hexexec.domain.signal import InboundMessage, MessageRef
from hexexec.domain.symbols import SymbolRules
from hexexec.services.engine import Engine, EngineOptions
from ports.store import Store

STREAM = "signal:gmo"
_seq = itertools.count(1)


def rules(symbol: str) -> SymbolRules:
    return SymbolRules(symbol, min_order_size=Decimal("0.01"), max_order_size=Decimal("5"),
                       size_step=Decimal("0.01"), tick_size=Decimal("1"))


def deciding_engine(store: Store, symbols: tuple[str, ...], max_position: Decimal) -> Engine:
    options = EngineOptions(
        exchange_name="gmo",
        symbols=frozenset(symbols),
        limits=RiskLimits(max_position_size=max_position, base_equity=Decimal("10000000")),
    )
    no_port: Any = None  # decide never reaches the broker or the signal source
    return Engine(store=store, broker=no_port, source=no_port, clock=SystemClock(),
                  market_data=MemoryMarketData(), options=options,
                  rules={s: rules(s) for s in symbols})


def entry(symbol: str, size: str = "0.01", **fields: str) -> InboundMessage:
    """A new enter_long stream entry, its id carrying the current time (so it is not stale)."""
    ref = MessageRef(STREAM, f"{time.time_ns() // 1_000_000}-{next(_seq)}")
    body = {"exchange": "gmo", "symbol": symbol, "action": "enter_long", "size": size,
            "order_type": "MARKET", **fields}
    return InboundMessage.of(ref, body)
