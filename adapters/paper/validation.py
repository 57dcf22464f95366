"""Check an order against the symbol's rules with GMO's error codes (reference §5, §8, §11).

Pure functions: they raise :class:`BrokerRejected` with the code GMO would answer, or return the
time in force the order will run with (GMO's defaults: FAK for MARKET, FAS for LIMIT).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from hexexec.domain.errors import BrokerRejected
from hexexec.domain.orders import OrderIntent
from hexexec.domain.signal import OrderType, TimeInForce
from hexexec.domain.symbols import SymbolRules

# GMO's timeInForce matrix: MARKET takes FAK only; LIMIT takes FAS, FAK, FOK and SOK.
ALLOWED_TIF = {
    OrderType.MARKET: frozenset({TimeInForce.FAK}),
    OrderType.LIMIT: frozenset(TimeInForce),
}
DEFAULT_TIF = {OrderType.MARKET: TimeInForce.FAK, OrderType.LIMIT: TimeInForce.FAS}


def is_multiple(value: Decimal, step: Decimal) -> bool:
    """Whether ``value`` is a whole number of ``step`` (exactly, in Decimal)."""
    try:
        return (value % step) == 0
    except InvalidOperation:  # more than 28 digits of steps: certainly not a sane order
        return False


def check_intent(intent: OrderIntent, rules: SymbolRules) -> TimeInForce:
    """Validate ``intent`` for ``rules``; the effective time in force, or ``BrokerRejected``."""
    tif = intent.time_in_force or DEFAULT_TIF[intent.order_type]
    if tif not in ALLOWED_TIF[intent.order_type]:
        raise BrokerRejected(
            "ERR-5111", f"timeInForce {tif.value} is not allowed for {intent.order_type.value}"
        )
    if not intent.size.is_finite() or intent.size <= 0:
        raise BrokerRejected("ERR-5106", f"invalid size {intent.size}")
    if not is_multiple(intent.size, rules.size_step):
        raise BrokerRejected(
            "ERR-5114", f"size {intent.size} is not a multiple of {rules.size_step}"
        )
    if problem := rules.size_problem(intent.size):
        raise BrokerRejected("ERR-5126", problem)
    if intent.order_type is OrderType.LIMIT:
        price = intent.price
        if price is None or not price.is_finite() or price <= 0:
            raise BrokerRejected("ERR-5106", f"a LIMIT order needs a positive price, got {price}")
        if not is_multiple(price, rules.tick_size):
            raise BrokerRejected(
                "ERR-5114", f"price {price} is not a multiple of {rules.tick_size}"
            )
    return tif
