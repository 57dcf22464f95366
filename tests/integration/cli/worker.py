"""Drive the real ``hexexec`` command as separate processes, the way an operator would."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HEXEXEC = [sys.executable, "-m", "hexexec"]


def fresh_data_dir() -> Path:
    """Not pytest's tmp_path: the embedded PostgreSQL runs as ``nobody`` under root and must be
    able to enter it."""
    path = Path(tempfile.mkdtemp(prefix="hexexec-cli-"))
    path.chmod(0o755)
    return path


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "DATABASE_URL", "API_KEY", "API_SECRET", "TRADING_MODE")}
    env.update(DATA_DIR=str(data_dir), METRICS_PORT="0", LOG_LEVEL="INFO", SYMBOLS="BTC_JPY,BTC",
               MAX_POSITION_SIZE="10", POLL_INTERVAL_S="0.2")
    env.update(extra)
    return env


class Worker:
    """``hexexec run`` in its own process, with its stdout (JSON lines) collected to a file."""

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self._env = env
        self.log_path = data_dir / f"worker-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen([*HEXEXEC, "run"], env=env, cwd=data_dir,
                                        stdout=self._log, stderr=subprocess.STDOUT)
        self.metrics_port = self._wait_ready()

    def _wait_ready(self, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited {self.process.returncode}:\n{self.output()}")
            for line in self.output().splitlines():
                if '"worker ready"' in line:
                    return int(json.loads(line)["metrics_port"])
            time.sleep(0.2)
        raise AssertionError(f"worker not ready in {timeout}s:\n{self.output()[-4000:]}")

    def redis_url(self) -> str:
        """The embedded Redis this worker started (as recorded for the other commands)."""
        return str(json.loads(self._registry().read_text())["redis_url"])

    def _registry(self) -> Path:
        return Path(self._env["DATA_DIR"]) / "run" / "endpoints.json"

    def output(self) -> str:
        return self.log_path.read_text()

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.metrics_port}{path}", timeout=5)

    def terminate(self, timeout: float = 60) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            self._log.close()


def hexexec(data_dir: Path, env: dict[str, str], *args: str, check: bool = True
            ) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(HEXEXEC + list(args), env=env, cwd=data_dir, capture_output=True,
                          text=True, timeout=120)
    if check and done.returncode != 0:
        raise AssertionError(f"hexexec {' '.join(args)} -> {done.returncode}\n{done.stderr}")
    return done


def status(data_dir: Path, env: dict[str, str]) -> dict[str, Any]:
    return json.loads(hexexec(data_dir, env, "status", "--json").stdout)


def wait_for(predicate: Any, timeout: float = 60, step: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(step)
    raise AssertionError(f"condition not met in {timeout}s (last: {last!r})")


def remove(data_dir: Path) -> None:
    shutil.rmtree(data_dir, ignore_errors=True)


def metric(text: str, name: str) -> float:
    """Sum of a metric's samples in Prometheus text."""
    total = 0.0
    for line in text.splitlines():
        if re.match(rf"^{re.escape(name)}(\{{.*\}})? ", line):
            total += float(line.rsplit(" ", 1)[1])
    return total
