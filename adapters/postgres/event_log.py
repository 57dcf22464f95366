"""PostgresEventLog: log events of level INFO and above into the ``event_log`` table.

The seed's DBLogger, without its cost to the caller: :meth:`offer` (or the instance used as a
structlog processor, or :meth:`logging_handler` for the standard library) only redacts the
event and appends it to a bounded buffer — it never waits, never touches the network, and when
the buffer is full it drops the event and counts it (``dropped``). :meth:`run`, started with
``nursery.start``, writes the buffer in batches, one transaction per batch. A failed batch is
counted (``failed``) and dropped after a pause, so a database outage never stalls the worker.
Secrets never reach the table (see redaction.py).

Offering from another thread is safe: the writer is woken through the trio token.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

import psycopg
import trio

from adapters.postgres.redaction import clean_text, redact
from adapters.postgres.store import PostgresStore

INSERT = (
    "INSERT INTO event_log (at, level, event, logger, fields) "
    "VALUES (%s, %s, %s, %s, %s::jsonb)"
)
_LEVELS = {
    "info": "info", "warning": "warning", "warn": "warning", "error": "error",
    "exception": "error", "critical": "critical", "fatal": "critical",
}
Row = tuple[datetime, str, str, str | None, str]


def _when(value: object) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.astimezone(UTC)
    return datetime.now(UTC)


def event_row(event: Mapping[str, Any], level: str) -> Row:
    """The table row for one event (``level`` already normalized)."""
    rest = {k: v for k, v in event.items() if k not in ("event", "level", "timestamp", "logger")}
    fields = json.dumps(redact(rest), ensure_ascii=False, allow_nan=False)
    logger = event.get("logger")
    return (
        _when(event.get("timestamp")),
        level,
        clean_text(str(event.get("event", ""))),
        None if logger is None else clean_text(str(logger)),
        fields,
    )


class PostgresEventLog:
    """A non-blocking sink of log events, written to PostgreSQL in batches."""

    def __init__(self, store: PostgresStore, *, capacity: int = 10_000, batch_size: int = 500,
                 retry_after_s: float = 1.0, flush_timeout_s: float = 2.0) -> None:
        self._store = store
        self._capacity = capacity
        self._batch_size = batch_size
        self._retry_after = retry_after_s
        self._flush_timeout = flush_timeout_s
        self._buffer: deque[Row] = deque()
        self._lock = threading.Lock()
        self._wakeup = trio.Event()
        self._token: trio.lowlevel.TrioToken | None = None
        self._trio_thread: int | None = None
        self.dropped = 0  # events refused because the buffer was full
        self.failed = 0  # events lost because their batch could not be written
        self.written = 0
        self.batches = 0  # transactions that wrote events

    def offer(self, event: Mapping[str, Any], level: str | None = None) -> None:
        """Queue one event if its level is INFO or above. Never blocks, never raises."""
        name = _LEVELS.get(str(level or event.get("level", "")).lower())
        if name is None:  # debug, or no level: not for the database
            return
        try:
            row = event_row(event, name)
        except Exception:  # a log call must never fail because of the sink
            row = (datetime.now(UTC), name, "unserializable log event", None, "{}")
        with self._lock:
            if len(self._buffer) >= self._capacity:
                self.dropped += 1
                return
            self._buffer.append(row)
        self._wake()

    def __call__(self, logger: object, method_name: str,
                 event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        """As a structlog processor (place it before the renderer): offer, pass through."""
        self.offer(event_dict, event_dict.get("level") or method_name)
        return event_dict

    def logging_handler(self) -> logging.Handler:
        """A standard-library handler that offers each record (with its ``extra`` fields)."""
        return _Handler(self)

    def _wake(self) -> None:
        if self._wakeup.is_set() or self._token is None:
            return
        if threading.get_ident() == self._trio_thread:
            self._wakeup.set()
            return
        try:
            self._token.run_sync_soon(self._wakeup.set)
        except trio.RunFinishedError:
            pass

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Write queued events until cancelled; then flush what is left (bounded in time)."""
        self._token = trio.lowlevel.current_trio_token()
        self._trio_thread = threading.get_ident()
        task_status.started()
        try:
            while True:
                self._wakeup = trio.Event()  # replaced before draining: no wake-up is lost
                await self._drain()  # also what was offered before the writer started
                await self._wakeup.wait()
        finally:
            self._token = None
            with trio.move_on_after(self._flush_timeout, shield=True):
                await self._drain(retry=False)

    async def _drain(self, retry: bool = True) -> None:
        while True:
            with self._lock:
                batch = [self._buffer.popleft()
                         for _ in range(min(self._batch_size, len(self._buffer)))]
            if not batch:
                return
            try:
                async with self._store.transaction() as uow:
                    await uow.run(partial(_insert, batch))
                self.written += len(batch)
                self.batches += 1
            except Exception:
                self.failed += len(batch)
                if not retry:
                    return
                await trio.sleep(self._retry_after)
            except BaseException:  # cancelled: it was rolled back, so the final flush retries it
                with self._lock:
                    self._buffer.extendleft(reversed(batch))
                raise


def _insert(rows: list[Row], conn: psycopg.Connection[Any]) -> None:
    with conn.cursor() as cur:
        cur.executemany(INSERT, rows)


class _Handler(logging.Handler):
    _STANDARD = frozenset(vars(logging.makeLogRecord({})))

    def __init__(self, sink: PostgresEventLog) -> None:
        super().__init__(logging.INFO)
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        event: dict[str, Any] = {
            k: v for k, v in vars(record).items() if k not in self._STANDARD and k != "message"
        }
        event["event"] = record.getMessage()
        event["logger"] = record.name
        event["timestamp"] = datetime.fromtimestamp(record.created, UTC)
        if record.exc_info:
            event["exception"] = logging.Formatter().formatException(record.exc_info)
        self._sink.offer(event, record.levelname)
