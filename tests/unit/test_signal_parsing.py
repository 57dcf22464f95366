"""The signal contract (DESIGN §1): both wire forms, every kind of bad input, and a fuzz test.

A valid signal is generated as values, rendered to a stream entry (flat, or one ``data`` field of
JSON) and parsed back: every value must come back exactly. Bad input must raise ``InvalidSignal``
with a reason, never anything else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from hexexec.domain.signal import Action, MessageRef, OrderType, Signal, TimeInForce
from hexexec.domain.signal_parsing import (
    ALLOWED_TIF,
    MAX_PAYLOAD_BYTES,
    InvalidSignal,
    parse_signal,
    stream_id_time,
)
from hexexec.domain.symbols import is_leverage
from tests.unit.strategies import EXCHANGE, LEVERAGE, SPOT, SYMBOLS, many_digit_decimals

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STREAM_MS = 1_700_000_000_123
SOURCE = MessageRef("signal:gmo", f"{STREAM_MS}-7")
BASE = {
    "exchange": "gmo",
    "symbol": LEVERAGE,
    "action": "enter_long",
    "size": "0.01",
    "price_ref": "5000000",
}


def parse(fields: dict, source: MessageRef = SOURCE) -> Signal:
    return parse_signal(source, fields, exchange_name=EXCHANGE, symbols=SYMBOLS)


def reason_of(fields: dict) -> str:
    with pytest.raises(InvalidSignal) as caught:
        parse(fields)
    assert caught.value.reason
    assert str(caught.value) == caught.value.reason
    return caught.value.reason


def as_data(fields: dict) -> dict:
    return {"data": json.dumps(fields)}


def both_forms(fields: dict) -> list[dict]:
    return [fields, as_data(fields)]


# ---------------------------------------------------------------- valid signals, both forms


@dataclass(frozen=True)
class Spec:
    """A valid signal as values, and how to render it."""

    symbol: str
    action: Action
    size: Decimal | None
    order_type: OrderType | None  # None: field absent (LIMIT by default)
    price_ref: Decimal | None
    tif: TimeInForce | None
    signal_id: int | None
    strategy: str | None
    timestamp: datetime | None
    ts_text: str | None
    numbers_as_json: bool  # in the data form: size/price/signal_id as JSON numbers, not strings


PRICES_AND_SIZES = st.one_of(
    st.decimals(min_value=Decimal("1e-8"), max_value=Decimal("1e9"), places=8),
    many_digit_decimals(),
).filter(lambda d: d > 0 and len(str(d)) <= 40)


@st.composite
def timestamps(draw: st.DrawFn) -> tuple[datetime, str]:
    """An instant and one of its accepted spellings: ISO-8601 with a zone, 'Z', or epoch ms."""
    ms = draw(st.integers(0, 4_102_444_800_000))  # up to 2100
    instant = EPOCH + timedelta(milliseconds=ms)
    form = draw(st.sampled_from(["iso", "z", "ms"]))
    if form == "ms":
        return instant, str(ms)
    if form == "z":
        return instant, instant.isoformat().replace("+00:00", "Z")
    offset = timezone(timedelta(minutes=draw(st.integers(-12 * 60, 14 * 60))))
    return instant, instant.astimezone(offset).isoformat()


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    symbol = draw(st.sampled_from(sorted(SYMBOLS)))
    actions = list(Action) if is_leverage(symbol) else [Action.ENTER_LONG, Action.EXIT_LONG]
    action = draw(st.sampled_from(actions))
    size = draw(PRICES_AND_SIZES if action.is_entry else st.none() | PRICES_AND_SIZES)
    order_type = draw(st.sampled_from([None, OrderType.LIMIT, OrderType.MARKET]))
    effective = order_type or OrderType.LIMIT
    price = draw(PRICES_AND_SIZES if effective is OrderType.LIMIT else st.none() | PRICES_AND_SIZES)
    tif = draw(st.none() | st.sampled_from(sorted(ALLOWED_TIF[effective])))
    ts = draw(st.none() | timestamps())
    strategy = draw(
        st.none() | st.text(min_size=1, max_size=80).map(str.strip).filter(bool)
    )
    return Spec(
        symbol=symbol,
        action=action,
        size=size,
        order_type=order_type,
        price_ref=price,
        tif=tif,
        signal_id=draw(st.none() | st.integers(-(2**63), 2**63 - 1)),
        strategy=strategy,
        timestamp=None if ts is None else ts[0],
        ts_text=None if ts is None else ts[1],
        numbers_as_json=draw(st.booleans()),
    )


def flat_fields(spec: Spec) -> dict[bytes, bytes]:
    values = {
        "exchange": EXCHANGE,
        "symbol": spec.symbol,
        "action": spec.action.value,
        "size": spec.size,
        "order_type": spec.order_type,
        "price_ref": spec.price_ref,
        "time_in_force": spec.tif,
        "signal_id": spec.signal_id,
        "strategy": spec.strategy,
        "timestamp": spec.ts_text,
    }
    return {k.encode(): str(v).encode() for k, v in values.items() if v is not None}


def data_fields(spec: Spec) -> dict[bytes, bytes]:
    """The ``data`` form. JSON numbers are written with Decimal's own digits (valid JSON)."""
    parts = []
    for key, value in flat_fields(spec).items():
        text = value.decode()
        numeric = key in (b"size", b"price_ref", b"signal_id")
        literal = text if numeric and spec.numbers_as_json else json.dumps(text)
        parts.append(f"{json.dumps(key.decode())}: {literal}")
    return {b"data": ("{" + ", ".join(parts) + "}").encode()}


