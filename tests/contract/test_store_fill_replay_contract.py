"""FillRepository.replay_from and record_positions on every backend: where booking a late fill
starts (the position recorded after the last earlier fill in the venue's order) and what it
replays (the fills dated from the late one on)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from hexexec.domain.accounting import Position
from hexexec.domain.fills import Fill
from hexexec.domain.order_status import OrderStatus
from ports.store import Store
from tests.contract.harnesses import builders as b


def _marked(fill: Fill, n: int) -> tuple[str, Position]:
    """A recognisable position after ``fill``: its quantity is ``n``."""
    return fill.execution_id, replace(b.position(fill.symbol, Decimal(n)),
                                      updated_at=fill.timestamp)


def _ids(fills: object) -> set[str]:
    return {f.execution_id for f in fills}  # type: ignore[attr-defined]


async def _store(store: Store, *fills: Fill, symbol: str = b.SYMBOL) -> None:
    async with store.transaction() as uow:
        order = await b.stored_order(uow, status=OrderStatus.NEW, symbol=symbol)
        cid = order.client_order_id
        for f in fills:
            assert await uow.fills.add(f, cid)


async def test_replay_starts_after_the_last_earlier_fill_in_the_venues_order(store: Store) -> None:
    # Ties on time are broken by the execution id: shorter first (numeric ids compare as
    # numbers), then character by character ("B" before "a", as Python compares them; a
    # database collation that sorts "a" first would pick the wrong start).
    early = [b.fill("10", seconds=10), b.fill("9", seconds=10)]
    middle = [b.fill("a7", seconds=20), b.fill("B7", seconds=20)]
    late = b.fill("c1", seconds=30)
    await _store(store, *early, *middle, late)
    await _store(store, b.fill("other", seconds=15, symbol="ETH_JPY"), symbol="ETH_JPY")
    async with store.transaction() as uow:
        await uow.fills.record_positions([_marked(f, n) for n, f in enumerate(
            [*early, *middle, late], start=1)])

    async with store.transaction() as uow:
        start, replay = await uow.fills.replay_from(b.fill("probe", seconds=30))
        assert start == _marked(middle[0], 3)[1]  # "a7": after "B7" in the venue's order
        assert _ids(replay) == {"c1"}
        start, replay = await uow.fills.replay_from(b.fill("probe", seconds=20))
        assert start == _marked(early[0], 1)[1]  # "10": after "9"
        assert _ids(replay) == {"a7", "B7", "c1"}
        start, replay = await uow.fills.replay_from(b.fill("probe", seconds=25))
        assert start.quantity == 3 and _ids(replay) == {"c1"}


async def test_replay_with_no_earlier_fill_starts_flat(store: Store) -> None:
    fills = [b.fill("1", seconds=10), b.fill("2", seconds=12)]
    await _store(store, *fills)
    async with store.transaction() as uow:
        await uow.fills.record_positions([_marked(f, 5) for f in fills])
        start, replay = await uow.fills.replay_from(b.fill("0", seconds=10))
    assert start == Position(b.EXCHANGE, b.SYMBOL)
    assert _ids(replay) == {"1", "2"}
    assert {f.execution_id: f for f in replay}["2"] == fills[1]  # the fill itself, exactly


async def test_replay_reaches_back_to_the_start_where_no_position_was_recorded(
        store: Store) -> None:
    """Fills stored before positions were recorded per fill: replay all of them, from flat."""
    fills = [b.fill("1", seconds=10), b.fill("2", seconds=20), b.fill("3", seconds=30)]
    await _store(store, *fills)
    async with store.transaction() as uow:
        await uow.fills.record_positions([_marked(fills[0], 1)])  # "2" has none
        start, replay = await uow.fills.replay_from(b.fill("probe", seconds=30))
        assert start == Position(b.EXCHANGE, b.SYMBOL) and _ids(replay) == {"1", "2", "3"}
        start, replay = await uow.fills.replay_from(b.fill("probe", seconds=20))
        assert start.quantity == 1 and _ids(replay) == {"2", "3"}


async def test_a_recorded_position_is_replaced_and_kept_exactly(store: Store) -> None:
    fills = [b.fill("1", seconds=10), b.fill("2", seconds=20)]
    await _store(store, *fills)
    async with store.transaction() as uow:
        await uow.fills.record_positions([_marked(fills[0], 1)])
    exact = replace(b.position(quantity=Decimal("-0.123456789012345678901234567")),
                    updated_at=fills[0].timestamp)
    async with store.transaction() as uow:
        await uow.fills.record_positions([("1", exact)])
        start, _ = await uow.fills.replay_from(fills[1])
    assert start == exact  # the later write won; a short and its digits come back as written


async def test_a_rolled_back_record_leaves_the_recorded_positions(store: Store) -> None:
    fills = [b.fill("1", seconds=10), b.fill("2", seconds=20)]
    await _store(store, *fills)
    async with store.transaction() as uow:
        await uow.fills.record_positions([_marked(fills[0], 1)])
    with pytest.raises(ZeroDivisionError):
        async with store.transaction() as uow:
            await uow.fills.record_positions([_marked(fills[0], 9)])
            1 / 0  # noqa: B018 - fail inside the unit of work
    async with store.transaction() as uow:
        start, _ = await uow.fills.replay_from(fills[1])
    assert start.quantity == 1


async def test_a_position_after_an_unknown_fill_is_refused(store: Store) -> None:
    with pytest.raises(Exception):  # noqa: B017 - each backend raises its own integrity error
        async with store.transaction() as uow:
            await uow.fills.record_positions([_marked(b.fill("nowhere"), 1)])
