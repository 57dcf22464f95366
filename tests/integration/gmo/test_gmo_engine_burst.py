"""A burst of 200 signals across symbols through the whole engine, the GMO adapter and the
simulator enforcing GMO's 20 POST/s and 20 GET/s: every order placed and filled, not one ERR-5003
(the orders and the monitor's polling share the budgets). The rate is printed, not asserted."""

from __future__ import annotations

from dataclasses import replace

import trio

from hexexec.domain.order_status import OrderStatus
from tests.integration.gmo.test_gmo_engine import OPTIONS, until, world

SIZES = {"BTC_JPY": "0.001", "BTC": "0.0001", "ETH_JPY": "0.01"}
SIGNALS = 200


async def test_a_burst_of_200_signals_is_placed_without_a_single_rate_limit_error() -> None:
    # Polling twice a second, as a production worker would (POLL_INTERVAL_S defaults to 1 s).
    options = replace(OPTIONS, poll_interval_s=0.5)
    async with world(get_per_s=20.0, post_per_s=20.0) as w, w.running(options) as engine:
        began = trio.current_time()
        for n in range(SIGNALS):
            symbol = sorted(SIZES)[n % len(SIZES)]
            w.signal("enter_long", symbol, size=SIZES[symbol])
        await until(lambda: len(w.gmo.sim.venue.all_orders()) == SIGNALS, within=60)
        sent = trio.current_time() - began
        await until(w.settled, within=60)
        rate_limited = engine.broker.client.rate_limited  # type: ignore[attr-defined]
        requests = w.gmo.sim.requests
    assert rate_limited == 0
    # Fills are fetched per symbol when several orders of it filled: fewer fill GETs than orders
    # (one per order would spend GMO's 20 GET/s as fast as the orders arrive at 20 POST/s). At
    # most one per symbol and poll: 3 symbols, about 2 polls a second over the ~10 s burst.
    fill_gets = requests["GET /v1/executions"] + requests["GET /v1/latestExecutions"]
    assert fill_gets < SIGNALS / 2, str(dict(requests))[-200:]
    assert [o.status for o in w.orders()] == [OrderStatus.FILLED] * SIGNALS
    assert len(w.gmo.sim.venue.all_orders()) == SIGNALS
    print(f"\n{SIGNALS} signals placed in {sent:.1f}s = {SIGNALS / sent:.1f} orders/s "
          f"({SIGNALS / sent / 20:.0%} of GMO's 20 POST/s); ERR-5003: {rate_limited}; "
          f"GETs: {requests['GET /v1/orders']} orders, {fill_gets} fills")
