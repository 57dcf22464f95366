"""Cap glibc's malloc arenas for this process.

psycopg is driven from trio's worker threads, and glibc gives each new thread a malloc arena of
its own (up to 8 per core): memory freed in one is not reused by another, so the resident size
creeps up with the number of threads that ever ran a query. Measured with the benchmark's memory
phase (20,000 signals, same run length): +10.4% RSS with glibc's default, +5.6% with two arenas,
at the same rate. ``MALLOC_ARENA_MAX`` in the environment does the same when set before the
process starts; this does it from inside, before the first worker thread.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_ARENA_MAX = -8  # glibc's malloc.h


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Ask glibc for at most ``arenas`` arenas. False (and nothing done) where the C library is
    not glibc, or when the environment already chose with ``MALLOC_ARENA_MAX``."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))
