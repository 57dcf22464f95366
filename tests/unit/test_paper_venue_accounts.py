"""The simulated venue's account: leverage positions closed by closeBulkOrder with a loss_gain
that matches our own accounting, and spot balances with GMO's funds checks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.paper import ManualClock, PaperVenue, VenueSettings
from hexexec.domain.accounting import Position, apply_fill
from hexexec.domain.errors import BrokerRejected
from hexexec.domain.order_status import VenueStatus
from hexexec.domain.orders import OrderIntent, SettleType, Side
from hexexec.domain.signal import OrderType
from hexexec.domain.symbols import default_rules

LEV = "BTC_JPY"


def intent(
    symbol: str, side: Side, size: Decimal | str, settle: SettleType = SettleType.OPEN,
    price: Decimal | None = None,
) -> OrderIntent:
    order_type = OrderType.MARKET if price is None else OrderType.LIMIT
    return OrderIntent("gmo", symbol, side, settle, order_type, Decimal(size), price, None)


def venue(**kw: object) -> PaperVenue:
    kw.setdefault("slippage_bps", Decimal("0"))
    rules = [default_rules(LEV), default_rules("BTC"), default_rules("ETH")]
    return PaperVenue(rules, settings=VenueSettings(**kw), now=ManualClock().now)  # type: ignore[arg-type]


def code_of(call: object) -> str:
    with pytest.raises(BrokerRejected) as info:
        call()  # type: ignore[operator]
    return info.value.code


@settings(max_examples=80, deadline=None)
@given(
    short=st.booleans(),
    steps=st.lists(
        st.tuples(
            st.booleans(),  # True: open more, False: close some
            st.integers(min_value=1, max_value=400),  # size in steps
            st.integers(min_value=1_000_000, max_value=20_000_000),  # price in yen
        ),
        min_size=1,
        max_size=25,
    ),
)
def test_closing_fills_report_the_loss_gain_our_accounting_computes(
    short: bool, steps: list[tuple[bool, int, int]]
) -> None:
    rules = default_rules(LEV)
    v = venue(slippage_bps=Decimal("3"))
    entry = Side.SELL if short else Side.BUY
    ours = Position("gmo", LEV)
    for opening, size_steps, price in steps:
        v.set_price(LEV, Decimal(price))
        size = rules.size_step * size_steps
        held = abs(ours.quantity)
        if opening:
            order_id = v.place(intent(LEV, entry, size))
        elif held >= rules.min_order_size:
            order_id = v.place(intent(LEV, entry.opposite, min(size, held), SettleType.CLOSE))
        else:
            continue
        for fill in v.fills(order_id):
            effect = apply_fill(ours, fill)
            if fill.settle_type is SettleType.CLOSE:
                assert fill.loss_gain == effect.realized_gross
            else:
                assert fill.loss_gain is None and effect.realized_gross == 0
            ours = effect.position
    venue_positions = {p.symbol: p for p in v.positions()}
    if ours.quantity == 0:
        assert LEV not in venue_positions
    else:
        assert venue_positions[LEV].quantity == ours.quantity
        assert venue_positions[LEV].average_price == ours.average_price


def test_a_close_needs_a_position_on_the_opposite_side_that_covers_it() -> None:
    v = venue()
    v.set_price(LEV, Decimal("10000000"))
    assert code_of(lambda: v.place(intent(LEV, Side.SELL, "0.01", SettleType.CLOSE))) == "ERR-422"
    v.place(intent(LEV, Side.BUY, "0.01"))
    # closing a long is a SELL; a BUY close looks for a short that is not there
    assert code_of(lambda: v.place(intent(LEV, Side.BUY, "0.01", SettleType.CLOSE))) == "ERR-422"
    assert code_of(lambda: v.place(intent(LEV, Side.SELL, "0.02", SettleType.CLOSE))) == "ERR-189"
    resting = v.place(intent(LEV, Side.SELL, "0.006", SettleType.CLOSE, Decimal("11000000")))
    assert v.orders([resting])[0].status is VenueStatus.ORDERED
    assert code_of(lambda: v.place(intent(LEV, Side.SELL, "0.005", SettleType.CLOSE))) == "ERR-200"
    v.place(intent(LEV, Side.SELL, "0.004", SettleType.CLOSE))
    assert [p.quantity for p in v.positions()] == [Decimal("0.006")]


def test_long_and_short_positions_are_kept_apart_and_reported_net() -> None:
    v = venue()
    v.set_price(LEV, Decimal("10000000"))
    v.place(intent(LEV, Side.BUY, "0.03"))
    v.set_price(LEV, Decimal("10100000"))
    v.place(intent(LEV, Side.SELL, "0.01"))  # an OPEN sell hedges, it does not close the long
    [net] = v.positions()
    assert net.quantity == Decimal("0.02") and net.average_price is None
    [close] = v.fills(v.place(intent(LEV, Side.BUY, "0.01", SettleType.CLOSE)))
    assert close.loss_gain == 0  # the short closed at its own entry price
    [long] = v.positions()
    assert long.quantity == Decimal("0.03") and long.average_price == Decimal("10000000")


def test_spot_fills_move_coins_and_yen_including_the_fee() -> None:
    v = venue(jpy_balance=Decimal("1000000"))
    v.set_price("BTC", Decimal("10000000"))
    [buy] = v.fills(v.place(intent("BTC", Side.BUY, "0.05")))
    assert v.balance("BTC") == Decimal("0.05")
    assert v.balance("JPY") == Decimal("1000000") - buy.price * buy.size - buy.fee
    [sell] = v.fills(v.place(intent("BTC", Side.SELL, "0.02", SettleType.CLOSE)))
    assert sell.settle_type is SettleType.OPEN  # GMO reports spot orders as OPEN
    assert v.balance("BTC") == Decimal("0.03")
    assert [(p.symbol, p.quantity) for p in v.positions()] == [("BTC", Decimal("0.03"))]


def test_spot_buy_beyond_the_free_yen_is_refused_with_err_201() -> None:
    v = venue(jpy_balance=Decimal("100000"))
    v.set_price("BTC", Decimal("10000000"))
    assert code_of(lambda: v.place(intent("BTC", Side.BUY, "0.01"))) == "ERR-201"  # fee on top
    v.place(intent("BTC", Side.BUY, "0.006", price=Decimal("9000000")))  # rests, holds 54,000+
    assert code_of(lambda: v.place(intent("BTC", Side.BUY, "0.005"))) == "ERR-201"
    v.place(intent("BTC", Side.BUY, "0.004"))
    assert len(v.all_orders()) == 2


def test_spot_sell_beyond_the_free_coins_is_refused_with_err_208() -> None:
    v = venue(holdings={"BTC": Decimal("0.01")})
    v.set_price("BTC", Decimal("10000000"))
    assert code_of(lambda: v.place(intent("BTC", Side.SELL, "0.02"))) == "ERR-208"
    assert code_of(lambda: v.place(intent("ETH", Side.SELL, "0.01"))) == "ERR-208"
    v.place(intent("BTC", Side.SELL, "0.006", price=Decimal("11000000")))  # rests, holds coins
    assert code_of(lambda: v.place(intent("BTC", Side.SELL, "0.005"))) == "ERR-208"
    [fill] = v.fills(v.place(intent("BTC", Side.SELL, "0.004")))
    assert fill.size == Decimal("0.004")


def test_unlimited_yen_still_tracks_the_cash_spent() -> None:
    v = venue()
    v.set_price("BTC", Decimal("10000000"))
    [buy] = v.fills(v.place(intent("BTC", Side.BUY, "1")))
    assert v.balance("JPY") == -(buy.price * buy.size + buy.fee)
