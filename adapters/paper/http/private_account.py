"""GET handlers for the account: openPositions, positionSummary, account/margin, account/assets.

Margin is not modelled by the venue, so ``account/margin`` is an honest approximation: equity is
the JPY balance plus realized leverage P&L less leverage fees plus unrealized P&L; the margin in
use is the entry notional of open positions divided by the leverage; the status is always NORMAL.
``account/assets`` reports JPY and every spot symbol, ``available`` net of what live orders hold.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from adapters.paper.http.calls import Call
from adapters.paper.http.parsing import page_and_count, query_symbol
from adapters.paper.http.positions import ZERO, SimPosition
from adapters.paper.http.views import listed, page_of, page_reply, position_view, unrealized
from adapters.paper.http.wire import dec
from hexexec.domain.orders import SettleType, Side

if TYPE_CHECKING:
    from adapters.paper.http.sim import SimGmo

HUNDRED = Decimal("100")


def open_positions(sim: SimGmo, call: Call) -> dict[str, Any]:
    """``/v1/openPositions?symbol=``: one position per side (see :mod:`.positions`), oldest first."""
    symbol = query_symbol(call.query) or ""
    page, count = page_and_count(call.query)
    sim.venue.active_orders(symbol)  # refuses an unknown symbol like GMO (ERR-5106)
    chunk = page_of(list(sim.open_positions(symbol)), page, count)
    views = [
        position_view(
            p,
            market=sim.venue.market_price(p.symbol),
            ordered=_under_close_orders(sim, p),
            leverage=sim.settings.leverage,
        )
        for p in chunk
    ]
    return page_reply(views, page, count)


def position_summary(sim: SimGmo, call: Call) -> dict[str, Any]:
    """``/v1/positionSummary[?symbol=]``: per symbol and side, all symbols when none is given."""
    symbol = query_symbol(call.query, required=False)
    if symbol is not None:
        sim.venue.active_orders(symbol)  # refuses an unknown symbol
    items = []
    for p in sim.open_positions(symbol):
        market = sim.venue.market_price(p.symbol)
        items.append(
            {
                "averagePositionRate": dec(p.price),
                "positionLossGain": dec(unrealized(p, market)),
                "side": p.side.value,
                "sumOrderQuantity": dec(_under_close_orders(sim, p)),
                "sumPositionQuantity": dec(p.size),
                "symbol": p.symbol,
            }
        )
    return listed(items)


def margin(sim: SimGmo, call: Call) -> dict[str, Any]:
    """``/v1/account/margin`` (approximate, see the module docstring)."""
    positions = list(sim.open_positions())
    profit_loss = sum(
        (unrealized(p, sim.venue.market_price(p.symbol)) for p in positions), ZERO
    )
    used = sum((p.price * p.size for p in positions), ZERO) / sim.settings.leverage
    cash = sim.venue.balance("JPY") + sim.positions.realized - sim.positions.leverage_fees
    equity = cash + profit_loss
    available = equity - used
    ratio = (equity / used * HUNDRED).quantize(Decimal("0.01")) if used else ZERO
    return {
        "actualProfitLoss": dec(equity),
        "availableAmount": dec(available),
        "margin": dec(used),
        "marginCallStatus": "NORMAL",
        "marginRatio": dec(ratio),
        "profitLoss": dec(profit_loss),
        "transferableAmount": dec(max(min(available, cash), ZERO)),
    }


def assets(sim: SimGmo, call: Call) -> list[dict[str, Any]]:
    """``/v1/account/assets``: an array, JPY first, then every spot symbol."""
    jpy = sim.venue.balance("JPY")
    held_jpy = ZERO
    out = []
    for symbol, rules in sorted(sim.rules.items()):
        if rules.leverage:
            continue
        live = sim.venue.active_orders(symbol)
        held_jpy += sum(
            (
                (o.price or ZERO) * (o.size - o.executed_size) * (1 + max(rules.taker_fee, ZERO))
                for o in live
                if o.side is Side.BUY
            ),
            ZERO,
        )
        amount = sim.venue.balance(symbol)
        selling = sum((o.size - o.executed_size for o in live if o.side is Side.SELL), ZERO)
        out.append(
            {
                "amount": dec(amount),
                "available": dec(amount - selling),
                "conversionRate": dec(sim.venue.market_price(symbol)),
                "symbol": symbol,
            }
        )
    cash = {"amount": dec(jpy), "available": dec(jpy - held_jpy), "conversionRate": "1", "symbol": "JPY"}
    return [cash, *out]


def _under_close_orders(sim: SimGmo, position: SimPosition) -> Decimal:
    """Size of live close orders against ``position`` (GMO's ``orderdSize``)."""
    return sum(
        (
            o.size - o.executed_size
            for o in sim.venue.active_orders(position.symbol)
            if o.settle_type is SettleType.CLOSE and o.side is position.side.opposite
        ),
        ZERO,
    )
