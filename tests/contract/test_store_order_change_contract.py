"""OrderRepository.change_at_commit on every backend: the order read and changed with the
commit, as ``get`` then ``update`` would — under the transaction's lock, rolled back with it,
refused as ``update`` refuses — and what it did known once the block has committed."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from hexexec.domain.errors import VenueOrderOwned
from hexexec.domain.order_status import OrderStatus
from hexexec.domain.orders import Order
from ports.store import Store
from tests.contract.harnesses import builders as b

S = OrderStatus


async def _order(store: Store, **kwargs: Any) -> Order:
    async with store.transaction() as uow:
        return await b.stored_order(uow, **kwargs)


def _claim(order: Order) -> Order:
    return order.moved_to(S.SUBMITTING, b.at(5), submitted_at=b.at(5)) \
        if order.status is S.PENDING else order


async def test_a_change_is_stored_and_reported_after_the_commit(store: Store) -> None:
    order = await _order(store)
    async with store.transaction(lock="gmo:BTC_JPY") as uow:
        change = await uow.orders.change_at_commit(order.client_order_id, _claim)
    before, after = change.value or (None, None)
    assert before == order
    assert after == order.moved_to(S.SUBMITTING, b.at(5), submitted_at=b.at(5))
    async with store.transaction() as uow:
        assert await uow.orders.get(order.client_order_id) == after


async def test_an_order_left_as_it_is_is_not_written(store: Store) -> None:
    order = await _order(store, status=S.NEW, order_id="v-left")
    async with store.transaction() as uow:
        change = await uow.orders.change_at_commit(order.client_order_id, _claim)
    assert change.value is not None
    before, after = change.value
    assert before == order and after is before
    async with store.transaction() as uow:
        assert await uow.orders.get(order.client_order_id) == order


async def test_no_such_order(store: Store) -> None:
    async with store.transaction() as uow:
        change = await uow.orders.change_at_commit("hx-nowhere", _claim)
    assert change.value is None


async def test_a_change_rolls_back_with_its_transaction(store: Store) -> None:
    order = await _order(store)
    with pytest.raises(ZeroDivisionError):
        async with store.transaction() as uow:
            await uow.orders.change_at_commit(order.client_order_id, _claim)
            1 / 0  # noqa: B018 - fail inside the unit of work
    async with store.transaction() as uow:
        assert await uow.orders.get(order.client_order_id) == order


async def test_a_change_to_a_venue_id_owned_elsewhere_is_refused(store: Store) -> None:
    owner = await _order(store, status=S.NEW, order_id="v-owned")
    order = await _order(store, status=S.SUBMITTING)
    with pytest.raises(VenueOrderOwned) as raised:
        async with store.transaction() as uow:
            await uow.orders.change_at_commit(order.client_order_id, lambda o: o.moved_to(
                S.NEW, b.at(6), order_id="v-owned"))
    assert raised.value.owner == owner.client_order_id
    async with store.transaction() as uow:
        assert await uow.orders.get(order.client_order_id) == order


async def test_of_racing_claims_under_one_lock_one_changes_the_order(store: Store) -> None:
    """Several tasks claim the same order at once, each in its own transaction under the
    symbol's lock: one changes it, the others read it changed and leave it."""
    order = await _order(store)
    changed: list[bool] = []

    async def claim() -> None:
        async with store.transaction(lock="gmo:BTC_JPY") as uow:
            change = await uow.orders.change_at_commit(order.client_order_id, _claim)
        assert change.value is not None
        before, after = change.value
        changed.append(after is not before)

    async with trio.open_nursery() as nursery:
        for _ in range(5):
            nursery.start_soon(claim)
    assert sorted(changed) == [False, False, False, False, True]
