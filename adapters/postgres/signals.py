"""The signal inbox on PostgreSQL (ports.store.SignalRepository), table ``signals``.

The entry's fields are stored exactly as received, as two parallel BYTEA arrays (keys and
values), so an entry that is not UTF-8 — or whose ``data`` is not JSON — is kept byte for byte
with the reason it was refused. ``payload`` repeats the fields as a JSON object of strings when
they are text that JSONB can hold, for queries; it is never read back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.types.json import Jsonb

from adapters.postgres.adaptation import utc
from hexexec.domain.records import SignalRecord, SignalStatus
from hexexec.domain.signal import Action, MessageRef, OrderType, Signal, TimeInForce

if TYPE_CHECKING:
    from adapters.postgres.unit_of_work import PostgresUnitOfWork

_COLUMNS = (
    "stream", "message_id", "raw_keys", "raw_values", "payload", "status", "reason", "deliveries",
    "exchange", "symbol", "action", "size", "order_type", "price_ref", "time_in_force",
    "strategy_signal_id", "strategy", "signal_time", "received_at",
)
INSERT = (
    f"INSERT INTO signals ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join(f'%({c})s' for c in _COLUMNS)}) "
    "ON CONFLICT (stream, message_id) DO NOTHING RETURNING id"
)
INSERT_MANY = INSERT.removesuffix(" RETURNING id")
SELECT = f"SELECT {', '.join(_COLUMNS)} FROM signals WHERE stream = %s AND message_id = %s"
SELECT_MANY = (
    f"SELECT {', '.join(_COLUMNS)} FROM signals "
    "WHERE (stream, message_id) IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
)
SET_STATUS = (
    "UPDATE signals SET status = %s, reason = %s, updated_at = now() "
    "WHERE stream = %s AND message_id = %s"
)


def payload_json(fields: tuple[tuple[bytes, bytes], ...]) -> Jsonb | None:
    """The fields as a JSON object, or None when they are not text JSONB can hold."""
    try:
        obj = {k.decode("utf-8"): v.decode("utf-8") for k, v in fields}
    except UnicodeDecodeError:
        return None
    if any("\x00" in k or "\x00" in v for k, v in obj.items()):  # JSONB refuses U+0000
        return None
    return Jsonb(obj)


def signal_params(record: SignalRecord) -> dict[str, Any]:
    s = record.signal
    return {
        "stream": record.source.stream,
        "message_id": record.source.message_id,
        "raw_keys": [bytes(k) for k, _ in record.fields],
        "raw_values": [bytes(v) for _, v in record.fields],
        "payload": payload_json(record.fields),
        "status": record.status.value,
        "reason": record.reason,
        "deliveries": record.deliveries,
        "exchange": s.exchange if s else None,
        "symbol": s.symbol if s else None,
        "action": s.action.value if s else None,
        "size": s.size if s else None,
        "order_type": s.order_type.value if s else None,
        "price_ref": s.price_ref if s else None,
        "time_in_force": s.time_in_force.value if s and s.time_in_force else None,
        "strategy_signal_id": s.signal_id if s else None,
        "strategy": s.strategy if s else None,
        "signal_time": s.timestamp if s else None,
        "received_at": record.received_at,
    }


def signal_from_row(row: dict[str, Any]) -> SignalRecord:
    source = MessageRef(row["stream"], row["message_id"])
    signal = None
    if row["action"] is not None:
        tif = row["time_in_force"]
        signal = Signal(
            source=source,
            exchange=row["exchange"],
            symbol=row["symbol"],
            action=Action(row["action"]),
            size=row["size"],
            order_type=OrderType(row["order_type"]),
            price_ref=row["price_ref"],
            time_in_force=TimeInForce(tif) if tif else None,
            signal_id=row["strategy_signal_id"],
            strategy=row["strategy"],
            timestamp=utc(row["signal_time"]),
        )
    return SignalRecord(
        source=source,
        fields=tuple(zip(row["raw_keys"], row["raw_values"], strict=True)),
        status=SignalStatus(row["status"]),
        received_at=utc(row["received_at"]),
        reason=row["reason"],
        signal=signal,
        deliveries=row["deliveries"],
    )


class PostgresSignalRepository:
    def __init__(self, uow: PostgresUnitOfWork) -> None:
        self._uow = uow

    async def add(self, record: SignalRecord) -> bool:
        """Insert; False (and nothing changed) when (stream, message id) is already there."""
        return await self._uow.fetchone(INSERT, signal_params(record)) is not None

    async def add_many(self, records: Sequence[SignalRecord]) -> None:
        if records:
            await self._uow.executemany_later(INSERT_MANY, [signal_params(r) for r in records])

    async def get_many(self, refs: Sequence[MessageRef]) -> Mapping[MessageRef, SignalRecord]:
        if not refs:
            return {}
        rows = await self._uow.fetchall(SELECT_MANY, (
            [r.stream for r in refs], [r.message_id for r in refs]))
        found = (signal_from_row(r) for r in rows)
        return {record.source: record for record in found}

    async def get(self, ref: MessageRef) -> SignalRecord | None:
        row = await self._uow.fetchone(SELECT, (ref.stream, ref.message_id))
        return None if row is None else signal_from_row(row)

    async def set_status(self, ref: MessageRef, status: SignalStatus, reason: str | None) -> None:
        """Sent with the unit of work's next hop; LookupError (from there) if no such signal."""
        params = (status.value, reason, ref.stream, ref.message_id)

        def work(conn: psycopg.Connection[Any]) -> None:
            with conn.cursor() as cur:
                if cur.execute(SET_STATUS, params).rowcount == 0:
                    raise LookupError(f"no signal {ref.stream}/{ref.message_id}")

        await self._uow.later(work)
