"""Logging: every event, from structlog or from the standard library, as one JSON line on stdout.

:func:`configure_logging` routes both through structlog's ``ProcessorFormatter``: a stdlib call's
``extra={...}`` fields become keys of the JSON object, as do structlog's bound and context
variables (``structlog.contextvars``). Each line has ``event``, ``level``, ``logger`` and an ISO-8601
UTC ``timestamp``. Secrets are masked in every event before anything sees it (see :func:`redact`).

Extra sinks see the same redacted events: ``extra_processors`` are structlog-style callables
``(logger, method_name, event_dict)`` (``PostgresEventLog`` is one), ``extra_handlers`` are stdlib
handlers, given a flat record whose attributes are the event's fields.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any, TextIO

import structlog
from structlog.typing import Processor

from hexexec.domain.secrets import MASK, is_secret_key, mask_credentials

MAX_DEPTH = 8

_META = ("_record", "_from_structlog")
_NOISY = ("httpx", "httpcore", "hpack", "asyncio", "trio_asyncio")  # a line per request at INFO

_installed: list[logging.Handler] = []


def redact_text(text: str) -> str:
    """``text`` with passwords inside URLs (``scheme://user:pw@host``, ``?password=``) masked."""
    return mask_credentials(text)


def redact(value: Any, depth: int = 0) -> Any:
    """A JSON-ready copy of ``value``: secret keys masked at any depth, URL passwords masked."""
    if depth > MAX_DEPTH:
        return "[too deep]"
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes | bytearray):
        return redact_text(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, Mapping):
        return {str(k): MASK if is_secret_key(k) else redact(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)
        if len(items) == 2 and is_secret_key(items[0]):  # a (name, value) pair such as a header
            return [redact(items[0], depth + 1), MASK]
        return [redact(v, depth + 1) for v in items]
    return redact_text(str(value))  # Decimal, datetime, enums, exceptions, SecretStr ('*****')


def redact_event(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Processor: mask every secret of the event (its meta keys are left to structlog)."""
    for key, value in list(event.items()):
        if key in _META:
            continue
        event[key] = MASK if is_secret_key(key) else redact(value)
    return event


_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_OWN = ("event", "level", "logger", "timestamp")


def flat_record(event: Mapping[str, Any], source: logging.LogRecord) -> logging.LogRecord:
    """A plain stdlib record of ``event``: message = ``event``, one attribute per other field.

    A field named like a record attribute (``name``, ``msg`` …) is kept with a ``_`` suffix.
    """
    fields = {(k if k not in _STANDARD else f"{k}_"): v for k, v in event.items() if k not in _OWN}
    record = logging.makeLogRecord(fields)
    record.name = source.name
    record.levelno, record.levelname = source.levelno, source.levelname
    record.created, record.msecs = source.created, source.msecs
    record.msg, record.args, record.exc_info = str(event.get("event", "")), (), None
    return record


class _FanOut:
    """Processor: hand a copy of each finished (redacted) event to the extra sinks."""

    def __init__(self, processors: Sequence[Processor], handlers: Sequence[logging.Handler]) -> None:
        self._processors = tuple(processors)
        self._handlers = tuple(handlers)

    def __call__(self, logger: Any, name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        source = event.get("_record")
        clean = {k: v for k, v in event.items() if k not in _META}
        for processor in self._processors:
            try:
                processor(logger, name, dict(clean))
            except Exception:  # a sink must never break logging, nor the caller
                logging.getLogger(__name__).debug("log sink failed", exc_info=True)
        if isinstance(source, logging.LogRecord):
            for handler in self._handlers:
                if source.levelno >= handler.level:
                    handler.handle(flat_record(clean, source))
        return event


def level_number(level: str | int) -> int:
    """``"info"`` / ``"INFO"`` / ``20`` -> 20; an unknown name raises ValueError."""
    if isinstance(level, int):
        return level
    number = logging.getLevelNamesMapping().get(level.strip().upper())
    if number is None:
        raise ValueError(f"unknown log level: {level!r}")
    return number


def configure_logging(
    level: str | int = "INFO",
    *,
    extra_processors: Sequence[Processor] = (),
    extra_handlers: Sequence[logging.Handler] = (),
    stream: TextIO | None = None,
) -> None:
    """Send every event at ``level`` or above to ``stream`` (stdout) as JSON lines, and to the sinks.

    Calling it again replaces what an earlier call installed (handlers added by others stay).
    """
    number = level_number(level)
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            timestamper,
        ],
        processors=[
            structlog.processors.format_exc_info,
            redact_event,
            _FanOut(extra_processors, extra_handlers),
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = logging.StreamHandler(stream if stream is not None else sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in _installed:
        root.removeHandler(old)
    _installed[:] = [handler]
    root.addHandler(handler)
    root.setLevel(number)
    for name in _NOISY:
        logging.getLogger(name).setLevel(max(number, logging.WARNING))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.add_log_level,
            structlog.stdlib.PositionalArgumentsFormatter(),
            timestamper,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a logger first used before this call must follow it, not the defaults.
        cache_logger_on_first_use=False,
    )