def check_matches(signal: Signal, spec: Spec) -> None:
    assert signal.source == SOURCE
    assert signal.exchange == EXCHANGE
    assert signal.symbol == spec.symbol
    assert signal.action is spec.action
    assert signal.order_type is (spec.order_type or OrderType.LIMIT)
    assert signal.time_in_force is spec.tif
    assert signal.signal_id == spec.signal_id
    assert signal.strategy == spec.strategy
    for got, sent in ((signal.size, spec.size), (signal.price_ref, spec.price_ref)):
        if sent is None:
            assert got is None
        else:
            # Exact: same type, same digits, same exponent; never a float on the way.
            assert type(got) is Decimal
            assert got.as_tuple() == Decimal(str(sent)).as_tuple()
    expected_time = spec.timestamp or EPOCH + timedelta(milliseconds=STREAM_MS)
    assert signal.timestamp == expected_time
    assert signal.timestamp.utcoffset() == timedelta(0)


@given(specs())
def test_valid_flat_signal_parses_exactly(spec: Spec) -> None:
    check_matches(parse(flat_fields(spec)), spec)


@given(specs())
def test_valid_data_signal_parses_exactly(spec: Spec) -> None:
    check_matches(parse(data_fields(spec)), spec)


@given(specs())
def test_str_and_bytes_fields_parse_alike(spec: Spec) -> None:
    as_text = {k.decode(): v.decode() for k, v in flat_fields(spec).items()}
    assert parse(as_text) == parse(flat_fields(spec))


def test_json_numbers_become_exact_decimals_never_floats() -> None:
    # 0.1 as a float is 0.1000000000000000055511151231257827; the digits must survive as sent.
    signal = parse({"data": '{"exchange": "gmo", "symbol": "BTC_JPY", "action": "enter_long",'
                            ' "size": 0.1, "price_ref": 1234567.123456789012345678901234}'})
    assert signal.size == Decimal("0.1")
    assert str(signal.price_ref) == "1234567.123456789012345678901234"
    assert type(signal.size) is Decimal and type(signal.price_ref) is Decimal


def test_json_integer_size_and_signal_id() -> None:
    signal = parse({"data": json.dumps({**BASE, "size": 2, "price_ref": 5000000, "signal_id": 42})})
    assert signal.size == Decimal(2) and type(signal.size) is Decimal
    assert signal.price_ref == Decimal(5000000)
    assert signal.signal_id == 42


def test_exit_without_size_means_the_whole_position() -> None:
    for fields in both_forms({**BASE, "action": "exit_long", "size": ""}):
        assert parse(fields).size is None
    assert parse({"data": json.dumps({**BASE, "action": "exit_long", "size": None})}).size is None


def test_market_order_needs_no_price() -> None:
    fields = {**BASE, "order_type": "MARKET"}
    del fields["price_ref"]
    for form in both_forms(fields):
        signal = parse(form)
        assert signal.order_type is OrderType.MARKET
        assert signal.price_ref is None


