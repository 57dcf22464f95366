"""The checks GMO makes on the account when an order arrives: positions to close, cash, coins.

Live orders hold what they may need (GMO's "available" balance): a close order holds part of its
position (ERR-200 when the rest does not cover a new one), a spot BUY holds its JPY cost plus the
taker fee at worst (ERR-201), a spot SELL holds its coins (ERR-208).
"""

from __future__ import annotations

from decimal import Decimal

from adapters.paper.engine import MatchingEngine
from adapters.paper.ledger import ZERO
from adapters.paper.pricing import taking_price
from hexexec.domain.orders import OrderIntent, SettleType, Side
from hexexec.domain.signal import OrderType


def check_funds(engine: MatchingEngine, intent: OrderIntent) -> None:
    """Raise ``BrokerRejected`` when the account cannot back ``intent``."""
    rules = engine.rules[intent.symbol]
    ledger = engine.ledger
    if rules.leverage:
        if intent.settle_type is SettleType.CLOSE:
            ordered = sum(
                (
                    o.remaining
                    for o in engine.live(intent.symbol)
                    if o.intent.settle_type is SettleType.CLOSE and o.intent.side is intent.side
                ),
                ZERO,
            )
            ledger.check_close(intent.symbol, intent.side, intent.size, ordered)
        return  # opening a leverage position: margin is not modelled
    if intent.side is Side.SELL:
        held = (o.remaining for o in engine.live(intent.symbol) if o.intent.side is Side.SELL)
        ledger.check_spot_sell(intent.symbol, intent.size, sum(held, ZERO))
        return
    price = intent.price
    if intent.order_type is OrderType.MARKET:
        market = engine.prices.get(intent.symbol)
        if market is None:
            return  # it will expire unfilled: nothing to pay
        price = taking_price(market, Side.BUY, rules, engine.settings)
    assert price is not None  # validated: a LIMIT order has a price
    reserved = sum(
        (
            spot_cost(engine, o.intent, o.remaining, o.intent.price)
            for o in engine.live()
            if not engine.rules[o.symbol].leverage and o.intent.side is Side.BUY
        ),
        ZERO,
    )
    ledger.check_spot_buy(spot_cost(engine, intent, intent.size, price), reserved)


def spot_cost(
    engine: MatchingEngine, intent: OrderIntent, size: Decimal, price: Decimal | None
) -> Decimal:
    """JPY a spot BUY of ``size`` at ``price`` may need: the notional plus the taker fee."""
    assert price is not None  # only LIMIT orders rest; an arriving MARKET order is priced
    rate = max(engine.rules[intent.symbol].taker_fee, ZERO)
    return price * size * (1 + rate)
