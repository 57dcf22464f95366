"""Public GET handlers: status, ticker, symbols (reference §4).

The ticker's ``last`` is the venue's market price; ``ask``/``bid`` are what a taker would pay or
get there (the venue's slippage, on the tick); ``high``/``low`` since the simulator started;
``volume`` the size filled in the venue's latest window (one day). Symbols with no price yet are
left out of the ticker.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from adapters.paper.http.calls import Call
from adapters.paper.http.parsing import bad, query_symbol
from adapters.paper.http.wire import dec, iso_ms
from adapters.paper.pricing import taking_price
from hexexec.domain.orders import Side

if TYPE_CHECKING:
    from adapters.paper.http.sim import SimGmo


def status(sim: SimGmo, call: Call) -> dict[str, str]:
    """``/v1/status``: OPEN, PREOPEN or MAINTENANCE (answered during maintenance too)."""
    return {"status": sim.status}


def ticker(sim: SimGmo, call: Call) -> list[dict[str, Any]]:
    """``/v1/ticker[?symbol=]``: an array, one item per priced symbol."""
    symbol = query_symbol(call.query, required=False)
    if symbol is not None and symbol not in sim.rules:
        raise bad(f"unknown symbol {symbol!r}")
    symbols = [symbol] if symbol is not None else sorted(sim.rules)
    now = iso_ms(sim.now())
    out = []
    for name in symbols:
        last = sim.venue.market_price(name)
        if last is None:
            continue
        rules = sim.rules[name]
        high, low = sim.price_range(name, last)
        volume = sum((f.size for f in sim.venue.latest_fills(name)), Decimal(0))
        out.append(
            {
                "ask": dec(taking_price(last, Side.BUY, rules, sim.venue.settings)),
                "bid": dec(taking_price(last, Side.SELL, rules, sim.venue.settings)),
                "high": dec(high),
                "last": dec(last),
                "low": dec(low),
                "symbol": name,
                "timestamp": now,
                "volume": dec(volume),
            }
        )
    return out


def symbols(sim: SimGmo, call: Call) -> list[dict[str, str]]:
    """``/v1/symbols``: the trading rules the venue enforces."""
    return [
        {
            "symbol": r.symbol,
            "minOrderSize": dec(r.min_order_size),
            "maxOrderSize": dec(r.max_order_size),
            "sizeStep": dec(r.size_step),
            "tickSize": dec(r.tick_size),
            "takerFee": dec(r.taker_fee),
            "makerFee": dec(r.maker_fee),
        }
        for r in sim.rules.values()
    ]
