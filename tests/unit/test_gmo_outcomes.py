"""GMO error codes and envelopes → the broker's outcome classes (DESIGN §3, reference §2, §8)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.gmo.outcomes import (
    REJECTIONS,
    RETRY_AFTER,
    VenueMessage,
    error_for,
    error_for_envelope,
)
from adapters.gmo.wire import WireError, read_envelope
from hexexec.domain.errors import (
    AmbiguousOutcome,
    BrokerRejected,
    BrokerUnavailable,
    OrderNotCancellable,
    OrderNotFound,
)

# Every code of the reference's table (§8), by what it means for the caller.
COME_BACK_LATER = ["ERR-5003", "ERR-5008", "ERR-5009", "ERR-5201", "ERR-5202", "ERR-5203",
                   "ERR-554", "ERR-626"]
DEFINITIVE = ["ERR-70", "ERR-189", "ERR-200", "ERR-201", "ERR-208", "ERR-254", "ERR-422",
              "ERR-430", "ERR-635", "ERR-682", "ERR-683", "ERR-846", "ERR-5007", "ERR-5010",
              "ERR-5011", "ERR-5012", "ERR-5014", "ERR-5106", "ERR-5111", "ERR-5114",
              "ERR-5118", "ERR-5121", "ERR-5125", "ERR-5126", "ERR-5127", "ERR-5129",
              "ERR-5130", "ERR-5132", "ERR-5204", "ERR-5206", "ERR-5207", "ERR-5208"]


@pytest.mark.parametrize("code", COME_BACK_LATER)
def test_come_back_later_codes_are_unavailable_with_a_hint(code: str) -> None:
    error = error_for(code, "wait")
    assert isinstance(error, BrokerUnavailable) and error.code == code
    assert error.retry_after >= 1.0


@pytest.mark.parametrize("code", DEFINITIVE)
def test_definitive_codes_are_rejections_keeping_code_and_message(code: str) -> None:
    error = error_for(code, "no")
    assert isinstance(error, BrokerRejected) and (error.code, error.message) == (code, "no")


def test_the_two_order_state_codes_have_their_own_classes() -> None:
    assert isinstance(error_for("ERR-5122", "x"), OrderNotCancellable)
    assert isinstance(error_for("ERR-5123", "x"), OrderNotFound)


def test_the_tables_cover_the_reference_exactly_once() -> None:
    tabled = set(RETRY_AFTER) | REJECTIONS | {"ERR-5122", "ERR-5123"}
    assert tabled == set(COME_BACK_LATER) | set(DEFINITIVE) | {"ERR-5122", "ERR-5123"}
    assert not set(RETRY_AFTER) & REJECTIONS


@given(st.from_regex(r"ERR-[0-9]{1,5}", fullmatch=True).filter(
    lambda c: c not in RETRY_AFTER and c not in ("ERR-5122", "ERR-5123")))
def test_an_unknown_code_in_an_error_envelope_is_still_a_clear_no(code: str) -> None:
    assert isinstance(error_for(code, "?"), BrokerRejected)


def test_with_several_messages_waiting_wins_and_every_code_is_kept() -> None:
    error = error_for_envelope(1, [VenueMessage("ERR-5106", "bad"),
                                   VenueMessage("ERR-5201", "maintenance")])
    assert isinstance(error, BrokerUnavailable) and error.code == "ERR-5201"
    assert "ERR-5106" in str(error)


def test_status_decides_nothing_but_an_error_without_codes_is_no_answer() -> None:
    assert isinstance(error_for_envelope(5, [VenueMessage("ERR-201", "funds")]), BrokerRejected)
    assert isinstance(error_for_envelope(1, [VenueMessage("ERR-5201", "m")]), BrokerUnavailable)
    assert isinstance(error_for_envelope(5, []), BrokerUnavailable)
    assert isinstance(error_for_envelope(1, []), AmbiguousOutcome)


def test_a_success_envelope_gives_its_data_or_none() -> None:
    assert read_envelope(b'{"status":0,"data":"637000","responsetime":"2019-03-19T02:15:06.108Z"}'
                         ).result() == "637000"
    quiet = read_envelope(b'{"status":0,"responsetime":"2019-03-19T02:15:06.108Z"}')
    assert quiet.ok and quiet.result() is None and quiet.response_time is not None


def test_an_error_envelope_raises_by_its_message_code() -> None:
    body = {"status": 1, "messages": [{"message_code": "ERR-5122", "message_string": "done"}],
            "responsetime": "2019-03-19T02:15:06.108Z"}
    with pytest.raises(OrderNotCancellable, match="ERR-5122"):
        read_envelope(json.dumps(body)).result()


@pytest.mark.parametrize("raw", [
    b"<html>502 Bad Gateway</html>", b"", b"[]", b'{"data": 1}', b'{"status": "0"}',
    b'{"status": true}', b'{"status": 1, "messages": [{"code": "ERR-1"}]}',
    b'{"status": 1, "messages": "ERR-5003"}', b"\xff\xfe",
])
def test_anything_but_an_envelope_is_a_wire_error(raw: bytes) -> None:
    with pytest.raises(WireError):
        read_envelope(raw)
