"""The event log sink: INFO and above reach the ``event_log`` table in batches, secrets never
do, the caller is never held up (a full buffer drops and counts), and a database failure is
counted and survived."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from decimal import Decimal

import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from adapters.postgres import PostgresStore
from adapters.postgres.event_log import PostgresEventLog
from adapters.postgres.redaction import MASK, redact
from tests.integration.postgres.db import Database

GUARD_S = 30.0  # bounds a failure's hang; asserts no speed
SECRETS = ("KEY-123", "SIG-456", "KEY-789", "PW-000", "SECRET-1", "TOKEN-2")


async def _until(condition: Callable[[], bool]) -> None:
    with trio.fail_after(GUARD_S):
        while not condition():  # noqa: ASYNC110 - the sink's counters have no event
            await trio.sleep(0.01)


def _event(n: int, level: str = "info", **fields: object) -> dict[str, object]:
    return {"event": f"event {n}", "level": level, "logger": "hexexec.test", **fields}


@pytest.mark.postgres
async def test_info_and_above_are_written_in_batches_without_secrets(
        pg_store: PostgresStore, db: Database) -> None:
    sink = PostgresEventLog(pg_store, batch_size=3)
    sink.offer(_event(0, "debug", api_key="KEY-123"))  # below INFO: never stored
    sink.offer(_event(
        1, "info", timestamp="2024-05-01T09:30:00.250000Z", client_order_id="hx1",
        size=Decimal("0.01"), api_key="KEY-123",
        headers={"API-SIGN": "SIG-456", "API-TIMESTAMP": "1714555800000"},
        sent=[("API-KEY", "KEY-789"), ("path", "/v1/order")],
        dsn="postgresql://bot:PW-000@db:5432/hexexec",
        nested={"deeper": {"apiSecret": "SECRET-1", "Authorization": "Bearer TOKEN-2"}},
    ))
    for n, level in enumerate(["warning", "warn", "error", "exception", "critical", "info"], 2):
        sink.offer(_event(n, level))
    async with trio.open_nursery() as nursery:
        await nursery.start(sink.run)
        await _until(lambda: sink.written == 7)
        nursery.cancel_scope.cancel()

    assert sink.batches == 3 and sink.dropped == sink.failed == 0  # 7 events, 3 per batch
    rows = await db.rows("SELECT event, level, logger, at, fields FROM event_log ORDER BY id")
    assert [(r[0], r[1]) for r in rows] == [
        ("event 1", "info"), ("event 2", "warning"), ("event 3", "warning"),
        ("event 4", "error"), ("event 5", "error"), ("event 6", "critical"), ("event 7", "info")]
    assert {r[2] for r in rows} == {"hexexec.test"}
    first = rows[0][4]
    assert rows[0][3].isoformat() == "2024-05-01T09:30:00.250000+00:00"
    assert first["client_order_id"] == "hx1" and first["size"] == "0.01"
    assert first["headers"] == {"API-SIGN": MASK, "API-TIMESTAMP": "1714555800000"}
    assert first["sent"] == [["API-KEY", MASK], ["path", "/v1/order"]]
    assert first["api_key"] == MASK and first["dsn"] == f"postgresql://bot:{MASK}@db:5432/hexexec"
    table = await db.value("SELECT string_agg(t::text, ' ') FROM event_log t")
    assert not [s for s in SECRETS if s in table]


@pytest.mark.postgres
async def test_a_full_buffer_drops_and_counts_instead_of_waiting(
        pg_store: PostgresStore, db: Database) -> None:
    sink = PostgresEventLog(pg_store, capacity=3)
    for n in range(10):  # no writer yet: the buffer fills, offer still returns at once
        sink.offer(_event(n))
    assert sink.dropped == 7
    async with trio.open_nursery() as nursery:
        await nursery.start(sink.run)
        await _until(lambda: sink.written == 3)
        nursery.cancel_scope.cancel()
    assert await db.rows("SELECT event FROM event_log ORDER BY id") == [
        ("event 0",), ("event 1",), ("event 2",)]


@pytest.mark.postgres
async def test_threads_and_stdlib_logging_reach_it_and_a_cancel_flushes(
        pg_store: PostgresStore, db: Database) -> None:
    sink = PostgresEventLog(pg_store)
    logger = logging.getLogger("hexexec.test.event_log")
    handler = sink.logging_handler()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)  # the handler, not the logger, must leave DEBUG out
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(sink.run)
            await trio.to_thread.run_sync(sink.offer, _event(1, order="from a thread"))
            await _until(lambda: sink.written == 1)
            logger.info("placed %s", "hx9", extra={"api_secret": "SECRET-1", "order": "hx9"})
            logger.debug("not stored")
            nursery.cancel_scope.cancel()  # before the writer ran again: the exit flushes it
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    rows = await db.rows("SELECT event, logger, fields FROM event_log ORDER BY id")
    assert [(r[0], r[1]) for r in rows] == [
        ("event 1", "hexexec.test"), ("placed hx9", "hexexec.test.event_log")]
    assert rows[1][2]["order"] == "hx9" and rows[1][2]["api_secret"] == MASK


@pytest.mark.postgres
async def test_a_failed_write_is_counted_and_the_writer_carries_on(
        pg_store: PostgresStore, db: Database) -> None:
    sink = PostgresEventLog(pg_store, retry_after_s=0)
    async with trio.open_nursery() as nursery:
        await nursery.start(sink.run)
        await db.rows("ALTER TABLE event_log RENAME TO event_log_away")
        sink.offer(_event(1))
        sink.offer(_event(2))
        await _until(lambda: sink.failed == 2)
        await db.rows("ALTER TABLE event_log_away RENAME TO event_log")
        sink.offer(_event(3))
        await _until(lambda: sink.written == 1)
        nursery.cancel_scope.cancel()
    assert await db.rows("SELECT event FROM event_log") == [("event 3",)]


_SECRET_KEYS = st.sampled_from(
    ["api_key", "API-KEY", "apiSecret", "password", "Authorization", "sign", "x-api-sign",
     "private_key", "refresh_token", "Cookie"])
_PLAIN_KEYS = st.sampled_from(["symbol", "signal_id", "design", "size", "order", "keys"])
_TREE = st.recursive(
    st.text(alphabet="abc", max_size=3),
    lambda children: st.one_of(
        st.dictionaries(_PLAIN_KEYS, children, max_size=3),
        st.lists(children, max_size=3),
        st.dictionaries(_SECRET_KEYS, st.just("S3CR3T"), min_size=1, max_size=2),
        st.tuples(_SECRET_KEYS, st.just("S3CR3T")),
    ),
    max_leaves=12,
)


@given(tree=_TREE)
def test_no_secret_value_survives_redaction(tree: object) -> None:
    text = json.dumps(redact({"event": tree}), allow_nan=False)
    assert "S3CR3T" not in text
