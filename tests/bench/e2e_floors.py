"""Floors of the end-to-end benchmark: the bare cost of each hop a signal must make, measured with
plain synchronous clients (no trio, no pool, no adapter) on the same services, in the same run.

- one Redis round trip: ``XADD`` of a signal-sized entry to a scratch stream (and ``PING``);
- one commit: ``INSERT`` + ``COMMIT`` on one plain psycopg connection (bench_store.py's floor);
- one loopback HTTP request to the simulator: ``GET /public/v1/status`` on a kept-alive httpx
  connection (at whatever latency the simulator has when it is measured).

Also the machine's description and the process's resident memory.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import httpx
import psycopg
import redis
from psycopg import sql


@dataclass(frozen=True)
class Sample:
    """Latencies of one repeated operation, in seconds."""

    name: str
    times: tuple[float, ...]

    def q(self, quantile: float) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, int(len(ordered) * quantile))]

    @property
    def p50(self) -> float:
        return self.q(0.5)

    @property
    def p99(self) -> float:
        return self.q(0.99)


def timed(name: str, n: int, op: Callable[[int], object], warmup: int = 20) -> Sample:
    for i in range(warmup):
        op(i)
    times = []
    for i in range(n):
        t = time.perf_counter()
        op(i)
        times.append(time.perf_counter() - t)
    return Sample(name, tuple(times))


def redis_floor(url: str, stream: str, fields: dict[str, str], n: int) -> tuple[Sample, Sample]:
    """XADD and PING round trips on a bare synchronous client; the scratch stream is deleted."""
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        xadd = timed("Redis XADD", n, lambda _: client.xadd(stream, fields))
        ping = timed("Redis PING", n, lambda _: client.ping())
        return xadd, ping
    finally:
        client.delete(stream)
        client.close()


def commit_floor(url: str, schema: str, n: int) -> Sample:
    """INSERT + COMMIT on one plain connection, into a scratch table of ``schema``."""
    with psycopg.connect(url, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        conn.execute("CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, "
                     "v numeric NOT NULL)")
        conn.commit()

        def insert(i: int) -> None:
            conn.execute("INSERT INTO bench_floor (v) VALUES (%s)", (Decimal(i),))
            conn.commit()

        return timed("INSERT + COMMIT", n, insert)


def http_floor(base_url: str, n: int, name: str = "HTTP GET /v1/status") -> Sample:
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        def get(_: int) -> None:
            client.get(base_url + "/public/v1/status").raise_for_status()

        return timed(name, n, get, warmup=5)


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def malloc_view() -> dict[str, float] | None:
    """glibc's view of its heap, MiB: what it took from the OS by sbrk/arenas and by mmap, what
    of that is in use, and what it holds free (RSS a trim could give back). None off glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallinfo2 = libc.mallinfo2
    except (OSError, AttributeError):
        return None
    mallinfo2.restype = _Mallinfo2
    info = mallinfo2()
    mib = 1024 * 1024
    return {"heap": info.arena / mib, "mmapped": info.hblkhd / mib,
            "in_use": info.uordblks / mib, "free": info.fordblks / mib}


def python_view() -> dict[str, float]:
    """Python's own allocator (pymalloc), MiB: the 1 MiB arenas it holds from the OS, what of them
    is in live blocks, free blocks of pools in use, empty pools of arenas in use, and blocks
    alive (thousands): arenas growing with no growth in live blocks is fragmentation (a few
    long-lived blocks keeping otherwise empty arenas)."""
    stats: dict[str, float] = {"blocks_k": sys.getallocatedblocks() / 1000}
    with tempfile.TemporaryFile(mode="w+") as out:
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read()
    mib = 1024 * 1024
    for key, label in (("arenas", "# arenas allocated current"),
                       ("in_blocks", "# bytes in allocated blocks"),
                       ("free_blocks", "# bytes in available blocks"),
                       ("empty_pools", " unused pools * ")):
        for line in text.splitlines():
            if label in line:
                value = float(line.split("=")[-1].replace(",", "").strip())
                stats[key] = value if key == "arenas" else value / mib
    return stats


def rss_mib() -> float:
    """Resident memory of this process (VmRSS), MiB."""
    return rss_parts()["VmRSS"]


def rss_parts() -> dict[str, float]:
    """VmRSS and its parts, MiB: anonymous memory (heaps, stacks: what a leak would grow) and
    file-backed pages (code and data of the interpreter and its libraries, paged in as new code
    paths first run)."""
    parts: dict[str, float] = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                parts[key] = int(value.split()[0]) / 1024
    if "VmRSS" not in parts:
        raise RuntimeError("no VmRSS in /proc/self/status")
    return parts


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def machine_cpu_seconds() -> tuple[float, float]:
    """The whole machine's CPU seconds since boot, every core: (busy, idle) from /proc/stat
    (idle includes waiting on I/O)."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / tick, idle / tick


def services_cpu_seconds() -> dict[str, float]:
    """CPU seconds of the machine's PostgreSQL and Redis so far: every process named postgres
    (the postmaster, its backends and background workers) or redis-server. A process that ends
    between two readings is missed (the machine's total still counts it)."""
    totals = {"postgres": 0.0, "redis-server": 0.0}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            name, seconds = process_cpu(int(pid))
        except OSError:
            continue  # ended meanwhile
        if name in totals:
            totals[name] += seconds
    return totals


def process_cpu(pid: int) -> tuple[str, float]:
    """Process ``pid``'s name and CPU seconds so far (user + system), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        text = stat.read()
    name, fields = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:].split()
    return name, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            model = next((line.split(":", 1)[1].strip() for line in info
                          if line.startswith("model name")), model)
    except OSError:
        pass
    load = os.getloadavg()
    return (f"{os.cpu_count()} cores, {model}, Python {platform.python_version()} "
            f"({platform.python_implementation()}), load average {load[0]:.2f} at start")
