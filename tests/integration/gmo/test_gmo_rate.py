"""A burst of 200 orders across symbols against the simulator enforcing GMO's 20 POST/s (and
20 GET/s for queries sent alongside): the client's limiter must keep every one of them under the
limit (not one ERR-5003) and place them all. The rate reached is printed, not asserted.
"""

from __future__ import annotations

from decimal import Decimal

import trio

from adapters.gmo import GmoBroker
from hexexec.domain.orders import OrderIntent, SettleType, Side
from hexexec.domain.signal import OrderType
from tests.integration.gmo.sim import DEFAULT_PRICES, running_sim

ORDERS = 200
SIZES = {"BTC": "0.001", "ETH": "0.01", "BTC_JPY": "0.01", "ETH_JPY": "0.1"}


def resting(n: int) -> OrderIntent:
    symbol = sorted(SIZES)[n % len(SIZES)]
    price = DEFAULT_PRICES[symbol] * Decimal("0.99") - n  # below the market: rests unfilled
    return OrderIntent("gmo", symbol, Side.BUY, SettleType.OPEN, OrderType.LIMIT,
                       Decimal(SIZES[symbol]), price, None)


async def test_a_burst_of_orders_stays_under_the_venue_limit_and_all_are_placed() -> None:
    async with running_sim(get_per_s=20.0, post_per_s=20.0) as gmo:
        async with GmoBroker.open(gmo.base_url, gmo.key, gmo.secret) as broker:  # 20/s defaults
            placed_at: list[float] = []
            queried = 0

            async def place(n: int) -> None:
                await broker.place(resting(n))
                placed_at.append(trio.current_time())

            async def poll() -> None:
                nonlocal queried
                while len(placed_at) < ORDERS:
                    await broker.active_orders(sorted(SIZES)[queried % len(SIZES)])
                    queried += 1

            began = trio.current_time()
            async with trio.open_nursery() as nursery:
                for n in range(ORDERS):
                    nursery.start_soon(place, n)
                for _ in range(3):
                    nursery.start_soon(poll)
            elapsed = trio.current_time() - began
        venue_orders = gmo.sim.venue.all_orders()

    assert broker.client.rate_limited == 0
    assert len(venue_orders) == len(placed_at) == ORDERS
    assert sorted((o.symbol, o.price) for o in venue_orders) == sorted(
        (i.symbol, i.price) for i in map(resting, range(ORDERS)))
    placed_at.sort()
    # Sustained: 20 orders per the average time any 20 consecutive ones took (the first second's
    # burst, which the venue's full bucket allows, does not inflate it).
    spans = [placed_at[i + 20] - placed_at[i] for i in range(ORDERS - 20)]
    steady = 20 / (sum(spans) / len(spans))
    print(f"\n{ORDERS} orders in {elapsed:.2f}s: {ORDERS / elapsed:.2f} POST/s overall, "
          f"{steady:.2f} POST/s sustained ({steady / 20:.1%} of GMO's 20/s); "
          f"{queried} GETs alongside ({queried / elapsed:.2f}/s); ERR-5003: "
          f"{broker.client.rate_limited}")
