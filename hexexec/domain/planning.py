"""From a validated signal to the exact order to send (DESIGN §1 action mapping).

Leverage: enter_long = order BUY, enter_short = order SELL, exit_long = closeBulkOrder SELL,
exit_short = closeBulkOrder BUY. Spot: enter_long = BUY, exit_long = SELL (shorts never get here).
``SettleType.CLOSE`` means "reduces the position"; the broker picks the venue call from it.
Sizes round down to the size step and must sit within min/max; an exit never asks for more than the
position not already being closed.
"""

from __future__ import annotations

from decimal import Decimal

from hexexec.domain.accounting import Position
from hexexec.domain.orders import OrderIntent, SettleType, Side
from hexexec.domain.risk import RuleResult
from hexexec.domain.signal import Action, OrderType, Signal
from hexexec.domain.symbols import SymbolRules


def plan_order(
    signal: Signal, rules: SymbolRules, position: Position, open_exit_size: Decimal
) -> OrderIntent | RuleResult:
    """The intent for ``signal``, or the failed rule saying why there is nothing to send."""
    price = None
    if signal.order_type is OrderType.LIMIT and signal.price_ref is not None:
        price = rules.round_price(signal.price_ref)
    if signal.order_type is OrderType.LIMIT and (price is None or price <= 0):
        return RuleResult("order_price", False, "price rounds to zero", {"price_ref": str(signal.price_ref)})
    if signal.action.is_entry:
        assert signal.size is not None  # parse_signal requires it for entries
        side = Side.BUY if signal.action is Action.ENTER_LONG else Side.SELL
        settle = SettleType.OPEN
        size = rules.round_size(signal.size)
    else:
        side = Side.SELL if signal.action is Action.EXIT_LONG else Side.BUY
        settle = SettleType.CLOSE
        held = position.size if position.direction == signal.action.direction else Decimal("0")
        available = held - open_exit_size
        inputs = {
            "position": str(position.quantity),
            "open_exit_size": str(open_exit_size),
            "requested": "" if signal.size is None else str(signal.size),
        }
        if available <= 0:
            side_name = "long" if signal.action.direction > 0 else "short"
            return RuleResult("position_to_close", False, f"no {side_name} position to close", inputs)
        wanted = available if signal.size is None else min(signal.size, available)
        size = rules.round_size(wanted)
    problem = rules.size_problem(size)
    if problem is not None:
        inputs = {"size": str(size), "min": str(rules.min_order_size), "max": str(rules.max_order_size)}
        inputs["step"] = str(rules.size_step)
        return RuleResult("order_size", False, problem, inputs)
    return OrderIntent(
        exchange=signal.exchange,
        symbol=signal.symbol,
        side=side,
        settle_type=settle,
        order_type=signal.order_type,
        size=size,
        price=price,
        time_in_force=signal.time_in_force,
    )
