"""GMO wire ↔ domain: request bodies from intents, wire objects to domain values."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.gmo import mapping
from adapters.gmo.schemas import (
    WireAsset,
    WireExecution,
    WireOrder,
    WirePositionSummary,
    WireSymbol,
    structure,
    structure_list,
)
from adapters.gmo.wire import WireError, parse_json
from hexexec.domain.matching import matches_submission
from hexexec.domain.order_status import OrderStatus, VenueStatus
from hexexec.domain.orders import Order, OrderIntent, SettleType, Side
from hexexec.domain.signal import MessageRef, OrderType, TimeInForce

T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def intent(symbol: str = "BTC_JPY", side: Side = Side.BUY, settle: SettleType = SettleType.OPEN,
           price: Decimal | None = None, size: Decimal = Decimal("0.01"),
           tif: TimeInForce | None = None) -> OrderIntent:
    kind = OrderType.MARKET if price is None else OrderType.LIMIT
    return OrderIntent("gmo", symbol, side, settle, kind, size, price, tif)


def wire_order(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "rootOrderId": 123456789, "orderId": 123456789, "symbol": "BTC_JPY", "side": "BUY",
        "orderType": "NORMAL", "executionType": "LIMIT", "settleType": "OPEN", "size": "0.01",
        "executedSize": "0", "price": "9500000", "losscutPrice": "0", "status": "ORDERED",
        "timeInForce": "FAS", "timestamp": "2026-01-05T09:30:00.123Z",
    }
    base.update(fields)
    return base


def wire_execution(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "executionId": 72123911, "orderId": 123456789, "positionId": 1234567, "symbol": "BTC_JPY",
        "side": "SELL", "settleType": "CLOSE", "size": "0.02", "price": "9600000",
        "lossGain": "2000", "fee": "0", "timestamp": "2026-01-05T09:31:00.000Z",
    }
    base.update(fields)
    return base


# ---- requests ---------------------------------------------------------------------------------

def test_an_open_is_a_new_order_and_a_market_order_has_no_price() -> None:
    path, body = mapping.order_request(intent(side=Side.SELL))
    assert path == "/v1/order"
    assert body == {"symbol": "BTC_JPY", "side": "SELL", "executionType": "MARKET", "size": "0.01"}


def test_a_leverage_close_is_close_bulk_with_the_closing_side() -> None:
    path, body = mapping.order_request(
        intent(side=Side.SELL, settle=SettleType.CLOSE, price=Decimal("9.6E+6"),
               tif=TimeInForce.SOK))
    assert path == "/v1/closeBulkOrder"
    assert body == {"symbol": "BTC_JPY", "side": "SELL", "executionType": "LIMIT",
                    "timeInForce": "SOK", "price": "9600000", "size": "0.01"}


def test_a_spot_close_is_a_plain_sell() -> None:
    path, body = mapping.order_request(
        intent("BTC", Side.SELL, SettleType.CLOSE, size=Decimal("0.00100")))
    assert path == "/v1/order" and body["side"] == "SELL" and body["size"] == "0.001"


def test_impossible_intents_are_refused_before_anything_is_sent() -> None:
    with pytest.raises(ValueError):
        mapping.order_request(intent(size=Decimal("0")))
    with pytest.raises(ValueError):
        mapping.order_request(OrderIntent("gmo", "BTC", Side.BUY, SettleType.OPEN,
                                          OrderType.LIMIT, Decimal("1"), None, None))


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=Decimal("1e-12"),
                   max_value=Decimal("1e12"), places=None))
def test_decimal_text_is_plain_and_exact(value: Decimal) -> None:
    text = mapping.decimal_text(value)
    assert Decimal(text) == value
    assert "E" not in text.upper() and not ("." in text and text.endswith(("0", ".")))


sizes = st.integers(min_value=1, max_value=10**6).map(lambda n: Decimal(n) * Decimal("0.001"))
prices = st.one_of(st.none(), st.integers(min_value=1, max_value=10**8).map(Decimal))


@given(st.sampled_from(["BTC_JPY", "ETH_JPY", "BTC"]), st.sampled_from(list(Side)),
       st.sampled_from(list(SettleType)), prices, sizes,
       st.one_of(st.none(), st.sampled_from(list(TimeInForce))))
def test_the_venue_echo_of_a_request_matches_the_order_we_sent(
    symbol: str, side: Side, settle: SettleType, price: Decimal | None, size: Decimal,
    tif: TimeInForce | None,
) -> None:
    """What a venue reports back about our body (as GMO echoes it) is found by recovery."""
    sent = intent(symbol, side, settle, price, size, tif)
    path, body = mapping.order_request(sent)
    wire = json.loads(json.dumps(body))  # the exact body text, parsed back by the venue
    echoed = structure(wire_order(
        symbol=wire["symbol"], side=wire["side"], executionType=wire["executionType"],
        settleType="CLOSE" if path == "/v1/closeBulkOrder" else "OPEN",
        price=wire.get("price", "0"), size=wire["size"], timeInForce=wire.get("timeInForce"),
    ), WireOrder)
    seen = mapping.venue_order(echoed)
    assert seen is not None
    ours = Order("hx1", MessageRef("s", "1-0"), sent, OrderStatus.UNKNOWN, T0, T0, T0,
                 submitted_at=T0 - timedelta(seconds=1))
    assert matches_submission(ours, seen, timedelta(seconds=5))
    assert (seen.price, seen.size, seen.time_in_force) == (sent.price, sent.size, tif)


# ---- replies ----------------------------------------------------------------------------------

def test_an_order_maps_ids_decimals_status_and_times() -> None:
    seen = mapping.venue_order(structure(wire_order(executedSize="0.004"), WireOrder))
    assert seen is not None
    assert seen.order_id == "123456789" and seen.price == Decimal("9500000")
    assert seen.executed_size == Decimal("0.004") and seen.status is VenueStatus.ORDERED
    assert seen.our_status is OrderStatus.PARTIALLY_FILLED
    assert seen.timestamp == datetime(2026, 1, 5, 9, 30, 0, 123000, tzinfo=UTC)
    assert seen.time_in_force is TimeInForce.FAS


def test_a_market_order_has_no_price_though_gmo_sends_zero() -> None:
    seen = mapping.venue_order(structure(
        wire_order(executionType="MARKET", price="0", status="EXECUTED", executedSize="0.01",
                   orderId="987"), WireOrder))
    assert seen is not None and seen.price is None and seen.order_id == "987"
    assert seen.our_status is OrderStatus.FILLED


def test_stop_orders_are_never_ours_and_unknown_kinds_are_unreadable() -> None:
    assert mapping.venue_order(structure(wire_order(executionType="STOP"), WireOrder)) is None
    with pytest.raises(WireError):
        mapping.venue_order(structure(wire_order(executionType="ICEBERG"), WireOrder))
    with pytest.raises(WireError):
        mapping.venue_order(structure(wire_order(settleType="LOSS"), WireOrder))


@pytest.mark.parametrize("bad", [
    {"size": 0.01}, {"size": "abc"}, {"size": "NaN"}, {"orderId": "12a"}, {"orderId": True},
    {"side": "HOLD"}, {"status": "DONE"}, {"timestamp": "2026-01-05 09:30:00"}, {"symbol": 5},
])
def test_a_field_of_the_wrong_shape_is_a_wire_error(bad: dict[str, object]) -> None:
    with pytest.raises(WireError):
        structure(wire_order(**bad), WireOrder)


def test_a_missing_field_is_a_wire_error_and_extra_fields_are_ignored() -> None:
    incomplete = wire_order()
    del incomplete["executedSize"]
    with pytest.raises(WireError, match="executedSize"):
        structure(incomplete, WireOrder)
    assert structure(wire_order(somethingNew="x"), WireOrder).orderId == "123456789"


def test_json_numbers_never_become_floats() -> None:
    parsed = parse_json(b'{"a": 0.1, "b": 12345678901234567890, "c": "0.3"}')
    assert parsed["a"] == Decimal("0.1") and isinstance(parsed["a"], Decimal)
    assert structure(wire_order(size=parsed["a"]), WireOrder).size == Decimal("0.1")
    with pytest.raises(WireError):
        parse_json(b'{"a": NaN}')


def test_a_closing_leverage_fill_carries_the_venue_loss_gain_others_do_not() -> None:
    close = mapping.fill(structure(wire_execution(), WireExecution), "gmo")
    assert close.loss_gain == Decimal("2000") and close.settle_type is SettleType.CLOSE
    assert (close.execution_id, close.order_id, close.exchange) == ("72123911", "123456789", "gmo")
    spot = mapping.fill(structure(wire_execution(symbol="BTC", settleType="OPEN", side="BUY",
                                                 lossGain="0", fee="-12"), WireExecution), "gmo")
    assert spot.loss_gain is None and spot.fee == Decimal("-12") and spot.side is Side.BUY
    opening = mapping.fill(structure(wire_execution(settleType="OPEN", lossGain="0"),
                                     WireExecution), "gmo")
    assert opening.loss_gain is None


def test_symbol_rules_are_read_and_bad_ones_refused() -> None:
    row = {"symbol": "BTC_JPY", "minOrderSize": "0.001", "maxOrderSize": "5", "sizeStep": "0.001",
           "tickSize": "1", "takerFee": "0", "makerFee": "0"}
    rules = mapping.symbol_rules(structure(row, WireSymbol))
    assert rules.leverage and rules.size_step == Decimal("0.001")
    with pytest.raises(WireError):
        mapping.symbol_rules(structure({**row, "sizeStep": "0"}, WireSymbol))


def test_positions_net_both_sides_and_keep_listed_spot_holdings() -> None:
    summaries = structure_list([
        {"symbol": "BTC_JPY", "side": "BUY", "sumPositionQuantity": "0.05",
         "averagePositionRate": "9500000"},
        {"symbol": "BTC_JPY", "side": "SELL", "sumPositionQuantity": "0.02",
         "averagePositionRate": "9700000"},
        {"symbol": "ETH_JPY", "side": "SELL", "sumPositionQuantity": "0.3",
         "averagePositionRate": "500000"},
        {"symbol": "XRP_JPY", "side": "BUY", "sumPositionQuantity": "0"},
    ], WirePositionSummary)
    assets = structure_list([
        {"symbol": "JPY", "amount": "1000000", "available": "900000"},
        {"symbol": "BTC", "amount": "0.0031", "available": "0.0031"},
        {"symbol": "ETH", "amount": "0", "available": "0"},
        {"symbol": "FIL", "amount": "3", "available": "3"},
    ], WireAsset)
    held = mapping.positions(summaries, assets, {"BTC", "ETH", "BTC_JPY", "ETH_JPY"})
    assert [(p.symbol, p.quantity, p.average_price) for p in held] == [
        ("BTC_JPY", Decimal("0.03"), None),
        ("ETH_JPY", Decimal("-0.3"), Decimal("500000")),
        ("BTC", Decimal("0.0031"), None),
    ]
