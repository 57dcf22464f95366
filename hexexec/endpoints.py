"""Where Redis and PostgreSQL are: the configured URLs, or embedded servers under DATA_DIR.

The running worker records the URLs of the embedded servers it started in
``<DATA_DIR>/run/endpoints.json`` (mode 0600: the Redis URL carries its password), so that
``hexexec status``, ``signal``, ``halt``... reach the same servers while it runs; when no worker
runs, a command starts the embedded servers itself for its own duration.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import (
    AbstractAsyncContextManager,
    AsyncExitStack,
    asynccontextmanager,
    contextmanager,
)
from dataclasses import dataclass
from pathlib import Path

from hexexec.config import Settings


@dataclass(frozen=True)
class Endpoints:
    redis_url: str
    database_url: str


EmbeddedFactory = Callable[[Path], AbstractAsyncContextManager[str]]


def _registry(settings: Settings) -> Path:
    return Path(settings.data_dir) / "run" / "endpoints.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _recorded(settings: Settings) -> dict[str, str] | None:
    path = _registry(settings)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not _alive(int(data.get("pid", 0))):
        return None
    return {k: v for k, v in data.items() if k in ("redis_url", "database_url") and v}


@asynccontextmanager
async def endpoints(
    settings: Settings,
    *,
    embedded_redis: EmbeddedFactory,
    embedded_postgres: EmbeddedFactory,
    record: bool = False,
) -> AsyncIterator[Endpoints]:
    """Configured URLs win; else a running worker's embedded servers; else start them here.

    ``record``: this process is the worker: write the registry while the block runs."""
    recorded = {} if record else (_recorded(settings) or {})
    async with AsyncExitStack() as stack:
        data_dir = Path(settings.data_dir)
        started: dict[str, str] = {}
        redis_url = settings.redis_url or recorded.get("redis_url")
        if redis_url is None:
            redis_url = started["redis_url"] = await stack.enter_async_context(
                embedded_redis(data_dir))
        database_url = settings.database_url or recorded.get("database_url")
        if database_url is None:
            database_url = started["database_url"] = await stack.enter_async_context(
                embedded_postgres(data_dir))
        if record and started:
            _write_registry(settings, started)
            stack.callback(_registry(settings).unlink, missing_ok=True)
        yield Endpoints(redis_url, database_url)


def _write_registry(settings: Settings, urls: dict[str, str]) -> None:
    path = _registry(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"pid": os.getpid(), **urls}, f)
    os.replace(tmp, path)


@contextmanager
def worker_registered(settings: Settings, metrics_port: int) -> Iterator[None]:
    """While the worker runs: ``<DATA_DIR>/run/worker.json`` says its pid and metrics port, so
    ``hexexec status`` can ask it whether it is ready and whether the venue answers."""
    path = Path(settings.data_dir) / "run" / "worker.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "metrics_port": metrics_port,
                               "metrics_host": settings.metrics_host}))
    os.replace(tmp, path)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def running_worker(settings: Settings) -> dict[str, object] | None:
    """The running worker's registration, or None when no worker runs on this DATA_DIR."""
    try:
        data = json.loads((Path(settings.data_dir) / "run" / "worker.json").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and _alive(int(data.get("pid", 0))) else None
