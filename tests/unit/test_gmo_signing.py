"""API-SIGN: the reference's worked examples byte for byte, the signing rules, the masked secret."""

from __future__ import annotations

import hashlib
import hmac
import pickle
import traceback

import pytest
from hypothesis import given
from hypothesis import strategies as st
from structlog.tracebacks import ExceptionDictTransformer

from adapters.gmo.signing import ApiSecret, api_sign, signed_text

SECRET = "my-secret-DO-NOT-USE"
STAMP = "1700000000123"
ORDER_BODY = ('{"symbol":"BTC","side":"BUY","executionType":"LIMIT","timeInForce":"SOK",'
              '"price":"9500000","size":"0.0001"}')

# (method, signed path, body sent, string signed, API-SIGN) from gmo-coin-api.md §1.
EXAMPLES = [
    ("GET", "/v1/activeOrders", "", "1700000000123GET/v1/activeOrders",
     "e98edf5031005d4eaee517c2372b7090f7f8b8d126d00a7fb9c60e6e54695e92"),
    ("POST", "/v1/order", ORDER_BODY, "1700000000123POST/v1/order" + ORDER_BODY,
     "04ed031f9d2de288103843f76d514e71c64eb294fc2709632090642457299a21"),
    ("PUT", "/v1/ws-auth", '{"token":"..."}', "1700000000123PUT/v1/ws-auth",
     "19ed3d1b898676319068d4799a62a49f32aa597a47af02a9acfef1ff0e1623f0"),
    ("POST", "/v1/ws-auth", "{}", "1700000000123POST/v1/ws-auth{}",
     "0de993da99717016550120e7481cf74b1ff62e211d6cc6797aa00aab4f5ba39a"),
    ("POST", "/v1/ws-auth", "", "1700000000123POST/v1/ws-auth",
     "5e9661072fa5f0a878cd7c2dcf0b2a8d2d0286f043a701acae9141a637988cef"),
]


@pytest.mark.parametrize(("method", "path", "body", "text", "sign"), EXAMPLES)
def test_worked_examples_of_the_reference(method: str, path: str, body: str, text: str,
                                          sign: str) -> None:
    assert signed_text(STAMP, method, path, body) == text
    assert api_sign(SECRET, STAMP, method, path, body) == sign
    assert ApiSecret(SECRET).sign(STAMP, method, path, body) == sign


def test_the_method_is_signed_upper_case() -> None:
    assert api_sign(SECRET, STAMP, "get", "/v1/activeOrders") == EXAMPLES[0][4]


@pytest.mark.parametrize("path", ["/private/v1/order", "/v1/activeOrders?symbol=BTC", "v1/order"])
def test_a_path_that_is_not_the_signed_one_is_refused(path: str) -> None:
    with pytest.raises(ValueError):
        signed_text(STAMP, "GET", path)


@pytest.mark.parametrize("stamp", ["", "1.7e12", "-1", "17000000001 23"])
def test_a_timestamp_that_is_not_milliseconds_is_refused(stamp: str) -> None:
    with pytest.raises(ValueError):
        signed_text(stamp, "GET", "/v1/orders")


bodies = st.text(max_size=80)
stamps = st.integers(min_value=0, max_value=10**14).map(str)


@given(stamps, st.sampled_from(["PUT", "DELETE", "GET"]), bodies, bodies)
def test_only_post_bodies_are_signed(stamp: str, method: str, one: str, other: str) -> None:
    assert api_sign(SECRET, stamp, method, "/v1/ws-auth", one) == api_sign(
        SECRET, stamp, method, "/v1/ws-auth", other)


@given(stamps, bodies, bodies)
def test_a_post_signature_covers_the_exact_body(stamp: str, one: str, other: str) -> None:
    same = api_sign(SECRET, stamp, "POST", "/v1/order", one) == api_sign(
        SECRET, stamp, "POST", "/v1/order", other)
    assert same == (one == other)


@given(st.text(min_size=1, max_size=40), stamps, bodies)
def test_the_secret_object_signs_like_the_function_an_independent_hmac(
    secret: str, stamp: str, body: str,
) -> None:
    expected = hmac.new(secret.encode(), f"{stamp}POST/v1/order{body}".encode(),
                        hashlib.sha256).hexdigest()
    assert ApiSecret(secret).sign(stamp, "POST", "/v1/order", body) == expected
    assert api_sign(secret, stamp, "POST", "/v1/order", body) == expected


class _PydanticLike:
    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value


def test_the_secret_never_shows_in_repr_str_pickle_or_a_rendered_traceback() -> None:
    secret = ApiSecret(_PydanticLike(SECRET))
    assert secret.sign(STAMP, "GET", "/v1/activeOrders") == EXAMPLES[0][4]
    assert SECRET not in repr(secret) and SECRET not in str(secret) and SECRET not in f"{secret}"
    assert SECRET not in repr(vars(type(secret)))
    with pytest.raises(TypeError):
        pickle.dumps(secret)

    def failing(holder: ApiSecret) -> None:
        holder.sign(STAMP, "GET", "/private/v1/x")  # refused path: raises inside sign

    try:
        failing(secret)
    except ValueError as exc:
        rendered = repr(ExceptionDictTransformer(show_locals=True)((type(exc), exc,
                                                                     exc.__traceback__)))
        plain = "".join(traceback.format_exception(exc))
    assert "ApiSecret(" in rendered  # the locals were rendered ...
    assert SECRET not in rendered and SECRET not in plain  # ... without the secret


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        ApiSecret("")
