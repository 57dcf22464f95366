"""Hypothesis examples inside the running trio test, on the test's own store.

An async ``@given`` test would run each example in a new ``trio.run``, and pytest-trio tears
async fixtures down after the first example: a real store would be closed for the others.
Driving Hypothesis from a worker thread and each example back on the trio thread keeps them all
in this run, on one store.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import trio
from hypothesis import given, settings
from hypothesis import strategies as st

EXAMPLES = settings(max_examples=20, deadline=None)


async def for_examples(check: Callable[..., Awaitable[None]],
                       **strategies: st.SearchStrategy[Any]) -> None:
    """Run ``check(**values)`` for each example Hypothesis draws from ``strategies``."""

    @EXAMPLES
    @given(**strategies)
    def example(**values: Any) -> None:
        trio.from_thread.run(partial(check, **values))

    await trio.to_thread.run_sync(example)
