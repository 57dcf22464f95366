"""How the simulated venue behaves: slippage, liquidity, fees, funds, cancels (DESIGN §8).

Defaults lean towards honesty rather than flattery: a taking order pays a little slippage, a resting
order needs the market to trade *through* its price, and fees are GMO's, rounded GMO's way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class VenueSettings:
    """Settings of a :class:`~adapters.paper.venue.PaperVenue`.

    - ``slippage_bps``: a taking order (MARKET, or a LIMIT that crosses at once) trades this many
      basis points worse than the market price (a BUY pays more, a SELL gets less), rounded to the
      tick against the taker, and never beyond a LIMIT order's own price.
    - ``max_fill_fraction`` / ``max_fill_size``: liquidity. One match (an order arriving, or one
      price update) fills at most this fraction of the order's size / this size, at least one size
      step; the rest waits for later price updates (FAS), expires (FAK) or kills the order (FOK).
    - ``fill_on_touch``: a resting order also fills when the price only touches its limit
      (default: the price must trade through it, because the queue ahead of us eats the touch).
    - ``fee_quantum``: fees are ``price × size × rate`` rounded toward zero to this quantum
      (default 1: whole yen, as GMO charges; a fraction of a yen is neither paid nor rebated).
    - ``jpy_balance``: spot cash; None means unlimited (the balance is still tracked, and may go
      negative). Spot ``holdings`` are the starting balances of base assets (``{"BTC": 1}``).
    - ``follow_order_prices``: offline paper trading with no price feed attached: each LIMIT order's
      price becomes its symbol's market price as it arrives, so the order fills at once at its own
      price (and older resting orders that this crosses fill too). Do not combine with a feed.
    - ``cancel_delay``: None cancels at once; otherwise a cancelled order is CANCELLING (and may
      still fill) until the venue clock passes the request time plus this delay. ``timedelta(0)``
      means "for one step": the next venue call finds it CANCELED.
    - ``latest_window``: how far back ``latest_fills`` reaches (GMO: one day).
    """

    exchange: str = "gmo"
    slippage_bps: Decimal = Decimal("5")
    max_fill_fraction: Decimal = Decimal("1")
    max_fill_size: Decimal | None = None
    fill_on_touch: bool = False
    fee_quantum: Decimal = Decimal("1")
    jpy_balance: Decimal | None = None
    holdings: Mapping[str, Decimal] = field(default_factory=dict)
    follow_order_prices: bool = False
    cancel_delay: timedelta | None = None
    latest_window: timedelta = timedelta(days=1)
    first_order_id: int = 1

    def __post_init__(self) -> None:
        if self.slippage_bps < 0:
            raise ValueError("slippage_bps must not be negative")
        if not Decimal("0") < self.max_fill_fraction <= Decimal("1"):
            raise ValueError("max_fill_fraction must be in (0, 1]")
        if self.max_fill_size is not None and self.max_fill_size <= 0:
            raise ValueError("max_fill_size must be positive")
        if self.fee_quantum <= 0:
            raise ValueError("fee_quantum must be positive")
        if self.cancel_delay is not None and self.cancel_delay < timedelta(0):
            raise ValueError("cancel_delay must not be negative")
        if any(amount < 0 for amount in self.holdings.values()):
            raise ValueError("holdings must not be negative")
        if self.first_order_id < 1:
            raise ValueError("first_order_id must be positive")
