"""A burst of 200 signals across symbols through the whole engine, the GMO adapter and the
simulator enforcing GMO's 20 POST/s and 20 GET/s: every order placed and filled, not one ERR-5003
(the orders and the monitor's polling share the budgets). The rate is printed, not asserted."""

from __future__ import annotations

import trio

from hexexec.domain.order_status import OrderStatus
from tests.integration.gmo.test_gmo_engine import until, world

SIZES = {"BTC_JPY": "0.001", "BTC": "0.0001", "ETH_JPY": "0.01"}
SIGNALS = 200


async def test_a_burst_of_200_signals_is_placed_without_a_single_rate_limit_error() -> None:
    async with world(get_per_s=20.0, post_per_s=20.0) as w, w.running() as engine:
        began = trio.current_time()
        for n in range(SIGNALS):
            symbol = sorted(SIZES)[n % len(SIZES)]
            w.signal("enter_long", symbol, size=SIZES[symbol])
        await until(lambda: len(w.gmo.sim.venue.all_orders()) == SIGNALS, within=60)
        sent = trio.current_time() - began
        await until(w.settled, within=60)
        rate_limited = engine.broker.client.rate_limited  # type: ignore[attr-defined]
    assert rate_limited == 0
    assert [o.status for o in w.orders()] == [OrderStatus.FILLED] * SIGNALS
    assert len(w.gmo.sim.venue.all_orders()) == SIGNALS
    print(f"\n{SIGNALS} signals placed in {sent:.1f}s = {SIGNALS / sent:.1f} orders/s "
          f"({SIGNALS / sent / 20:.0%} of GMO's 20 POST/s); ERR-5003: {rate_limited}")
