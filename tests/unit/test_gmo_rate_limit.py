"""The client-side limiter: never more than N starts in any window, callers served in turn.

Runs on trio's MockClock, so the times asserted are virtual, exact and instant.
"""

from __future__ import annotations

import math

import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.gmo.rate_limit import RateLimiter

MARGIN = 0.03


def run_schedule(per_second: float, arrivals: list[float], pause: tuple[float, float] | None = None
                 ) -> list[tuple[float, float]]:
    """Each caller arrives at its time and acquires; returns (arrival, start) in start order."""
    starts: list[tuple[float, float]] = []

    async def main() -> None:
        limiter = RateLimiter(per_second, margin_s=MARGIN)

        async def caller(at: float) -> None:
            await trio.sleep_until(at)
            await limiter.acquire()
            starts.append((at, trio.current_time()))

        async def pauser(at: float, seconds: float) -> None:
            await trio.sleep_until(at)
            limiter.pause(seconds)

        async with trio.open_nursery() as nursery:
            for at in arrivals:
                nursery.start_soon(caller, at)
            if pause is not None:
                nursery.start_soon(pauser, *pause)

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    return starts


arrival_lists = st.lists(st.floats(min_value=0, max_value=3, allow_nan=False), min_size=1,
                         max_size=80)


@settings(deadline=None)
@given(st.sampled_from([1.0, 2.5, 5.0, 20.0]), arrival_lists)
def test_no_window_holds_more_than_the_rate(per_second: float, arrivals: list[float]) -> None:
    starts = sorted(s for _, s in run_schedule(per_second, arrivals))
    burst = max(1, math.floor(per_second))
    window = burst / per_second + MARGIN
    assert len(starts) == len(arrivals)
    for i in range(len(starts) - burst):
        assert starts[i + burst] - starts[i] >= window - 1e-9


@settings(deadline=None)
@given(arrival_lists)
def test_nobody_waits_when_there_is_room_and_never_longer_than_needed(arrivals: list[float]) -> None:
    burst, window = 20, 1.0 + MARGIN
    done = sorted(run_schedule(20.0, arrivals), key=lambda pair: pair[1])
    for i, (arrived, start) in enumerate(done):
        # A caller starts on arrival, or right behind the caller ahead of it, or exactly when the
        # start `burst` places earlier leaves the window: whichever is latest; no idle time.
        previous = done[i - 1][1] if i else -math.inf
        freed = done[i - burst][1] + window if i >= burst else -math.inf
        assert math.isclose(start, max(arrived, previous, freed), abs_tol=1e-9)


def test_callers_are_served_in_arrival_order() -> None:
    arrivals = [i * 0.001 for i in range(60)]
    order = [arrived for arrived, _ in sorted(run_schedule(20.0, arrivals), key=lambda p: p[1])]
    assert order == arrivals


def test_a_pause_holds_everyone_back() -> None:
    starts = run_schedule(20.0, [0.0, 0.5, 0.6, 2.0], pause=(0.1, 1.0))
    assert [round(s, 9) for _, s in starts] == [0.0, 1.1, 1.1, 2.0]


def test_a_cancelled_waiter_takes_no_turn() -> None:
    async def main() -> list[float]:
        limiter = RateLimiter(2.0, margin_s=0.0)
        await limiter.acquire()
        await limiter.acquire()
        with trio.move_on_after(0.2):
            await limiter.acquire()  # would wait until 1.0: gives up
        await limiter.acquire()
        return [trio.current_time()]

    assert trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0)) == [1.0]


def test_no_limit_means_no_wait_and_bad_rates_are_refused() -> None:
    assert all(s == a for a, s in run_schedule(math.inf, [0.0] * 100))
    with pytest.raises(ValueError):
        RateLimiter(0)
    with pytest.raises(ValueError):
        RateLimiter(-1)
