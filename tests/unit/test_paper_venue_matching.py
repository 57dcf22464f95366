"""The simulated venue's matching: MARKET slippage and fees, LIMIT resting vs taking, TIF rules,
partial fills across price updates, and the offline follow-order-prices mode."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.paper import ManualClock, PaperVenue, VenueSettings
from hexexec.domain.order_status import VenueStatus
from hexexec.domain.orders import OrderIntent, SettleType, Side
from hexexec.domain.signal import OrderType, TimeInForce
from hexexec.domain.symbols import default_rules

SPOT = default_rules("BTC")  # taker fee positive, maker fee negative (a rebate)
PRICE = Decimal("10000000")


def intent(
    side: Side = Side.BUY,
    size: str = "0.01",
    price: str | Decimal | None = None,
    tif: TimeInForce | None = None,
    symbol: str = "BTC",
) -> OrderIntent:
    order_type = OrderType.MARKET if price is None else OrderType.LIMIT
    limit = None if price is None else Decimal(price)
    return OrderIntent("gmo", symbol, side, SettleType.OPEN, order_type, Decimal(size), limit, tif)


def venue(**kw: object) -> PaperVenue:
    kw.setdefault("holdings", {"BTC": Decimal("5")})
    return PaperVenue([SPOT], settings=VenueSettings(**kw), now=ManualClock().now)  # type: ignore[arg-type]


def whole_yen(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("1"), rounding=ROUND_DOWN)


@settings(max_examples=60, deadline=None)
@given(
    market=st.integers(min_value=1_000, max_value=20_000_000).map(Decimal),
    bps=st.integers(min_value=0, max_value=200).map(Decimal),
    side=st.sampled_from(Side),
)
def test_market_order_trades_worse_than_the_market_by_the_slippage(
    market: Decimal, bps: Decimal, side: Side
) -> None:
    v = venue(slippage_bps=bps)
    v.set_price("BTC", market)
    order_id = v.place(intent(side))
    [fill] = v.fills(order_id)
    ideal = market * (1 + side.sign * bps / 10000)
    # Against the trader by the slippage, rounded to the tick against the trader too.
    assert side.sign * (fill.price - ideal) >= 0
    assert abs(fill.price - ideal) < SPOT.tick_size
    assert fill.price % SPOT.tick_size == 0
    assert fill.fee == whole_yen(fill.price * fill.size * SPOT.taker_fee)
    assert v.orders([order_id])[0].status is VenueStatus.EXECUTED


def test_market_buy_pays_more_and_sell_gets_less_and_both_pay_the_taker_fee() -> None:
    v = venue(slippage_bps=Decimal("10"))
    v.set_price("BTC", PRICE)
    [buy] = v.fills(v.place(intent(Side.BUY)))
    [sell] = v.fills(v.place(intent(Side.SELL)))
    assert sell.price < PRICE < buy.price
    assert buy.fee > 0 and sell.fee > 0


def test_market_order_without_a_market_price_expires_unfilled() -> None:
    v = venue()
    order_id = v.place(intent())
    [order] = v.orders([order_id])
    assert order.status is VenueStatus.EXPIRED and order.executed_size == 0
    assert v.fills(order_id) == [] and v.cancel_type(order_id) == "EXPIRED_FAK"


def test_limit_buy_below_the_market_rests_until_the_price_trades_through_it() -> None:
    v = venue()
    v.set_price("BTC", PRICE)
    limit = PRICE - 50_000
    order_id = v.place(intent(price=limit))
    assert [o.order_id for o in v.active_orders("BTC")] == [order_id]
    v.set_price("BTC", limit)  # a touch: the queue ahead of us trades first
    assert v.fills(order_id) == []
    v.set_price("BTC", limit - 1)
    [fill] = v.fills(order_id)
    assert fill.price == limit  # a maker fills at its own price, not the better market
    assert fill.fee == whole_yen(limit * fill.size * SPOT.maker_fee) < 0  # a rebate
    assert v.orders([order_id])[0].status is VenueStatus.EXECUTED
    assert v.active_orders("BTC") == []


def test_fill_on_touch_lets_a_resting_order_fill_at_an_equal_price() -> None:
    v = venue(fill_on_touch=True)
    v.set_price("BTC", PRICE)
    order_id = v.place(intent(Side.SELL, price=PRICE + 100))
    v.set_price("BTC", PRICE + 100)
    assert [f.price for f in v.fills(order_id)] == [PRICE + 100]


def test_crossing_limit_takes_at_the_market_with_slippage_but_never_beyond_its_price() -> None:
    v = venue(slippage_bps=Decimal("10"))
    v.set_price("BTC", PRICE)
    roomy = v.place(intent(price=PRICE + 100_000))
    tight = v.place(intent(price=PRICE + 1))
    [roomy_fill], [tight_fill] = v.fills(roomy), v.fills(tight)
    assert PRICE < roomy_fill.price < PRICE + 100_000
    assert tight_fill.price == PRICE + 1
    assert roomy_fill.fee == whole_yen(roomy_fill.price * roomy_fill.size * SPOT.taker_fee) > 0


def test_fak_and_fok_that_do_not_cross_expire_unfilled() -> None:
    v = venue()
    v.set_price("BTC", PRICE)
    for tif in (TimeInForce.FAK, TimeInForce.FOK):
        order_id = v.place(intent(price=PRICE - 1, tif=tif))
        assert v.orders([order_id])[0].status is VenueStatus.EXPIRED
        assert v.cancel_type(order_id) == f"EXPIRED_{tif.value}" and v.fills(order_id) == []


def test_sok_rests_when_it_would_make_and_expires_when_it_would_take() -> None:
    v = venue()
    v.set_price("BTC", PRICE)
    maker = v.place(intent(price=PRICE - 1, tif=TimeInForce.SOK))
    taker = v.place(intent(price=PRICE, tif=TimeInForce.SOK))
    assert v.orders([maker])[0].status is VenueStatus.ORDERED
    assert v.orders([taker])[0].status is VenueStatus.EXPIRED
    assert v.cancel_type(taker) == "EXPIRED_SOK" and v.fills(taker) == []


def test_with_thin_liquidity_fak_fills_a_part_and_fok_fills_nothing() -> None:
    v = venue(max_fill_size=Decimal("0.004"))
    v.set_price("BTC", PRICE)
    fak = v.place(intent(size="0.01", price=PRICE, tif=TimeInForce.FAK))
    fok = v.place(intent(size="0.01", price=PRICE, tif=TimeInForce.FOK))
    [fak_order, fok_order] = v.orders([fak, fok])
    assert fak_order.status is VenueStatus.EXPIRED and fak_order.executed_size == Decimal("0.004")
    assert fok_order.status is VenueStatus.EXPIRED and fok_order.executed_size == 0
    whole = v.place(intent(size="0.004", price=PRICE, tif=TimeInForce.FOK))
    assert v.orders([whole])[0].status is VenueStatus.EXECUTED


def test_fas_takes_what_it_can_then_rests_and_fills_as_maker_later() -> None:
    v = venue(max_fill_size=Decimal("0.006"))
    v.set_price("BTC", PRICE)
    order_id = v.place(intent(size="0.01", price=PRICE + 10))
    [first] = v.fills(order_id)
    assert v.orders([order_id])[0].status is VenueStatus.ORDERED and first.fee > 0
    v.set_price("BTC", PRICE)
    second = v.fills(order_id)[1]
    assert second.price == PRICE + 10 and second.size == Decimal("0.004") and second.fee < 0
    assert v.orders([order_id])[0].status is VenueStatus.EXECUTED


@settings(max_examples=40, deadline=None)
@given(
    steps=st.integers(min_value=1, max_value=200),
    fraction=st.decimals(min_value=Decimal("0.05"), max_value=Decimal("1"), places=2),
)
def test_a_resting_order_fills_in_chunks_across_price_updates(steps: int, fraction: Decimal) -> None:
    size = SPOT.size_step * steps
    v = venue(max_fill_fraction=fraction)
    v.set_price("BTC", PRICE)
    order_id = v.place(intent(size=str(size), price=PRICE - 10))
    cap = max(SPOT.round_size(size * fraction), SPOT.size_step)
    updates = 0
    while v.orders([order_id])[0].status is VenueStatus.ORDERED:
        v.set_price("BTC", PRICE - 11 - updates)
        updates += 1
        assert updates <= steps, "every crossing update must fill something"
    fills = v.fills(order_id)
    assert sum(f.size for f in fills) == size
    assert all(f.size <= cap for f in fills) and len(fills) == updates
    # All chunks are full but the last one.
    assert len(fills) == (size / cap).to_integral_value(rounding=ROUND_CEILING)
    assert all(f.price == PRICE - 10 for f in fills)


def test_follow_order_prices_fills_limit_orders_at_their_own_price_when_offline() -> None:
    v = venue(follow_order_prices=True, slippage_bps=Decimal("20"))
    buy = v.place(intent(price=PRICE))
    assert [f.price for f in v.fills(buy)] == [PRICE]
    assert v.market_price("BTC") == PRICE
    sell = v.place(intent(Side.SELL, price=PRICE + 500))
    assert [f.price for f in v.fills(sell)] == [PRICE + 500]
    assert v.market_price("BTC") == PRICE + 500


def test_follow_order_prices_leaves_market_orders_to_the_known_price() -> None:
    v = venue(follow_order_prices=True, slippage_bps=Decimal("0"))
    assert v.orders([v.place(intent())])[0].status is VenueStatus.EXPIRED
    v.place(intent(price=PRICE))
    [fill] = v.fills(v.place(intent()))
    assert fill.price == PRICE


@settings(max_examples=80, deadline=None)
@given(
    price=st.integers(min_value=1, max_value=30_000_000).map(Decimal),
    steps=st.integers(min_value=1, max_value=50_000),
    rate=st.decimals(min_value=Decimal("-0.001"), max_value=Decimal("0.001"), places=5),
    quantum=st.sampled_from([Decimal("1"), Decimal("0.01"), Decimal("0.00000001")]),
)
def test_fees_are_signed_and_rounded_toward_zero(
    price: Decimal, steps: int, rate: Decimal, quantum: Decimal
) -> None:
    rules = default_rules("BTC")
    rules = type(rules)(
        "BTC", rules.min_order_size, Decimal("10"), rules.size_step, rules.tick_size, rate, rate
    )
    size = rules.size_step * steps
    v = PaperVenue([rules], settings=VenueSettings(slippage_bps=Decimal(0), fee_quantum=quantum))
    v.set_price("BTC", price)
    [fill] = v.fills(v.place(intent(size=str(size))))
    exact = price * size * rate
    assert abs(fill.fee) <= abs(exact) and abs(exact - fill.fee) < quantum
    assert fill.fee % quantum == 0 and fill.fee * exact >= 0
    assert str(fill.fee)[0] != "-" or fill.fee < 0  # never a "-0"
