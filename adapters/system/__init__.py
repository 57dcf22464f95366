"""System adapters: the real wall clock (SystemClock), and one that follows trio's clock so that
wall time moves with virtual time under MockClock (TrioWallClock)."""

from adapters.system.clock import SystemClock, TrioWallClock

__all__ = ["SystemClock", "TrioWallClock"]
