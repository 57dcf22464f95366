"""Bad data from outside never lands in a column silently: a float is refused before it reaches
a NUMERIC column (and so are NaN and times without a zone), and a signal entry that is not UTF-8
or whose ``data`` is not JSON is stored byte for byte, with the reason it was refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from adapters.postgres import PostgresStore, RefusedValue
from hexexec.domain.records import SignalStatus
from hexexec.domain.signal import InboundMessage, MessageRef
from hexexec.services.decide import Outcome, decide
from tests.contract.harnesses import builders as b
from tests.integration.postgres.db import Database
from tests.integration.postgres.deciding import STREAM, deciding_engine

pytestmark = pytest.mark.postgres

SYMBOL = "BTC_JPY"


@pytest.mark.parametrize(("what", "bad", "message"), [
    ("position quantity", lambda: replace(b.position(), quantity=0.1), "float 0.1 refused"),
    ("fill price", lambda: b.fill("e-1", price=10000000.5), "float 10000000.5 refused"),  # type: ignore[arg-type]
    ("trip pnl", lambda: replace(b.trip(1), pnl=Decimal("NaN")), "non-finite Decimal"),
    ("naive time", lambda: replace(b.position(), updated_at=datetime(2024, 5, 1)),
     "naive datetime"),
])
async def test_values_that_must_not_be_stored_are_refused(
        pg_store: PostgresStore, db: Database, what: str, bad: Any, message: str) -> None:
    before = await db.snapshot()
    value = bad()
    with pytest.raises(RefusedValue, match=message):
        async with pg_store.transaction() as uow:
            source = b.ref()
            assert await uow.signals.add(b.signal_record(source))  # rolled back with the rest
            await uow.orders.add(b.order(source, cid="hx-1"))
            if what == "fill price":
                await uow.fills.add(value, "hx-1")
            elif what == "trip pnl":
                await uow.risk.add_trip(value)
            else:
                await uow.positions.put(value)
    assert await db.snapshot() == before


async def _decided_row(pg_store: PostgresStore, db: Database, fields: dict[bytes, bytes],
                       ) -> tuple[Any, ...]:
    message = InboundMessage.of(MessageRef(STREAM, "1714555800000-1"), fields)
    decided = await decide(deciding_engine(pg_store, (SYMBOL,), Decimal(1)), message)
    assert decided.outcome is Outcome.INVALID
    async with pg_store.transaction() as uow:
        record = await uow.signals.get(message.ref)
    assert record is not None and record.status is SignalStatus.INVALID
    assert record.fields == message.fields  # back exactly as received
    rows = await db.rows("SELECT raw_keys, raw_values, payload, status, reason FROM signals")
    assert len(rows) == 1
    return rows[0]


async def test_an_entry_that_is_not_utf8_is_kept_as_received(
        pg_store: PostgresStore, db: Database) -> None:
    fields = {b"exchange": b"gmo", b"symbol": b"BTC\xff\xfe_JPY", b"action": b"enter_long"}
    keys, values, payload, status, reason = await _decided_row(pg_store, db, fields)
    assert list(zip(keys, values, strict=True)) == list(fields.items())
    assert payload is None  # not text: only the raw bytes are kept
    assert status == "INVALID" and "UTF-8" in reason


async def test_a_data_field_that_is_not_json_is_kept_as_received(
        pg_store: PostgresStore, db: Database) -> None:
    fields = {b"data": b'{"exchange": "gmo", "symbol": "BTC_JPY", "size": 0.01'}
    keys, values, payload, status, reason = await _decided_row(pg_store, db, fields)
    assert list(zip(keys, values, strict=True)) == list(fields.items())
    assert payload == {"data": fields[b"data"].decode()}
    assert status == "INVALID" and reason.startswith("'data' is not valid JSON")


async def test_text_jsonb_cannot_hold_is_still_kept_raw(
        pg_store: PostgresStore, db: Database) -> None:
    fields = {b"exchange": b"gmo", b"symbol": b"BTC_JPY", b"action": b"enter_long",
              b"size": b"0.01", b"strategy": b"a\x00b"}  # valid UTF-8, but U+0000
    keys, values, payload, _, _ = await _decided_row(pg_store, db, {**fields, b"size": b"-1"})
    assert values[keys.index(b"strategy")] == b"a\x00b"
    assert payload is None
