"""What GmoBroker makes of every kind of failure, over real HTTP to the simulated GMO.

The line that matters (DESIGN §3): a *definitive* failure of a place means the venue has no
order; an *ambiguous* one is raised whenever it may have one. Each test checks the venue itself.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import trio

from adapters.gmo import GmoBroker, HttpTimeouts, RateLimits
from adapters.gmo.outcomes import REJECTIONS, RETRY_AFTER
from hexexec.domain.errors import (
    AmbiguousOutcome,
    BrokerError,
    BrokerRejected,
    BrokerUnavailable,
    OrderNotCancellable,
    OrderNotFound,
)
from hexexec.domain.orders import OrderIntent, SettleType, Side
from hexexec.domain.signal import OrderType
from tests.integration.gmo.sim import SimHandle, running_sim

FAST = HttpTimeouts(connect_s=1.0, read_s=0.5, write_s=1.0, pool_s=1.0, total_s=2.0)
UNLIMITED = RateLimits(get_per_s=None, post_per_s=None, public_per_s=None)
RESTING = OrderIntent("gmo", "BTC_JPY", Side.BUY, SettleType.OPEN, OrderType.LIMIT,
                      Decimal("0.01"), Decimal("9900000"), None)


@asynccontextmanager
async def opened(secret: str | None = None, timeouts: HttpTimeouts = FAST,
                 rates: RateLimits = UNLIMITED, **sim: Any) -> AsyncIterator[tuple[SimHandle,
                                                                                     GmoBroker]]:
    sim = {"get_per_s": None, "post_per_s": None, "hold_s": 5.0, **sim}
    async with running_sim(**sim) as gmo:
        async with GmoBroker.open(gmo.base_url, gmo.key, secret or gmo.secret,
                                  timeouts=timeouts, rates=rates) as broker:
            yield gmo, broker


def expected_class(code: str) -> type[BrokerError]:
    if code in RETRY_AFTER:
        return BrokerUnavailable
    return {"ERR-5122": OrderNotCancellable, "ERR-5123": OrderNotFound}.get(code, BrokerRejected)


async def test_every_error_code_of_the_reference_is_its_class_and_places_nothing() -> None:
    codes = sorted(REJECTIONS | set(RETRY_AFTER) | {"ERR-5122", "ERR-5123"},
                   key=lambda c: c == "ERR-5003")  # the rate limit pauses the client: last
    async with opened() as (gmo, broker):
        for code in codes:
            # A skewed clock is signed again once: the venue must refuse twice to be believed.
            gmo.sim.error_next(code, "/v1/order", count=2 if code in ("ERR-5008", "ERR-5009") else 1)
            with pytest.raises(expected_class(code)) as caught:
                await broker.place(RESTING)
            assert code in str(caught.value)
            if isinstance(caught.value, BrokerRejected | BrokerUnavailable):
                assert caught.value.code == code
            assert gmo.sim.venue.all_orders() == [], code
        assert broker.client.rate_limited == 1


async def test_maintenance_status_5_turns_every_call_away_with_a_wait_hint() -> None:
    async with opened() as (gmo, broker):
        gmo.sim.set_maintenance(True)
        for call in (broker.place(RESTING), broker.active_orders("BTC_JPY"), broker.positions(),
                     broker.cancel("1"), broker.symbol_rules()):
            with pytest.raises(BrokerUnavailable) as caught:
                await call
            assert caught.value.code == "ERR-5201" and caught.value.retry_after >= 1
        gmo.sim.set_maintenance(False)
        assert gmo.sim.venue.all_orders() == []
        assert await broker.place(RESTING)


async def test_pre_open_refuses_orders_for_later_and_still_answers_queries() -> None:
    async with opened() as (gmo, broker):
        gmo.sim.set_status("PREOPEN")
        with pytest.raises(BrokerUnavailable, match="ERR-5203"):
            await broker.place(RESTING)
        assert await broker.active_orders("BTC_JPY") == []
        assert gmo.sim.venue.all_orders() == []


async def test_a_wrong_secret_is_a_clear_refusal() -> None:
    async with opened(secret="not-the-secret") as (gmo, broker):
        with pytest.raises(BrokerRejected, match="ERR-5010"):
            await broker.place(RESTING)
        assert gmo.sim.venue.all_orders() == []


async def test_a_clock_off_by_seconds_is_followed_and_the_order_signed_again_once() -> None:
    async with opened(now=lambda: datetime.now(UTC) + timedelta(seconds=20)) as (gmo, broker):
        order_id = await broker.place(RESTING)  # ERR-5008, venue clock adopted, accepted
        assert [o.order_id for o in gmo.sim.venue.all_orders()] == [order_id]
        assert 15_000 < broker.client.clock_offset_ms < 25_000
        assert [o.order_id for o in await broker.active_orders("BTC_JPY")] == [order_id]


@pytest.mark.parametrize(("fault", "acted"), [
    ({"kind": "timeout"}, False),
    ({"kind": "drop_reply", "mode": "hold"}, True),
    ({"kind": "drop_reply", "mode": "close"}, True),
    ({"kind": "http_error", "status": 502}, False),
    ({"kind": "http_error", "status": 500, "after": True}, True),
    ({"kind": "http_error", "status": 504, "after": True}, True),
    ({"kind": "latency", "seconds": 1.0}, True),  # longer than the read timeout
])
async def test_no_clear_answer_to_a_place_is_ambiguous_whatever_the_venue_did(
    fault: dict[str, Any], acted: bool,
) -> None:
    async with opened() as (gmo, broker):
        kind = fault["kind"]
        if kind == "timeout":
            gmo.sim.timeout_next("/v1/order")
        elif kind == "drop_reply":
            gmo.sim.drop_next_reply("/v1/order", mode=fault["mode"])
        elif kind == "http_error":
            gmo.sim.http_error_next(fault["status"], "/v1/order", after=fault.get("after", False))
        else:
            gmo.sim.delay_next(fault["seconds"], "/v1/order")
        with pytest.raises(AmbiguousOutcome):
            await broker.place(RESTING)
        await trio.sleep(1.2 if kind == "latency" else 0)  # let a slow request land
        assert len(gmo.sim.venue.all_orders()) == (1 if acted else 0)


async def test_a_failed_query_is_ambiguous_and_a_bad_path_is_refused() -> None:
    async with opened() as (gmo, broker):
        gmo.sim.http_error_next(503, "/v1/activeOrders")
        with pytest.raises(AmbiguousOutcome, match="HTTP 503"):
            await broker.active_orders("BTC_JPY")
        gmo.sim.timeout_next("/v1/orders")
        with pytest.raises(AmbiguousOutcome):
            await broker.orders(["1"])
        with pytest.raises(BrokerRejected, match="ERR-5204"):
            await broker.client.get("/v1/noSuchThing")


async def test_no_connection_means_nothing_was_sent_come_back_later() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with GmoBroker.open(f"http://127.0.0.1:{port}", "k", "s", timeouts=FAST) as broker:
        with pytest.raises(BrokerUnavailable, match="CONNECT"):
            await broker.place(RESTING)


async def test_the_venue_rate_limit_is_a_wait_and_pauses_the_client() -> None:
    async with opened(post_per_s=5.0) as (gmo, broker):
        outcomes: list[str | BaseException] = []

        async def one() -> None:
            try:
                outcomes.append(await broker.place(RESTING))
            except BrokerUnavailable as exc:
                outcomes.append(exc)

        async with trio.open_nursery() as nursery:
            for _ in range(12):
                nursery.start_soon(one)
        refused = [o for o in outcomes if isinstance(o, BrokerUnavailable)]
        assert refused and all(o.code == "ERR-5003" and o.retry_after >= 1 for o in refused)
        assert len(gmo.sim.venue.all_orders()) == len(outcomes) - len(refused)
        assert broker.client.rate_limited == len(refused)
        waits = broker.client.post_limiter.waits
        await broker.place(RESTING)  # held back by the pause, then let through
        assert broker.client.post_limiter.waits == waits + 1


async def test_the_total_deadline_bounds_a_call_that_httpx_would_still_wait_for() -> None:
    patient = HttpTimeouts(connect_s=5.0, read_s=5.0, write_s=5.0, pool_s=5.0, total_s=0.3)
    async with opened(timeouts=patient) as (gmo, broker):
        gmo.sim.delay_next(1.0, "/v1/positionSummary")
        with pytest.raises(AmbiguousOutcome, match=r"no reply within 0\.3s"):
            await broker.positions()
