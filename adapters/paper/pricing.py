"""Prices, fees and fill sizes of the simulated venue: exact Decimal, always against the trader."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

from adapters.paper.settings import VenueSettings
from hexexec.domain.orders import Side
from hexexec.domain.symbols import SymbolRules

BPS = Decimal("10000")


def taking_price(
    market: Decimal, side: Side, rules: SymbolRules, settings: VenueSettings
) -> Decimal:
    """The price a taking order gets: the market moved against it by the slippage, on the tick.

    A BUY rounds up to the tick and a SELL down, so rounding never favours the trader.
    """
    factor = 1 + side.sign * settings.slippage_bps / BPS
    ticks = (market * factor / rules.tick_size).to_integral_value(
        rounding=ROUND_CEILING if side is Side.BUY else ROUND_FLOOR
    )
    price = (ticks * rules.tick_size).quantize(rules.tick_size)
    # A sell slipped below one tick would be a free gift to the buyer; keep it a real price.
    return max(price, rules.tick_size)


def capped_at_limit(price: Decimal, limit: Decimal, side: Side) -> Decimal:
    """A LIMIT order never trades beyond its own price."""
    return min(price, limit) if side is Side.BUY else max(price, limit)


def crosses(limit: Decimal, market: Decimal, side: Side, *, inclusive: bool) -> bool:
    """Whether the market reaches a limit: a BUY when it is at/below, a SELL at/above.

    ``inclusive`` counts an equal price (an arriving order takes at its own price; a resting one
    needs the market to trade through unless the venue fills on touch).
    """
    if side is Side.BUY:
        return market <= limit if inclusive else market < limit
    return market >= limit if inclusive else market > limit


def fee(price: Decimal, size: Decimal, rate: Decimal, settings: VenueSettings) -> Decimal:
    """GMO's signed fee: ``price × size × rate`` toward zero to the fee quantum (negative: rebate)."""
    amount = (price * size * rate).quantize(settings.fee_quantum, rounding=ROUND_DOWN)
    # quantize keeps a sign on zero ("-0"); a rebate that rounds away is simply no fee.
    return amount.copy_abs() if amount.is_zero() else amount


def chunk_cap(size: Decimal, rules: SymbolRules, settings: VenueSettings) -> Decimal:
    """The most one match can fill of an order of ``size`` (liquidity), at least one size step."""
    cap = rules.round_size(size * settings.max_fill_fraction)
    if settings.max_fill_size is not None:
        cap = min(cap, rules.round_size(settings.max_fill_size))
    return max(cap, rules.size_step)
