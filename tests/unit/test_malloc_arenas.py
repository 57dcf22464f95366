"""limit_malloc_arenas: threads that allocate get at most the arenas asked for (glibc's own
malloc_stats counts them), where without it each new thread gets an arena of its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import ctypes, ctypes.util, sys, threading
from adapters.system.malloc import limit_malloc_arenas
if sys.argv[1] == "limit":
    assert limit_malloc_arenas(2)
together = threading.Barrier(8)
def work():
    together.wait()  # all alive at once: none can hand its arena to the next
    keep = [bytearray(4096 + i) for i in range(50)]  # over pymalloc's size: glibc malloc
    together.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
ctypes.CDLL(ctypes.util.find_library("c")).malloc_stats()
"""


def arenas(mode: str) -> int:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True,
                          env=env, timeout=60, check=True)
    return sum(1 for line in done.stderr.splitlines() if line.startswith("Arena "))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_threads_share_the_arenas_asked_for() -> None:
    assert arenas("default") > 2  # each thread took an arena of its own
    assert 1 <= arenas("limit") <= 2
