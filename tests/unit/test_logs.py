"""Logging: one JSON object per line, stdlib extra fields as keys, secrets masked everywhere."""

from __future__ import annotations

import io
import json
import logging
import string
from collections.abc import Iterator, MutableMapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from hexexec.logs import MASK, configure_logging, redact, redact_text


@pytest.fixture
def out() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    yield stream
    configure_logging("INFO")  # back to stdout: later tests must not write into a dead buffer
    structlog.contextvars.clear_contextvars()


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_stdlib_events_are_json_lines_with_their_extra_fields(out: io.StringIO) -> None:
    log = logging.getLogger("hexexec.test.stdlib")
    log.info("order %s placed", "c-1", extra={"order_id": "123", "size": Decimal("0.01")})
    log.warning("two\nlines", extra={"symbol": "BTC_JPY"})
    first, second = lines(out)
    assert first["event"] == "order c-1 placed" and first["order_id"] == "123"
    assert first["size"] == "0.01"  # Decimal as its exact text, never a float
    assert (first["level"], first["logger"]) == ("info", "hexexec.test.stdlib")
    assert datetime.fromisoformat(first["timestamp"]).utcoffset().total_seconds() == 0
    assert (second["event"], second["level"], second["symbol"]) == ("two\nlines", "warning", "BTC_JPY")


def test_structlog_events_and_bound_context(out: io.StringIO) -> None:
    structlog.contextvars.bind_contextvars(signal_id="1-0")
    structlog.get_logger("hexexec.test.struct").bind(order="c-2").info("sent", venue_id=42)
    logging.getLogger("hexexec.test.stdlib").info("also bound")
    sent, stdlib = lines(out)
    assert (sent["event"], sent["order"], sent["venue_id"], sent["signal_id"]) == ("sent", "c-2", 42, "1-0")
    assert (sent["logger"], sent["level"]) == ("hexexec.test.struct", "info")
    assert stdlib["signal_id"] == "1-0"


def test_level_is_honoured() -> None:
    stream = io.StringIO()
    configure_logging("warning", stream=stream)
    try:
        logging.getLogger("hexexec.test").info("quiet")
        structlog.get_logger("hexexec.test").info("quiet too")
        logging.getLogger("hexexec.test").error("loud")
    finally:
        configure_logging("INFO")
    assert [e["event"] for e in lines(stream)] == ["loud"]


def test_exceptions_stay_on_one_line(out: io.StringIO) -> None:
    try:
        raise RuntimeError("connect to redis://app:hunter2@cache failed")
    except RuntimeError:
        logging.getLogger("hexexec.test").exception("boom")
    (event,) = lines(out)
    assert "RuntimeError" in event["exception"] and "hunter2" not in event["exception"]


def test_secrets_are_masked_in_every_event(out: io.StringIO) -> None:
    logging.getLogger("hexexec.test").info(
        "calling https://bot:hunter2@api.example/private",
        extra={"api_key": "AAAA1111", "headers": {"API-SIGN": "f00d", "Accept": "json"},
               "db": "postgresql://u:hunter3@db/x?password=hunter4"},
    )
    structlog.get_logger("hexexec.test").info("x", api_secret="BBBB2222", password="p", sign="s",
                                              authorization="Bearer t", pairs=[("API-KEY", "CCCC")])
    text = out.getvalue()
    for secret in ("hunter2", "hunter3", "hunter4", "AAAA1111", "f00d", "BBBB2222", "Bearer t", "CCCC"):
        assert secret not in text
    first, second = lines(out)
    assert first["api_key"] == MASK and first["headers"] == {"API-SIGN": MASK, "Accept": "json"}
    assert first["db"] == f"postgresql://u:{MASK}@db/x?password={MASK}"
    assert (second["password"], second["sign"], second["authorization"]) == (MASK, MASK, MASK)


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(
        self, logger: object, name: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        self.events.append(dict(event))
        return event


class RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_extra_sinks_get_the_same_redacted_events() -> None:
    processor, handler, stream = Recorder(), RecordingHandler(), io.StringIO()
    configure_logging("DEBUG", extra_processors=[processor], extra_handlers=[handler], stream=stream)
    try:
        logging.getLogger("hexexec.test").info("filled", extra={"order_id": "9", "api_secret": "S3"})
        structlog.get_logger("hexexec.test").warning("drift", symbol="BTC_JPY", name="clash")
        logging.getLogger("hexexec.test").debug("not for the handler (INFO+)")
    finally:
        configure_logging("INFO")
    assert [e["event"] for e in processor.events] == ["filled", "drift", "not for the handler (INFO+)"]
    assert processor.events[0]["api_secret"] == MASK and "_record" not in processor.events[0]
    filled, drift = handler.records
    assert (filled.getMessage(), filled.levelname, filled.name) == ("filled", "INFO", "hexexec.test")
    assert (filled.order_id, filled.api_secret) == ("9", MASK)  # type: ignore[attr-defined]
    assert (drift.getMessage(), drift.levelno, drift.symbol) == ("drift", logging.WARNING, "BTC_JPY")  # type: ignore[attr-defined]
    assert drift.name_ == "clash"  # type: ignore[attr-defined]
    assert len(lines(stream)) == 3


def test_a_failing_sink_does_not_break_logging() -> None:
    def broken(logger: object, name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        raise RuntimeError("sink down")

    stream = io.StringIO()
    configure_logging("INFO", extra_processors=[broken], stream=stream)
    try:
        logging.getLogger("hexexec.test").info("still logged")
    finally:
        configure_logging("INFO")
    assert [e["event"] for e in lines(stream)] == ["still logged"]


# What RFC 3986 allows in a password: unreserved, sub-delims and percent-escapes.
@given(st.text(alphabet=string.ascii_letters + string.digits + "-._~!$&'()*+,;=%", min_size=1))
def test_url_passwords_are_masked_whatever_they_are(password: str) -> None:
    text = f"see redis://app:{password}@cache:6379/0 now"
    assert redact_text(text) == f"see redis://app:{MASK}@cache:6379/0 now"
    assert redact({"nested": [{"url": text}]}) == {"nested": [{"url": redact_text(text)}]}