def test_unknown_extra_fields_are_ignored() -> None:
    # The contract lists values that are bad; an extra field (a strategy's own note) is not one.
    assert parse({**BASE, "note": "hello"}) == parse(BASE)


# ---------------------------------------------------------------- missing and unknown values


@pytest.mark.parametrize("field", ["exchange", "symbol", "action"])
@pytest.mark.parametrize("blank", [None, "", "   "])
def test_missing_required_field(field: str, blank: str | None) -> None:
    fields = dict(BASE)
    if blank is None:
        del fields[field]
    else:
        fields[field] = blank
    for form in both_forms(fields):
        assert field in reason_of(form)
    assert field in reason_of({"data": json.dumps({**BASE, field: None})})


@pytest.mark.parametrize("action", ["enter_long", "enter_short"])
def test_entry_needs_a_size(action: str) -> None:
    fields = {k: v for k, v in BASE.items() if k != "size"}
    for form in both_forms({**fields, "action": action}):
        assert "size" in reason_of(form)


def test_limit_needs_a_price() -> None:
    fields = {k: v for k, v in BASE.items() if k != "price_ref"}
    for form in both_forms(fields) + both_forms({**fields, "order_type": "LIMIT"}):
        assert "price_ref" in reason_of(form)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("exchange", "binance"),
        ("exchange", "GMO"),
        ("symbol", "DOGE_JPY"),
        ("symbol", "btc_jpy"),
        ("action", "buy"),
        ("action", "ENTER_LONG"),
        ("order_type", "STOP"),
        ("order_type", "limit"),
        ("time_in_force", "GTC"),
    ],
)
def test_unknown_values(field: str, value: str) -> None:
    for form in both_forms({**BASE, field: value}):
        assert field.split("_")[0] in reason_of(form)


@pytest.mark.parametrize(("order_type", "tif"), [("MARKET", "FAS"), ("MARKET", "FOK"), ("MARKET", "SOK")])
def test_time_in_force_not_allowed_for_market(order_type: str, tif: str) -> None:
    assert "time_in_force" in reason_of({**BASE, "order_type": order_type, "time_in_force": tif})


@pytest.mark.parametrize("action", ["enter_short", "exit_short"])
def test_short_on_spot_is_bad_input(action: str) -> None:
    for form in both_forms({**BASE, "symbol": SPOT, "action": action}):
        assert "spot" in reason_of(form)
    assert parse({**BASE, "symbol": LEVERAGE, "action": action}).action is Action(action)


# ---------------------------------------------------------------- numbers


BAD_NUMBERS = [
    "0", "-0", "-1", "0E-8", "-0.5", "abc", "1,5", "0x10", "1/2", "NaN", "nan", "-NaN", "sNaN",
    "Infinity", "-Infinity", "inf", "1e15", "1e999999999999", "9" * 41,
]


@pytest.mark.parametrize("field", ["size", "price_ref"])
@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_bad_numbers(field: str, value: str) -> None:
    for form in both_forms({**BASE, field: value}):
        assert field in reason_of(form)


@pytest.mark.parametrize("field", ["size", "price_ref"])
@pytest.mark.parametrize(
    "literal", ["NaN", "Infinity", "-Infinity", "0", "-1", "0.0", "true", "[1]", '{"v": 1}', "1e400"]
)
def test_bad_json_numbers(field: str, literal: str) -> None:
    other = {k: v for k, v in BASE.items() if k != field}
    body = json.dumps(other)[:-1] + f', "{field}": {literal}}}'
    reason_of({"data": body})


def test_largest_accepted_number_rounds_without_error() -> None:
    signal = parse({**BASE, "size": "999999999999999.99999999", "price_ref": "1e-30"})
    assert signal.size == Decimal("999999999999999.99999999")


# ---------------------------------------------------------------- the data field and bytes


@pytest.mark.parametrize("body", ["[]", "1", '"text"', "null", "true", '[{"exchange": "gmo"}]'])
def test_data_not_an_object(body: str) -> None:
    assert "object" in reason_of({"data": body})


@pytest.mark.parametrize("body", ["{", "{'exchange': 'gmo'}", "", "{}}", '{"a": 1,}', "\x00"])
def test_data_invalid_json(body: str) -> None:
    assert "data" in reason_of({"data": body})


