"""gather: results in order, never more than the limit at once, the first failure raised as
itself with the other calls cancelled."""

from __future__ import annotations

from functools import partial

import pytest
import trio

from hexexec.services.concurrently import gather


async def test_results_in_order_and_at_most_the_limit_at_once(autojump_clock):
    running = peak = 0

    async def call(i: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await trio.sleep(1 + (7 - i) % 3)  # finish out of order
        running -= 1
        return i * 10

    start = trio.current_time()
    assert await gather([partial(call, i) for i in range(8)], 3) == [i * 10 for i in range(8)]
    assert peak == 3
    assert trio.current_time() - start < 8  # really at once, not one after another
    assert await gather([], 3) == []


async def test_the_first_failure_is_raised_unwrapped_and_cancels_the_rest(autojump_clock):
    finished: list[int] = []

    async def call(i: int) -> int:
        await trio.sleep(i)
        if i == 2:
            raise LookupError("two")
        finished.append(i)
        return i

    with pytest.raises(LookupError, match="two"):
        await gather([partial(call, i) for i in range(6)], 6)
    assert finished == [0, 1]  # 3, 4, 5 were cancelled when 2 failed
