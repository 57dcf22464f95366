"""A throwaway redis-server of the test's own (AOF on, fsync at every write) that can be killed
and started again on the same port and data directory."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import redis
import trio

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OwnRedis:
    def __init__(self, data_dir: Path) -> None:
        if not os.access(REDIS_SERVER, os.X_OK):
            message = f"redis-server not found at {REDIS_SERVER}"
            if os.environ.get("HEXEXEC_REQUIRE_SERVICES") == "1":
                pytest.fail(message)
            pytest.skip(message)
        self.dir = data_dir
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        """Start the server and wait until it answers PING (data loaded)."""
        self._spawn()
        await self._wait_ready()

    def _spawn(self) -> None:
        self._proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "",
             "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    async def _wait_ready(self) -> None:
        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        with trio.fail_after(20):  # a hang guard for a server that never comes up
            while True:
                try:
                    if client.ping():
                        break
                except redis.exceptions.ConnectionError:  # includes "LOADING"
                    pass
                await trio.sleep(0.02)
        client.close()

    def kill(self) -> None:
        """SIGKILL: no shutdown save; only what the AOF already holds survives."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None