def test_data_deeply_nested_is_bad_input_not_a_crash() -> None:
    # Regression: 40,000 '[' (40 KB, under the size limit) blew the JSON parser's stack.
    reason_of({"data": "[" * 40_000})
    reason_of({"data": '{"size": ' + "[" * 40_000 + "]" * 40_000 + "}"})


@pytest.mark.parametrize("value", ["true", "false", "[]", "{}", '{"a": "b"}'])
def test_data_values_must_be_strings_or_numbers(value: str) -> None:
    assert "strategy" in reason_of({"data": json.dumps(BASE)[:-1] + f', "strategy": {value}}}'})


def test_data_mixed_with_other_fields() -> None:
    assert "data" in reason_of({"data": json.dumps(BASE), "exchange": "gmo"})
    assert "data" in reason_of({**BASE, "data": "{}"})


@pytest.mark.parametrize("where", ["key", "value", "data"])
def test_non_utf8_bytes(where: str) -> None:
    fields = {k.encode(): v.encode() for k, v in BASE.items()}
    if where == "key":
        fields[b"\xff\xfe"] = b"x"
    elif where == "value":
        fields[b"symbol"] = b"BTC_\xc3"
    else:
        fields = {b"data": json.dumps(BASE).encode()[:-1] + b', "strategy": "\xe9t\xe9"}'}
    assert "UTF-8" in reason_of(fields)


def test_payload_size_limit_is_64_kib() -> None:
    base = {k.encode(): v.encode() for k, v in BASE.items()}
    used = sum(len(k) + len(v) for k, v in base.items()) + len(b"pad")
    at_limit = {**base, b"pad": b"x" * (MAX_PAYLOAD_BYTES - used)}
    assert MAX_PAYLOAD_BYTES == 65536
    assert parse(at_limit).size == Decimal("0.01")
    over = {**base, b"pad": b"x" * (MAX_PAYLOAD_BYTES - used + 1)}
    assert "64 KiB" in reason_of(over)
    padded = {**BASE, "strategy": "s", "pad": "y" * MAX_PAYLOAD_BYTES}
    assert "64 KiB" in reason_of(as_data(padded))


def test_strategy_length_limit() -> None:
    assert parse({**BASE, "strategy": "s" * 200}).strategy == "s" * 200
    assert "strategy" in reason_of({**BASE, "strategy": "s" * 201})


# ---------------------------------------------------------------- timestamps and ids


def test_timestamp_forms() -> None:
    when = datetime(2024, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)
    for text in (
        "2024-03-01T12:00:00.25Z",
        "2024-03-01T12:00:00.250+00:00",
        "2024-03-01T21:00:00.250+09:00",
        "2024-03-01T07:00:00.25-05:00",
        str(int(when.timestamp() * 1000)),
    ):
        got = parse({**BASE, "timestamp": text}).timestamp
        assert got == when and got.tzinfo is UTC, text


def test_timestamp_defaults_to_the_stream_id_time() -> None:
    got = parse(BASE, MessageRef("signal:gmo", "1700000000123-42")).timestamp
    assert got == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-01T12:00:00",  # naive: which zone?
        "2024-03-01",  # a date is naive too
        "yesterday",
        "12:00",
        "1.5e12",
        "-1000",
        "9" * 30,  # epoch ms past year 9999
        "0001-01-01T00:00:00+01:00",  # regression: before datetime.min once in UTC
        "9999-12-31T23:59:59-01:00",  # regression: after datetime.max once in UTC
    ],
)
def test_bad_timestamps(text: str) -> None:
    assert "timestamp" in reason_of({**BASE, "timestamp": text})


@given(st.integers(0, 253_402_300_799_999), st.integers(0, 2**64 - 1))
def test_stream_id_time_is_exact_to_the_millisecond(ms: int, seq: int) -> None:
    # Regression: ms / 1000 as a float lost microseconds for far-future ids.
    assert stream_id_time(f"{ms}-{seq}") == EPOCH + timedelta(milliseconds=ms)


@given(st.integers(0, 253_402_300_799_999))
def test_epoch_ms_timestamp_is_exact(ms: int) -> None:
    assert parse({**BASE, "timestamp": str(ms)}).timestamp == EPOCH + timedelta(milliseconds=ms)


