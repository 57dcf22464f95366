"""The client-side limiter: starts evenly spaced (so never more than N in any second), callers
served in turn.

Runs on trio's MockClock, so the times asserted are virtual, exact and instant.
"""

from __future__ import annotations

import itertools
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
    interval = (1 + MARGIN) / per_second
    assert len(starts) == len(arrivals)
    for earlier, later in itertools.pairwise(starts):
        assert later - earlier >= interval - 1e-9  # evenly spaced: no bursts at all
    burst = math.ceil(per_second)
    for i in range(len(starts) - burst):  # hence at most ceil(per_second) in any second
        assert starts[i + burst] - starts[i] >= 1.0


@settings(deadline=None)
@given(arrival_lists)
def test_nobody_waits_when_there_is_room_and_never_longer_than_needed(arrivals: list[float]) -> None:
    interval = (1 + MARGIN) / 20.0
    done = sorted(run_schedule(20.0, arrivals), key=lambda pair: pair[1])
    for i, (arrived, start) in enumerate(done):
        # A caller starts on arrival, or one interval after the caller ahead of it, whichever is
        # later: no idle time.
        spaced = done[i - 1][1] + interval if i else -math.inf
        assert math.isclose(start, max(arrived, spaced), abs_tol=1e-9)


def test_callers_are_served_in_arrival_order() -> None:
    arrivals = [i * 0.001 for i in range(60)]
    order = [arrived for arrived, _ in sorted(run_schedule(20.0, arrivals), key=lambda p: p[1])]
    assert order == arrivals


def test_a_pause_holds_everyone_back() -> None:
    starts = run_schedule(20.0, [0.0, 0.5, 0.6, 2.0], pause=(0.1, 1.0))
    assert [round(s, 9) for _, s in starts] == [0.0, 1.1, round(1.1 + (1 + MARGIN) / 20, 9), 2.0]


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
