"""The simulated venue's order lifecycle: validation codes, ids, cancels, queries, the latest-fills
window, maintenance, and the full record kept for inspection."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from adapters.paper import ManualClock, PaperVenue, VenueSettings
from hexexec.domain.errors import (
    BrokerRejected,
    BrokerUnavailable,
    OrderNotCancellable,
    OrderNotFound,
)
from hexexec.domain.order_status import VenueStatus
from hexexec.domain.orders import OrderIntent, SettleType, Side
from hexexec.domain.signal import OrderType, TimeInForce
from hexexec.domain.symbols import default_rules

PRICE = Decimal("10000000")
RULES = default_rules("BTC_JPY")


def limit(
    price: Decimal | None = PRICE - 1000, size: str = "0.01", side: Side = Side.BUY,
    tif: TimeInForce | None = None, symbol: str = "BTC_JPY",
) -> OrderIntent:
    return OrderIntent(
        "gmo", symbol, side, SettleType.OPEN, OrderType.LIMIT, Decimal(size), price, tif
    )


def market(size: str = "0.01", tif: TimeInForce | None = None) -> OrderIntent:
    return OrderIntent(
        "gmo", "BTC_JPY", Side.BUY, SettleType.OPEN, OrderType.MARKET, Decimal(size), None, tif
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def make(clock: ManualClock, **kw: object) -> PaperVenue:
    v = PaperVenue([RULES], settings=VenueSettings(**kw), now=clock.now)  # type: ignore[arg-type]
    v.set_price("BTC_JPY", PRICE)
    return v


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (limit(symbol="DOGE_JPY"), "ERR-5106"),
        (limit(size="0.0015"), "ERR-5114"),
        (limit(price=PRICE + Decimal("0.5")), "ERR-5114"),
        (limit(size=str(RULES.max_order_size + RULES.size_step)), "ERR-5126"),
        (market(tif=TimeInForce.FOK), "ERR-5111"),
        (market(tif=TimeInForce.FAS), "ERR-5111"),
        (limit(price=None), "ERR-5106"),
    ],
)
def test_invalid_orders_get_gmo_codes_and_leave_no_trace(
    clock: ManualClock, bad: OrderIntent, code: str
) -> None:
    v = make(clock)
    with pytest.raises(BrokerRejected) as info:
        v.place(bad)
    assert info.value.code == code
    assert v.all_orders() == []


def test_size_below_the_minimum_is_err_5126() -> None:
    rules = type(RULES)("BTC_JPY", Decimal("0.01"), Decimal("5"), Decimal("0.001"), Decimal("1"))
    v = PaperVenue([rules])
    with pytest.raises(BrokerRejected) as info:
        v.place(limit(size="0.005"))
    assert info.value.code == "ERR-5126"


def test_order_ids_are_increasing_integers_and_every_order_is_recorded(clock: ManualClock) -> None:
    v = make(clock, first_order_id=637000)
    ids = [v.place(limit()), v.place(market()), v.place(limit(tif=TimeInForce.FAK))]
    assert [int(i) for i in ids] == sorted(int(i) for i in ids) and len(set(ids)) == 3
    assert [o.order_id for o in v.all_orders()] == ids
    assert [o.status for o in v.all_orders()] == [
        VenueStatus.ORDERED, VenueStatus.EXECUTED, VenueStatus.EXPIRED
    ]
    assert [f.order_id for f in v.all_fills()] == [ids[1]]


def test_orders_keeps_the_order_asked_and_leaves_unknown_ids_out(clock: ManualClock) -> None:
    v = make(clock)
    a, b = v.place(limit()), v.place(limit())
    assert [o.order_id for o in v.orders([b, "424242", a, "not-an-id"])] == [b, a]


def test_cancel_ends_a_live_order_and_refuses_ended_or_unknown_ones(clock: ManualClock) -> None:
    v = make(clock)
    live, done = v.place(limit()), v.place(market())
    v.cancel(live)
    assert v.orders([live])[0].status is VenueStatus.CANCELED
    assert v.cancel_type(live) == "USER" and v.active_orders("BTC_JPY") == []
    for ended in (live, done):
        with pytest.raises(OrderNotCancellable, match="ERR-5122"):
            v.cancel(ended)
    with pytest.raises(OrderNotFound, match="ERR-5123"):
        v.cancel("999999")


def test_a_cancel_can_pass_through_cancelling_for_one_step(clock: ManualClock) -> None:
    v = make(clock, cancel_delay=timedelta(0))
    order_id = v.place(limit())
    v.cancel(order_id)
    assert v.all_orders()[0].status is VenueStatus.CANCELLING  # inspection does not advance
    with pytest.raises(OrderNotCancellable):
        v.cancel(order_id)
    assert v.orders([order_id])[0].status is VenueStatus.CANCELED


def test_an_order_still_cancelling_can_take_a_late_fill(clock: ManualClock) -> None:
    v = make(clock, cancel_delay=timedelta(seconds=2))
    order_id = v.place(limit(size="0.02"))
    v.cancel(order_id)
    clock.advance(1)
    [order] = v.orders([order_id])
    assert order.status is VenueStatus.CANCELLING and v.active_orders("BTC_JPY") == [order]
    v.set_price("BTC_JPY", PRICE - 5000)
    assert order.status is VenueStatus.CANCELLING  # a VenueOrder is a snapshot
    [late] = v.orders([order_id])
    assert late.status is VenueStatus.EXECUTED and v.fills(order_id)[0].size == Decimal("0.02")

    other = v.place(limit(price=PRICE - 9000))
    v.cancel(other)
    clock.advance(2)
    v.set_price("BTC_JPY", PRICE - 10000)  # the cancel finished before this price arrived
    assert v.orders([other])[0].status is VenueStatus.CANCELED and v.fills(other) == []


def test_latest_fills_covers_one_day_newest_first(clock: ManualClock) -> None:
    v = make(clock)
    old = v.place(market())
    clock.advance(timedelta(hours=12))
    mid = v.place(market())
    clock.advance(timedelta(hours=12, seconds=1))
    new = v.place(market())
    assert [f.order_id for f in v.latest_fills("BTC_JPY")] == [new, mid]
    assert [f.order_id for f in v.latest_fills("BTC_JPY", limit=1)] == [new]
    assert [f.order_id for f in v.latest_fills("BTC_JPY", limit=5)] == [new, mid]
    assert [f.order_id for f in v.all_fills()] == [old, mid, new]
    with pytest.raises(BrokerRejected, match="ERR-5106"):
        v.latest_fills("NOPE")


def test_active_orders_lists_only_working_orders_of_the_symbol(clock: ManualClock) -> None:
    v = PaperVenue([RULES, default_rules("ETH_JPY")], now=clock.now)
    v.set_price("BTC_JPY", PRICE)
    a = v.place(limit())
    v.place(limit(price=Decimal("300000"), size="0.1", symbol="ETH_JPY"))
    v.place(limit(price=PRICE + 1000))  # crosses at once: executed
    assert [o.order_id for o in v.active_orders("BTC_JPY")] == [a]


def test_maintenance_turns_every_call_away_and_pauses_matching(clock: ManualClock) -> None:
    v = make(clock)
    resting = v.place(limit())
    v.set_maintenance(True)
    calls = [
        lambda: v.place(market()), lambda: v.cancel(resting), lambda: v.orders([resting]),
        lambda: v.fills(resting), lambda: v.active_orders("BTC_JPY"),
        lambda: v.latest_fills("BTC_JPY"), v.positions, v.symbol_rules,
    ]
    for call in calls:
        with pytest.raises(BrokerUnavailable) as info:
            call()
        assert info.value.code == "ERR-5201"
    v.set_price("BTC_JPY", PRICE - 5000)
    assert v.all_fills() == [] and len(v.all_orders()) == 1
    v.set_maintenance(False)
    assert v.orders([resting])[0].status is VenueStatus.EXECUTED
