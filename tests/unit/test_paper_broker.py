"""PaperBroker: the Broker port over the venue with latency and faults; PaperMarketData."""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.paper import (
    FaultRates,
    ManualClock,
    PaperBroker,
    PaperFaults,
    PaperMarketData,
    PaperVenue,
    VenueSettings,
)
from hexexec.domain.errors import (
    AmbiguousOutcome,
    BrokerError,
    BrokerRejected,
    BrokerUnavailable,
    OrderNotFound,
)
from hexexec.domain.order_status import VenueStatus
from hexexec.domain.orders import OrderIntent, SettleType, Side
from hexexec.domain.signal import OrderType

PRICE = Decimal("10000000")
RESTING = OrderIntent(
    "gmo", "BTC_JPY", Side.BUY, SettleType.OPEN, OrderType.LIMIT, Decimal("0.01"), PRICE - 1000, None
)


def setup(latency_s: float = 0.0, faults: PaperFaults | None = None) -> tuple[PaperVenue, PaperBroker]:
    venue = PaperVenue.for_symbols(["BTC_JPY"], settings=VenueSettings(), now=ManualClock().now)
    venue.set_price("BTC_JPY", PRICE)
    return venue, PaperBroker(venue, latency_s=latency_s, faults=faults)


async def test_calls_reach_the_venue_and_come_back_in_domain_types() -> None:
    venue, broker = setup()
    async with broker:
        order_id = await broker.place(RESTING)
        assert [o.order_id for o in await broker.orders([order_id])] == [order_id]
        assert [o.order_id for o in await broker.active_orders("BTC_JPY")] == [order_id]
        assert set(await broker.symbol_rules()) == {"BTC_JPY"}
        venue.set_price("BTC_JPY", PRICE - 2000)
        fills = await broker.fills(order_id)
        assert fills == await broker.latest_fills("BTC_JPY") and len(fills) == 1
        assert [p.quantity for p in await broker.positions()] == [RESTING.size]


async def test_venue_errors_pass_through_unchanged() -> None:
    venue, broker = setup()
    with pytest.raises(OrderNotFound):
        await broker.cancel("31337")
    venue.set_maintenance(True)
    with pytest.raises(BrokerUnavailable) as info:
        await broker.place(RESTING)
    assert info.value.code == "ERR-5201"


async def test_a_call_takes_the_latency_and_acts_half_way(autojump_clock: trio.abc.Clock) -> None:
    venue, broker = setup(latency_s=0.2)
    seen: list[int] = []

    async def watch() -> None:
        await trio.sleep(0.05)
        seen.append(len(venue.all_orders()))
        await trio.sleep(0.1)
        seen.append(len(venue.all_orders()))

    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(watch)
        await broker.place(RESTING)
        took = trio.current_time() - start
    assert seen == [0, 1]
    assert took == pytest.approx(0.2)


async def test_scripted_rejection_and_timeout_never_reach_the_venue() -> None:
    faults = PaperFaults()
    venue, broker = setup(faults=faults)
    faults.reject_next_place("ERR-201", "no money")
    faults.timeout_next_place()
    with pytest.raises(BrokerRejected) as info:
        await broker.place(RESTING)
    assert info.value.code == "ERR-201"
    with pytest.raises(AmbiguousOutcome):
        await broker.place(RESTING)
    assert venue.all_orders() == [] and faults.pending == 0
    assert await broker.place(RESTING) == venue.all_orders()[0].order_id


async def test_a_lost_reply_leaves_the_order_on_the_venue_to_be_found() -> None:
    faults = PaperFaults()
    venue, broker = setup(faults=faults)
    faults.lose_next_reply()
    with pytest.raises(AmbiguousOutcome):
        await broker.place(RESTING)
    [order] = venue.all_orders()
    assert (order.symbol, order.side, order.price, order.size) == (
        RESTING.symbol, RESTING.side, RESTING.price, RESTING.size
    )
    assert await broker.active_orders("BTC_JPY") == [order]


async def test_a_lost_cancel_reply_still_cancels() -> None:
    faults = PaperFaults()
    venue, broker = setup(faults=faults)
    order_id = await broker.place(RESTING)
    faults.lose_next_reply("cancel")
    with pytest.raises(AmbiguousOutcome):
        await broker.cancel(order_id)
    assert venue.all_orders()[0].status is VenueStatus.CANCELED


async def test_transient_unavailability_and_query_errors_have_no_effect() -> None:
    faults = PaperFaults()
    venue, broker = setup(faults=faults)
    faults.unavailable_next()
    with pytest.raises(BrokerUnavailable) as info:
        await broker.place(RESTING)
    assert info.value.code == "ERR-5003" and venue.all_orders() == []
    order_id = await broker.place(RESTING)
    faults.fail_next("orders")
    with pytest.raises(AmbiguousOutcome):
        await broker.orders([order_id])
    assert [o.order_id for o in await broker.orders([order_id])] == [order_id]
    assert [o.order_id for o in venue.all_orders()] == [order_id]


async def test_scripted_faults_wait_for_their_own_call() -> None:
    faults = PaperFaults()
    _, broker = setup(faults=faults)
    faults.unavailable_next("fills", code="ERR-5201")
    await broker.orders(["1"])  # not the call the fault waits for
    assert faults.pending == 1
    with pytest.raises(BrokerUnavailable):
        await broker.fills("1")
    assert faults.pending == 0
    with pytest.raises(ValueError):
        faults.fail_next("plaec")
    with pytest.raises(ValueError):
        faults.lose_next_reply("orders")


def run_random_session(seed: int, rates: FaultRates, calls: int) -> tuple[list[str], PaperVenue]:
    """Place ``calls`` orders through random faults; the outcome of each call, and the venue."""
    venue, broker = setup(faults=PaperFaults(seed=seed, rates=rates))
    outcomes: list[str] = []

    async def session() -> None:
        for _ in range(calls):
            try:
                outcomes.append(await broker.place(RESTING))
            except BrokerError as exc:
                outcomes.append(type(exc).__name__ + (":lost" if "lost" in str(exc) else ""))

    trio.run(session)
    return outcomes, venue


rate = st.sampled_from([0.0, 0.1, 0.3])


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    rates=st.builds(
        FaultRates, reject=rate, timeout=rate, lost_reply=rate, unavailable=rate, query_error=rate
    ),
)
def test_random_faults_are_replayable_and_only_lost_replies_place_unseen_orders(
    seed: int, rates: FaultRates
) -> None:
    outcomes, venue = run_random_session(seed, rates, 40)
    replay, _ = run_random_session(seed, rates, 40)
    assert outcomes == replay
    placed = [o.order_id for o in venue.all_orders()]
    answered = [o for o in outcomes if o.isdigit()]
    lost = outcomes.count("AmbiguousOutcome:lost")
    assert set(answered) <= set(placed)
    assert len(placed) == len(answered) + lost


async def test_market_data_reads_the_venue_price() -> None:
    venue, _ = setup()
    data = PaperMarketData(venue)
    assert await data.last_price("BTC_JPY") == PRICE
    venue.set_price("BTC_JPY", PRICE + 7)
    assert await data.last_price("BTC_JPY") == PRICE + 7
    assert await data.last_price("ETH_JPY") is None
