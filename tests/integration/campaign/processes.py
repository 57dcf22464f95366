"""`hexexec sim-gmo` and `hexexec run` as real child processes: started, steered over HTTP, and
killed with SIGKILL whenever the test likes.

Each worker's output (JSON lines) goes to its own file, so that a failure can quote its tail.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from adapters.paper.http.settings import DEFAULT_KEY, DEFAULT_SECRET

HEXEXEC = [sys.executable, "-m", "hexexec"]
REPO = Path(__file__).resolve().parents[3]


class SimProcess:
    """The simulated GMO on a free port; ``control`` posts to its ``/sim/...`` endpoints."""

    def __init__(self, home: Path, prices: dict[str, Decimal], *extra: str) -> None:
        self.key, self.secret = DEFAULT_KEY, DEFAULT_SECRET
        self.log_path = home / "sim-gmo.log"
        argv = [*HEXEXEC, "sim-gmo", "--port", "0", "--symbols", ",".join(prices), *extra]
        for symbol, price in prices.items():
            argv += ["--price", f"{symbol}={price}"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=log,
                                            stdin=subprocess.DEVNULL)
        assert self.process.stdout is not None
        guard = threading.Timer(60, self.process.kill)  # readline has no timeout of its own
        guard.start()
        try:
            line = self.process.stdout.readline().decode().strip()  # printed once it listens
        finally:
            guard.cancel()
        if not line.startswith("simulated GMO listening on "):
            self.process.kill()
            raise AssertionError(f"sim-gmo did not start: {line!r} {self.log_path.read_text()}")
        self.base_url = line.rsplit(" ", 1)[1]
        self._http = httpx.Client(base_url=self.base_url, timeout=30)

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        reply = self._http.post(path, json=body or {})
        assert reply.status_code == 200, reply.text
        return reply.json()

    def get(self, path: str) -> Any:
        reply = self._http.get(path)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def stop(self) -> None:
        self._http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class WorkerProcess:
    """``hexexec run`` with ``env``; ``ready()`` says whether it has said "worker ready"."""

    def __init__(self, home: Path, env: dict[str, str], name: str) -> None:
        self.log_path = home / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen([*HEXEXEC, "run"], env=env, cwd=home, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.started = time.monotonic()
        self._ready = False

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def ready(self) -> bool:
        if not self._ready:
            self._ready = '"worker ready"' in self.output()
        return self._ready

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float = 90) -> float:
        """Seconds from spawn to ready; fails (quoting the log) if it exits or takes too long."""
        deadline = time.monotonic() + timeout
        while not self.ready():
            if not self.alive():
                raise AssertionError(f"worker exited {self.process.returncode}:\n{self.output()[-4000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"worker not ready in {timeout}s:\n{self.output()[-4000:]}")
            time.sleep(0.05)
        return time.monotonic() - self.started

    def kill(self) -> None:
        """SIGKILL: no stop signal handling, no grace, whatever it was doing."""
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def terminate(self, timeout: float = 60) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def errors(self) -> list[dict[str, Any]]:
        """Log events of level ERROR or worse (a crash of a task shows here)."""
        found = []
        for line in self.output().splitlines():
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if isinstance(event, dict) and event.get("level") in ("error", "critical"):
                    found.append(event)
        return found


def worker_env(home: Path, sim: SimProcess, redis_url: str, database_url: str,
               **settings: str) -> dict[str, str]:
    """A live worker's environment: the simulator's credentials, the test's own servers."""
    env = {k: v for k, v in os.environ.items() if not k.isupper() or k in (
        "PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "TMPDIR")}
    env.update(
        TRADING_MODE="live", REST_BASE_URL=sim.base_url, API_KEY=sim.key, API_SECRET=sim.secret,
        REDIS_URL=redis_url, DATABASE_URL=database_url, DATA_DIR=str(home), METRICS_PORT="0",
        LOG_LEVEL="INFO", PYTHONPATH=str(REPO),
    )
    env.update(settings)
    return env
