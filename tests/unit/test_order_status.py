"""The order state machine (DESIGN §3): one table, illegal moves refused, no way back.

The properties are stated from the protocol, not read back from the table: a final order never
becomes live again, an order the venue may have seen is never sent again, and every status the
venue can report maps to a move the table allows.
"""

from __future__ import annotations

from collections import deque
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hexexec.domain.order_status import (
    FINAL,
    TRANSITIONS,
    IllegalTransition,
    OrderStatus,
    VenueStatus,
    can_transition,
    check_transition,
    status_from_venue,
)
from hexexec.domain.orders import Order, OrderIntent, SettleType, Side
from hexexec.domain.signal import MessageRef, OrderType
from hexexec.domain.venue import VenueOrder
from tests.unit.strategies import T0, loose_decimals

S = OrderStatus
STATUSES = st.sampled_from(list(OrderStatus))
LIVE = {S.NEW, S.PARTIALLY_FILLED}
BEFORE_SEND = {S.PENDING, S.SUBMITTING}  # states from which a send may (still) happen
# Once the venue may have seen the order (UNKNOWN) or has answered, it is never sent again.
SEEN_BY_VENUE = {S.UNKNOWN, S.NEW, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED}


def reachable(start: OrderStatus) -> set[OrderStatus]:
    """Every status reachable from ``start`` by following the table (breadth first)."""
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in TRANSITIONS[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def make_order(status: OrderStatus = S.PENDING) -> Order:
    intent = OrderIntent(
        "gmo", "BTC_JPY", Side.BUY, SettleType.OPEN, OrderType.LIMIT,
        Decimal("0.01"), Decimal("5000000"), None,
    )
    return Order("c1", MessageRef("signal:gmo", "1-0"), intent, status, T0, T0, T0)


def test_table_covers_every_status() -> None:
    assert set(TRANSITIONS) == set(OrderStatus)
    for targets in TRANSITIONS.values():
        assert targets <= set(OrderStatus)


@pytest.mark.parametrize("final", sorted(FINAL))
def test_final_statuses_have_no_way_back(final: OrderStatus) -> None:
    assert final.is_final
    assert reachable(final) == {final}
    assert not any(s.is_live or s.is_unresolved for s in reachable(final))


@pytest.mark.parametrize("seen", sorted(SEEN_BY_VENUE))
def test_an_order_the_venue_may_have_seen_is_never_sent_again(seen: OrderStatus) -> None:
    assert not reachable(seen) & BEFORE_SEND


def test_the_protocol_moves_are_in_the_table() -> None:
    # DESIGN §3: send, clear answer, unclear answer, resolution, monitoring, expiry.
    for current, new in [
        (S.PENDING, S.SUBMITTING),
        (S.PENDING, S.EXPIRED),
        (S.SUBMITTING, S.NEW),
        (S.SUBMITTING, S.REJECTED),
        (S.SUBMITTING, S.UNKNOWN),
        (S.UNKNOWN, S.NEW),
        (S.UNKNOWN, S.FILLED),
        (S.UNKNOWN, S.REJECTED),
        (S.NEW, S.PARTIALLY_FILLED),
        (S.PARTIALLY_FILLED, S.FILLED),
        (S.PARTIALLY_FILLED, S.CANCELED),
        (S.NEW, S.CANCELED),
    ]:
        assert can_transition(current, new), (current, new)
    assert reachable(S.PENDING) == set(OrderStatus)


@given(STATUSES, STATUSES)
def test_check_transition_raises_exactly_when_not_allowed(current: OrderStatus, new: OrderStatus) -> None:
    if can_transition(current, new):
        check_transition(current, new)
    else:
        with pytest.raises(IllegalTransition) as caught:
            check_transition(current, new)
        assert (caught.value.current, caught.value.new) == (current, new)
        assert current.value in str(caught.value) and new.value in str(caught.value)


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 100)), max_size=30))
def test_any_requested_sequence_only_follows_the_table(requests: list[tuple[bool, int]]) -> None:
    # Each request is any status, or (half the time) one the table allows, so that sequences
    # get past PENDING and reach every part of the machine.
    order = make_order()
    history = [order.status]
    everything = sorted(OrderStatus)
    for i, (pick_legal, index) in enumerate(requests):
        choices = sorted(TRANSITIONS[order.status]) if pick_legal else everything
        wanted = choices[index % len(choices)]
        at = T0 + timedelta(seconds=i + 1)
        before = order
        try:
            order = order.moved_to(wanted, at, reason=f"step {i}")
        except IllegalTransition as refused:
            assert not can_transition(before.status, wanted)
            assert (refused.current, refused.new) == (before.status, wanted)
            assert order is before  # not applied
            continue
        assert can_transition(before.status, wanted)
        assert order.status is wanted and order.updated_at == at and order.reason == f"step {i}"
        assert (order.client_order_id, order.intent, order.created_at) == (
            before.client_order_id, before.intent, before.created_at
        )
        history.append(order.status)
    assert set(history) <= reachable(S.PENDING)
    for i, status in enumerate(history):
        later = set(history[i + 1:])
        if status.is_final:
            assert later <= {status}
        if status in SEEN_BY_VENUE:
            assert not later & BEFORE_SEND


# ---------------------------------------------------------------- GMO statuses


EXECUTED = st.one_of(st.just(Decimal(0)), loose_decimals(Decimal("10"), places=4))
SIZES = loose_decimals(Decimal("10"), places=4)
WORKING = [VenueStatus.WAITING, VenueStatus.ORDERED, VenueStatus.MODIFYING, VenueStatus.CANCELLING]


@given(st.sampled_from(list(VenueStatus)), EXECUTED, SIZES)
def test_status_from_venue(venue: VenueStatus, executed: Decimal, size: Decimal) -> None:
    ours = status_from_venue(venue, executed, size)
    if venue is VenueStatus.EXECUTED:
        assert ours is S.FILLED
    elif venue is VenueStatus.CANCELED:
        assert ours is S.CANCELED
    elif venue is VenueStatus.EXPIRED:
        assert ours is S.EXPIRED
    else:
        assert venue in WORKING and not venue.is_final
        # Still working at the venue: NEW or PARTIALLY_FILLED by executed size (FILLED once all
        # of it has executed, even if GMO has not said EXECUTED yet).
        if executed == 0:
            assert ours is S.NEW
        elif executed < size:
            assert ours is S.PARTIALLY_FILLED
        else:
            assert ours is S.FILLED
    assert ours.is_final == (venue.is_final or executed >= size)


@given(st.sampled_from(list(VenueStatus)), EXECUTED, SIZES)
def test_every_venue_report_is_a_legal_move(venue: VenueStatus, executed: Decimal, size: Decimal) -> None:
    ours = status_from_venue(venue, executed, size)
    # Whatever the venue says, the monitor and the resolver can apply it...
    for current in (S.SUBMITTING, S.UNKNOWN, S.NEW):
        assert can_transition(current, ours), (current, ours)
    # ...and once something executed, a partially filled order can take it too.
    if executed > 0:
        assert can_transition(S.PARTIALLY_FILLED, ours)


@given(st.sampled_from(list(VenueStatus)), EXECUTED, SIZES)
def test_venue_order_reports_the_mapped_status(venue: VenueStatus, executed: Decimal, size: Decimal) -> None:
    order = VenueOrder(
        "123", "BTC_JPY", Side.SELL, SettleType.CLOSE, OrderType.LIMIT, Decimal("1"), size,
        executed, venue, T0,
    )
    assert order.our_status is status_from_venue(venue, executed, size)
