"""Price feeds for the simulator: a seeded random walk, as a task that supports ``nursery.start``.

(Static prices need no task: set them once with ``SimGmo.set_prices``. Offline paper trading with
no feed at all is ``VenueSettings(follow_order_prices=True)``.) The walk is reproducible: the same
seed and starting prices give the same path, step after step.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from decimal import Decimal

import trio

from adapters.paper.http.sim import SimGmo
from hexexec.domain.symbols import SymbolRules

BPS = Decimal("10000")


def walk_step(rng: random.Random, last: Decimal, rules: SymbolRules, step_bps: int) -> Decimal:
    """The next price: ``last`` moved by a whole number of basis points drawn uniformly from
    [-step_bps, step_bps], on the tick, never below one tick."""
    moved = last * (1 + Decimal(rng.randint(-step_bps, step_bps)) / BPS)
    return max(rules.round_price(moved), rules.tick_size)


async def random_walk(
    sim: SimGmo,
    *,
    seed: int = 0,
    interval_s: float = 1.0,
    step_bps: int = 10,
    symbols: Sequence[str] | None = None,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Every ``interval_s``, move each priced symbol (all listed, or ``symbols``) one step.

    Symbols without a starting price are left alone. Runs until cancelled.
    """
    if interval_s <= 0 or step_bps < 0:
        raise ValueError("interval_s must be positive and step_bps not negative")
    chosen = list(symbols) if symbols is not None else sorted(sim.rules)
    unknown = [s for s in chosen if s not in sim.rules]
    if unknown:
        raise ValueError(f"unknown symbols {unknown}")
    rng = random.Random(seed)
    task_status.started()
    while True:
        await trio.sleep(interval_s)
        for symbol in chosen:
            last = sim.venue.market_price(symbol)
            if last is not None:
                sim.set_price(symbol, walk_step(rng, last, sim.rules[symbol], step_bps))