@pytest.mark.parametrize("text", ["0", "42", "-7", str(2**63 - 1), str(-(2**63)), " 5 "])
def test_signal_id_integer(text: str) -> None:
    assert parse({**BASE, "signal_id": text}).signal_id == int(text)


@pytest.mark.parametrize(
    # "--5" and "²" passed the old isdigit() check and then crashed int() with ValueError.
    "text", ["4.2", "1e3", "abc", "--5", "²", "١٢", "5-", str(2**63), str(-(2**63) - 1), "0x1F"]
)
def test_signal_id_not_an_integer(text: str) -> None:
    for form in both_forms({**BASE, "signal_id": text}):
        assert "signal_id" in reason_of(form)
    reason_of({"data": json.dumps(BASE)[:-1] + ', "signal_id": 4.5}'})


# ---------------------------------------------------------------- fuzz


def check_invariants(signal: Signal) -> None:
    """What every parsed signal promises, whatever it was parsed from."""
    assert signal.exchange == EXCHANGE
    assert signal.symbol in SYMBOLS
    assert is_leverage(signal.symbol) or signal.action.direction > 0
    for value in (signal.size, signal.price_ref):
        assert value is None or (type(value) is Decimal and value.is_finite() and value > 0)
    assert signal.size is not None or not signal.action.is_entry
    assert signal.price_ref is not None or signal.order_type is OrderType.MARKET
    assert signal.time_in_force is None or signal.time_in_force in ALLOWED_TIF[signal.order_type]
    assert signal.signal_id is None or -(2**63) <= signal.signal_id < 2**63
    assert signal.timestamp.utcoffset() == timedelta(0)


def parse_or_invalid(fields: dict) -> None:
    try:
        signal = parse(fields)
    except InvalidSignal as bad:
        assert isinstance(bad.reason, str) and bad.reason.strip()
    else:
        check_invariants(signal)


@given(st.dictionaries(st.binary(max_size=20), st.binary(max_size=60), max_size=12))
@example({b"data": b"[" * 5000})
@example({b"\xff": b"1"})
def test_fuzz_arbitrary_bytes(fields: dict[bytes, bytes]) -> None:
    parse_or_invalid(fields)


@given(st.dictionaries(st.text(max_size=20), st.text(max_size=60), max_size=12))
@example({"symbol": "\ud800"})  # regression: a lone surrogate raised UnicodeEncodeError
def test_fuzz_arbitrary_text(fields: dict[str, str]) -> None:
    parse_or_invalid(fields)


JUNK_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["", " ", "0", "-1", "NaN", "inf", "1e99999", "²", "--5", "١٢", "1_000", "\x00", "null",
         "MARKET", "LIMIT", "FAK", "FAS", "exit_short", "enter_short", "BTC", "BTC_JPY", "gmo",
         "0001-01-01T00:00:00+01:00", "2024-01-01T00:00:00", "99999999999999999", "0.00000001"]
    ),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)


@given(
    st.dictionaries(st.sampled_from([*BASE, "order_type", "time_in_force", "signal_id",
                                     "strategy", "timestamp"]), JUNK_TEXT, max_size=6),
    st.sets(st.sampled_from(list(BASE))),
    st.booleans(),
)
def test_fuzz_near_valid_fields(junk: dict[str, str], dropped: set[str], wrapped: bool) -> None:
    # Mostly valid entries with a few fields replaced or removed: this reaches every check.
    fields = {k: v for k, v in BASE.items() if k not in dropped}
    fields.update(junk)
    parse_or_invalid(as_data(fields) if wrapped else fields)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10)
    | st.floats(allow_nan=True, allow_infinity=True),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@given(
    st.one_of(
        JSON_VALUES,
        st.dictionaries(st.sampled_from([*BASE, "signal_id", "timestamp", "order_type"]), JSON_VALUES),
    ),
    st.booleans(),
)
def test_fuzz_json_data(value: object, over_base: bool) -> None:
    if over_base and isinstance(value, dict):
        value = {**BASE, **value}
    try:
        body = json.dumps(value)  # NaN/Infinity floats are written as the JSON extensions
    except ValueError:
        assume(False)
    parse_or_invalid({"data": body})
