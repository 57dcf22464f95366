"""The campaign's weather: random signals (some of them bad input), moving prices and the venue's
misbehaviour, all drawn from one seeded ``random.Random`` so that a seed names a run.
"""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

import redis

PRICES = {"BTC_JPY": Decimal("10000000"), "ETH_JPY": Decimal("500000"), "BTC": Decimal("10000000")}
SIZES = {"BTC_JPY": "0.01", "ETH_JPY": "0.1", "BTC": "0.001"}
STREAM, GROUP = "signal:gmo", "execution"

# Paths the worker calls: placing, closing and cancelling orders, and the queries it resolves
# and monitors with.
ORDER_PATHS = ("/v1/order", "/v1/closeBulkOrder", "/v1/cancelOrder")
MAX_DELAY_S = 1.0  # the longest a request is held before the venue acts on it
QUERY_PATHS = ("/v1/orders", "/v1/executions", "/v1/latestExecutions", "/v1/activeOrders")


def bad_signal(rng: random.Random) -> dict[str, str]:
    """Bad input of several kinds: each must be recorded INVALID and dead-lettered once."""
    good = {"exchange": "gmo", "symbol": "BTC_JPY", "action": "enter_long", "size": "0.01",
            "order_type": "MARKET"}
    kind = rng.randrange(6)
    if kind == 0:
        return {**good, "size": "-1"}
    if kind == 1:
        return {**good, "symbol": "DOGE_JPY"}
    if kind == 2:
        return {**good, "action": "buy"}
    if kind == 3:
        return {**good, "exchange": "binance"}
    if kind == 4:
        return {**good, "symbol": "BTC", "action": "enter_short"}  # no shorts on spot
    return {"data": "[not a json object"}


def random_signal(rng: random.Random, prices: dict[str, Decimal]) -> dict[str, str]:
    if rng.random() < 0.06:
        return bad_signal(rng)
    symbol = rng.choice(sorted(PRICES))
    actions = ["enter_long", "exit_long"] if symbol == "BTC" else [
        "enter_long", "exit_long", "enter_short", "exit_short"]
    # Entries a little more often than exits, so that positions build up and get closed.
    action = rng.choice(actions) if rng.random() < 0.4 else rng.choice(actions[::2])
    fields = {"exchange": "gmo", "symbol": symbol, "action": action}
    if action.startswith("enter") or rng.random() < 0.3:
        fields["size"] = SIZES[symbol]
    if rng.random() < 0.5:
        fields["order_type"] = "MARKET"
    else:
        offset = Decimal(rng.choice([-2, -1, 0, 1, 2])) / 1000
        fields["price_ref"] = str((prices[symbol] * (1 + offset)).quantize(1))
    if rng.random() < 0.3:
        return {"data": json.dumps(fields)}  # the other accepted shape
    return fields


def publish(client: redis.Redis, fields: dict[str, str]) -> str:
    return bytes(client.xadd(STREAM, dict(fields))).decode()


def moved(rng: random.Random, prices: dict[str, Decimal]) -> dict[str, Decimal]:
    """Every price moved by up to ±0.3%: resting LIMIT orders fill as the market crosses them."""
    return {s: (p * Decimal(1 + rng.uniform(-0.003, 0.003))).quantize(1) for s, p in prices.items()}


def random_fault(rng: random.Random) -> dict[str, Any]:
    """One ``/sim/fault`` body: latency, a 5xx page (before or after the venue acts), a request
    held unanswered, a reply dropped after the venue acted, or a maintenance error.

    Latency faults stack on one request, so keep one pending at a time: a request must land
    within the resolve window (DESIGN §3 step 4), or no worker could ever tell it from a lost one.
    """
    paths: tuple[str | None, ...] = (*ORDER_PATHS, *QUERY_PATHS, None)
    kind = rng.choice(["latency", "http_error", "timeout", "drop_reply", "drop_reply", "error"])
    if kind == "latency":
        return {"kind": kind, "delay_s": round(rng.uniform(0.2, MAX_DELAY_S), 2),
                "path": rng.choice(paths)}
    if kind == "http_error":
        return {"kind": kind, "http_status": rng.choice([500, 502, 503, 504]),
                "after": rng.random() < 0.5, "path": rng.choice(paths)}
    if kind == "timeout":
        return {"kind": kind, "path": rng.choice(paths)}
    if kind == "drop_reply":
        return {"kind": kind, "path": rng.choice(ORDER_PATHS), "mode": rng.choice(["hold", "close"])}
    return {"kind": "error", "code": "ERR-5201", "status": 5, "path": rng.choice(paths)}
