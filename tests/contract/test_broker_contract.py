"""The Broker port's contract, run against every harness in ``broker_harness.HARNESSES``.

It asserts what the core relies on, and nothing about how a venue prices or fills beyond what
GMO promises: a resting LIMIT order does not fill until the market crosses it, a taking order never
trades better than the market, a close realizes what our accounting says, rejections place
nothing, a lost reply leaves an order that can be found, maintenance places nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from functools import partial

import pytest

from hexexec.domain.accounting import Position, apply_fill
from hexexec.domain.errors import (
    AmbiguousOutcome,
    BrokerRejected,
    BrokerUnavailable,
    OrderNotCancellable,
    OrderNotFound,
)
from hexexec.domain.fills import Fill
from hexexec.domain.order_status import OrderStatus
from hexexec.domain.orders import OrderIntent, SettleType, Side
from hexexec.domain.signal import OrderType
from hexexec.domain.symbols import SymbolRules
from hexexec.domain.venue import VenueOrder
from tests.contract.broker_harness import HARNESSES, BrokerHarness

MARKET = Decimal("10000000")
UNKNOWN_ID = "987654321"


@pytest.fixture(params=[pytest.param(n, marks=b.marks, id=n) for n, b in HARNESSES.items()])
def broker_backend(
    request: pytest.FixtureRequest,
) -> Callable[[], AbstractAsyncContextManager[BrokerHarness]]:
    # Synchronous on purpose: service fixtures (which may skip) resolve before trio starts.
    backend = HARNESSES[request.param]
    kwargs = {name: request.getfixturevalue(name) for name in backend.needs}
    return partial(backend.factory, **kwargs)


@pytest.fixture
async def broker_harness(
    broker_backend: Callable[[], AbstractAsyncContextManager[BrokerHarness]],
) -> AsyncIterator[BrokerHarness]:
    """A fresh venue behind one broker, both markets trading at ``MARKET``."""
    async with broker_backend() as harness:
        await harness.set_price(harness.leverage_symbol, MARKET)
        await harness.set_price(harness.spot_symbol, MARKET)
        yield harness


async def rules_of(h: BrokerHarness, symbol: str) -> SymbolRules:
    return (await h.broker.symbol_rules())[symbol]


async def order(
    h: BrokerHarness, symbol: str, side: Side, *, size_steps: int = 10,
    price: Decimal | None = None, settle: SettleType = SettleType.OPEN,
    size: Decimal | None = None,
) -> OrderIntent:
    rules = await rules_of(h, symbol)
    size = size if size is not None else max(rules.min_order_size, rules.size_step * size_steps)
    order_type = OrderType.MARKET if price is None else OrderType.LIMIT
    limit = None if price is None else rules.round_price(price)
    return OrderIntent(h.exchange, symbol, side, settle, order_type, size, limit, None)


async def one(h: BrokerHarness, order_id: str) -> VenueOrder:
    [found] = await h.broker.orders([order_id])
    return found


async def settled(h: BrokerHarness, order_id: str, polls: int = 20) -> VenueOrder:
    """The order once the venue says it has ended (a cancel may take a step or two)."""
    for _ in range(polls):
        current = await one(h, order_id)
        if current.status.is_final:
            return current
    raise AssertionError(f"order {order_id} still {current.status} after {polls} polls")


def filled_size(fills: Sequence[Fill]) -> Decimal:
    return sum((f.size for f in fills), Decimal("0"))


async def test_symbol_rules_list_the_symbols_with_their_kind(broker_harness: BrokerHarness) -> None:
    h = broker_harness
    rules = await h.broker.symbol_rules()
    assert rules[h.leverage_symbol].leverage and not rules[h.spot_symbol].leverage
    assert all(r.symbol == s for s, r in rules.items())


async def test_a_limit_order_away_from_the_market_rests_unfilled(broker_harness: BrokerHarness) -> None:
    h = broker_harness
    intent = await order(h, h.leverage_symbol, Side.BUY, price=MARKET * Decimal("0.99"))
    order_id = await h.broker.place(intent)
    placed = await one(h, order_id)
    assert placed.our_status is OrderStatus.NEW and placed.executed_size == 0
    assert (placed.side, placed.price, placed.size) == (intent.side, intent.price, intent.size)
    assert order_id in [o.order_id for o in await h.broker.active_orders(h.leverage_symbol)]
    assert await h.broker.fills(order_id) == []


async def test_a_resting_order_fills_at_its_limit_or_better_once_crossed(
    broker_harness: BrokerHarness,
) -> None:
    h = broker_harness
    intent = await order(h, h.leverage_symbol, Side.BUY, price=MARKET * Decimal("0.99"))
    order_id = await h.broker.place(intent)
    assert intent.price is not None
    for step in range(1, 11):  # a venue may fill in chunks: keep trading through the limit
        await h.set_price(h.leverage_symbol, intent.price - step * 1000)
        if (await one(h, order_id)).our_status is OrderStatus.FILLED:
            break
    assert (await one(h, order_id)).our_status is OrderStatus.FILLED
    fills = await h.broker.fills(order_id)
    assert filled_size(fills) == intent.size and all(f.price <= intent.price for f in fills)
    latest = await h.broker.latest_fills(h.leverage_symbol)
    assert {f.execution_id for f in fills} <= {f.execution_id for f in latest}
    assert [f.timestamp for f in latest] == sorted((f.timestamp for f in latest), reverse=True)
    # A limit keeps the newest: what the monitor asks for when several orders of a symbol filled.
    assert list(await h.broker.latest_fills(h.leverage_symbol, limit=1)) == list(latest[:1])
    assert list(await h.broker.latest_fills(h.leverage_symbol, limit=len(latest) + 5)) == list(latest)
    assert order_id not in [o.order_id for o in await h.broker.active_orders(h.leverage_symbol)]


async def test_a_market_order_fills_at_once_never_better_than_the_market(
    broker_harness: BrokerHarness,
) -> None:
    h = broker_harness
    for side in Side:
        order_id = await h.broker.place(await order(h, h.leverage_symbol, side))
        done = await settled(h, order_id)
        fills = await h.broker.fills(order_id)
        assert done.price is None and filled_size(fills) == done.executed_size > 0
        assert all(side.sign * (f.price - MARKET) >= 0 for f in fills)


async def test_closing_a_leverage_position_realizes_what_our_books_say(
    broker_harness: BrokerHarness,
) -> None:
    h = broker_harness
    symbol = h.leverage_symbol
    ours = Position(h.exchange, symbol)
    opened = await h.broker.place(await order(h, symbol, Side.BUY, size_steps=20))
    for fill in await h.broker.fills(opened):
        ours = apply_fill(ours, fill).position
    [held] = [p for p in await h.broker.positions() if p.symbol == symbol]
    assert held.quantity == ours.quantity > 0
    await h.set_price(symbol, MARKET + 150_000)
    close = await order(h, symbol, Side.SELL, settle=SettleType.CLOSE, size=ours.quantity)
    closed = await h.broker.place(close)
    assert (await settled(h, closed)).our_status is OrderStatus.FILLED
    for fill in await h.broker.fills(closed):
        effect = apply_fill(ours, fill)
        assert fill.loss_gain == effect.realized_gross > 0
        ours = effect.position
    assert ours.quantity == 0
    assert all(p.quantity == 0 for p in await h.broker.positions() if p.symbol == symbol)


async def test_a_close_without_a_covering_position_is_rejected(broker_harness: BrokerHarness) -> None:
    h = broker_harness
    symbol = h.leverage_symbol
    with pytest.raises(BrokerRejected):
        await h.broker.place(await order(h, symbol, Side.SELL, settle=SettleType.CLOSE))
    opened = await h.broker.place(await order(h, symbol, Side.BUY, size_steps=10))
    held = (await settled(h, opened)).executed_size
    with pytest.raises(BrokerRejected):
        await h.broker.place(
            await order(h, symbol, Side.SELL, settle=SettleType.CLOSE, size=held * 2)
        )
    assert [o.order_id for o in await h.venue_orders()] == [opened]


async def test_orders_breaking_the_symbol_rules_are_rejected_and_not_placed(
    broker_harness: BrokerHarness,
) -> None:
    h = broker_harness
    rules = await rules_of(h, h.spot_symbol)
    for size in (rules.min_order_size + rules.size_step / 2, rules.max_order_size * 2):
        with pytest.raises(BrokerRejected):
            await h.broker.place(await order(h, h.spot_symbol, Side.BUY, size=size))
    with pytest.raises(BrokerRejected):  # no coins to sell
        await h.broker.place(await order(h, h.spot_symbol, Side.SELL))
    assert await h.venue_orders() == []


async def test_spot_buys_and_sells_move_the_holding(broker_harness: BrokerHarness) -> None:
    h = broker_harness
    symbol = h.spot_symbol
    bought = await settled(h, await h.broker.place(await order(h, symbol, Side.BUY, size_steps=30)))
    holding = {p.symbol: p.quantity for p in await h.broker.positions()}
    assert holding[symbol] == bought.executed_size > 0
    sell = await order(h, symbol, Side.SELL, settle=SettleType.CLOSE, size=bought.executed_size)
    assert (await settled(h, await h.broker.place(sell))).our_status is OrderStatus.FILLED
    assert all(p.quantity == 0 for p in await h.broker.positions() if p.symbol == symbol)


async def test_cancel_ends_a_resting_order_once(broker_harness: BrokerHarness) -> None:
    h = broker_harness
    intent = await order(h, h.leverage_symbol, Side.SELL, price=MARKET * Decimal("1.01"))
    order_id = await h.broker.place(intent)
    await h.broker.cancel(order_id)
    assert (await settled(h, order_id)).our_status is OrderStatus.CANCELED
    with pytest.raises(OrderNotCancellable):
        await h.broker.cancel(order_id)
    assert await h.broker.fills(order_id) == []


async def test_cancel_of_a_filled_or_unknown_order_says_so(broker_harness: BrokerHarness) -> None:
    h = broker_harness
    filled = await h.broker.place(await order(h, h.leverage_symbol, Side.BUY))
    await settled(h, filled)
    with pytest.raises(OrderNotCancellable):
        await h.broker.cancel(filled)
    with pytest.raises(OrderNotFound):
        await h.broker.cancel(UNKNOWN_ID)


async def test_orders_leaves_unknown_ids_out(broker_harness: BrokerHarness) -> None:
    h = broker_harness
    known = await h.broker.place(await order(h, h.leverage_symbol, Side.BUY, price=MARKET / 2))
    assert [o.order_id for o in await h.broker.orders([UNKNOWN_ID, known])] == [known]


async def test_a_lost_reply_is_ambiguous_and_the_order_can_be_found(
    broker_harness: BrokerHarness,
) -> None:
    h = broker_harness
    intent = await order(h, h.leverage_symbol, Side.BUY, price=MARKET * Decimal("0.98"))
    await h.lose_next_reply()
    with pytest.raises(AmbiguousOutcome):
        await h.broker.place(intent)
    [placed] = await h.venue_orders()
    [active] = await h.broker.active_orders(h.leverage_symbol)
    assert active.order_id == placed.order_id
    assert (active.side, active.order_type, active.price, active.size) == (
        intent.side, intent.order_type, intent.price, intent.size
    )


async def test_maintenance_turns_calls_away_and_places_nothing(
    broker_harness: BrokerHarness,
) -> None:
    h = broker_harness
    intent = await order(h, h.leverage_symbol, Side.BUY, price=MARKET * Decimal("0.98"))
    await h.set_maintenance(True)
    with pytest.raises(BrokerUnavailable):
        await h.broker.place(intent)
    with pytest.raises(BrokerUnavailable):
        await h.broker.active_orders(h.leverage_symbol)
    await h.set_maintenance(False)
    assert await h.venue_orders() == []
    order_id = await h.broker.place(intent)
    assert [o.order_id for o in await h.venue_orders()] == [order_id]
