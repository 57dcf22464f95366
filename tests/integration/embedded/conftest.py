"""Fixtures of the embedded-server tests: a data directory the servers' user can reach."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A fresh DATA_DIR. Not pytest's tmp_path: under root that sits in a 0700 directory, which
    the ``nobody`` user running PostgreSQL could not enter."""
    path = Path(tempfile.mkdtemp(prefix="hexexec-embedded-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def run_and_kill(function: str, data_dir: Path) -> str:
    """Start ``function`` (embedded_redis or embedded_postgres) in a child Python, and SIGKILL the
    child once it has the URL: a crash that leaves the server behind. Returns the URL."""
    code = textwrap.dedent(f"""
        import sys, trio
        from adapters.embedded import {function}
        async def main():
            async with {function}(sys.argv[1]) as url:
                print(url, flush=True)
                await trio.sleep_forever()
        trio.run(main)
    """)
    child = subprocess.Popen([sys.executable, "-c", code, str(data_dir)], stdout=subprocess.PIPE,
                             text=True, cwd=Path(__file__).resolve().parents[3])
    guard = threading.Timer(60, child.kill)  # a hang guard: readline has no timeout of its own
    guard.start()
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()  # the child prints once the server is ready
        assert url, "the child died before its server was ready"
    finally:
        guard.cancel()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    return url
