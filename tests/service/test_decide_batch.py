"""Deciding a batch in one transaction decides exactly as deciding its entries one after another:
the same outcomes, reasons, rule verdicts, orders and trading state — for any mix of entries,
exits, bad input, duplicates, tight limits and a drawdown breaker that trips mid-batch."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import trio
from hypothesis import given, settings
from hypothesis import strategies as st
from trio.testing import MockClock

from hexexec.domain.equity import EquityPoint
from hexexec.domain.risk import RiskLimits
from hexexec.services.decide import decide, decide_batch
from hexexec.services.worker import load_rules
from tests.service.world import START, World, default_options

PRICE = Decimal("10000000")
ENTRY = st.fixed_dictionaries({
    "action": st.sampled_from(["enter_long", "enter_short", "exit_long", "exit_short"]),
    "symbol": st.sampled_from(["BTC_JPY", "ETH_JPY", "BTC", "XRP_JPY"]),  # XRP: not configured
    "size": st.sampled_from(["0.01", "0.3", "0.5", "-1", "x"]),
    "order_type": st.sampled_from(["MARKET", "LIMIT"]),
})


def world(limits: RiskLimits, peak: Decimal | None) -> World:
    w = World(default_options(limits=limits, read_batch=50))
    for symbol in ("BTC_JPY", "ETH_JPY", "BTC"):
        w.venue.set_price(symbol, PRICE)
    if peak is not None:  # a recorded peak the current equity is far below: drawdown trips
        w.store._tables.equity.append(EquityPoint(START - timedelta(minutes=1), peak))
    return w


async def outcomes(entries: list[dict[str, str]], repeat: list[int], batched: bool,
                   limits: RiskLimits, peak: Decimal | None, cut: int) -> Any:
    w = world(limits, peak)
    engine = await load_rules(w.engine())
    for entry in entries:
        fields = {"exchange": "gmo", **entry}
        if entry["order_type"] == "LIMIT":
            fields["price_ref"] = str(PRICE)
        w.publish(**fields)
    messages = list(await engine.source.read(100))
    messages += [messages[i % len(messages)] for i in repeat]  # redeliveries, some in-batch
    if batched:  # in two batches, cut anywhere
        decided = [*await decide_batch(engine, messages[:cut]),
                   *await decide_batch(engine, messages[cut:])]
    else:
        decided = [await decide(engine, m) for m in messages]
    snap = w.store.snapshot()
    return (decided, list(snap.signals), list(snap.decisions), list(snap.orders),
            snap.risk_state)


@settings(max_examples=150, deadline=None)
@given(st.lists(ENTRY, min_size=1, max_size=25), st.lists(st.integers(0, 30), max_size=5),
       st.sampled_from([Decimal("0.5"), Decimal("1")]), st.sampled_from([None, 3]),
       st.sampled_from([None, Decimal("20000000")]), st.integers(0, 40))
def test_a_batch_decides_as_one_entry_after_another(
    entries: list[dict[str, str]], repeat: list[int], max_position: Decimal, per_min: int | None,
    peak: Decimal | None, cut: int,
) -> None:
    limits = RiskLimits(max_position_size=max_position, base_equity=Decimal("10000000"),
                        max_orders_per_min=per_min)
    # Time stands still (a MockClock): both runs decide at the same instant.
    one_by_one = trio.run(outcomes, entries, repeat, False, limits, peak, cut, clock=MockClock())
    batched = trio.run(outcomes, entries, repeat, True, limits, peak, cut, clock=MockClock())
    assert batched == one_by_one
