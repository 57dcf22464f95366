"""The end-to-end benchmark's venue: the simulated GMO in a process of its own, with a stopwatch.

Run by ``bench_e2e.py`` (``python tests/bench/e2e_venue.py SYMBOL=PRICE ...``); it prints
``listening http://127.0.0.1:PORT`` once the socket listens and serves until SIGTERM/SIGINT.

A process of its own because a real venue is elsewhere: in the engine's process the simulator's
request handling would share the engine's one trio thread (and the GIL) and be counted as the
engine's. Rate limits start lifted and latency at 0; the benchmark changes them over the ``/sim``
control routes. Two routes are added for the benchmark:

- ``GET /bench/arrivals?since=K``: ``{"count": N, "times": [...], "refused": R}``: the
  ``time.monotonic()`` (CLOCK_MONOTONIC, one clock shared with the benchmark's process) at which
  each new order from the K-th on reached the venue (its order handler called the venue), and the
  number of requests the venue refused with ERR-5003 so far;
- ``GET /bench/cpu``: this process's CPU seconds (user + system).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from adapters.paper import PaperVenue, VenueSettings
from adapters.paper.http import SimGmo, SimSettings, serve_sim_gmo
from adapters.paper.http.wire import GmoError


class Stopwatch:
    """Arrival times of new orders and ERR-5003 refusals, recorded by wrapping the sim's
    ``place`` and its rate limiter's ``check`` (instance attributes: the sim's code is unchanged)."""

    def __init__(self, sim: SimGmo) -> None:
        self.arrivals: list[float] = []
        self.refused = 0
        place, check = sim.place, sim.limiter.check

        def timed_place(*args: Any, **kwargs: Any) -> str:
            self.arrivals.append(time.monotonic())
            return place(*args, **kwargs)

        def counted_check(key: str, method: str) -> None:
            try:
                check(key, method)
            except GmoError:
                self.refused += 1
                raise

        sim.place = timed_place  # type: ignore[method-assign]
        sim.limiter.check = counted_check  # type: ignore[method-assign]

    def reply(self, path: str, query: str) -> dict[str, Any]:
        if path == "/bench/cpu":
            t = os.times()
            return {"cpu_s": t.user + t.system}
        since = int(parse_qs(query).get("since", ["0"])[0])
        return {"count": len(self.arrivals), "times": self.arrivals[since:],
                "refused": self.refused}


def with_bench_routes(app: Any, watch: Stopwatch) -> Any:
    """The sim's ASGI app, with ``/bench/...`` answered here."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/bench/"):
            await app(scope, receive, send)
            return
        body = json.dumps(watch.reply(scope["path"], scope["query_string"].decode())).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return wrapped


def build(prices: dict[str, Decimal]) -> SimGmo:
    venue = PaperVenue.for_symbols(list(prices), settings=VenueSettings())
    sim = SimGmo(venue, SimSettings(get_per_s=None, post_per_s=None, hold_s=5.0))
    sim.set_prices(prices)
    return sim


async def serve(prices: dict[str, Decimal]) -> None:
    sim = build(prices)
    watch = Stopwatch(sim)
    sim.app = with_bench_routes(sim.app, watch)  # serve_sim_gmo serves ``sim.app``
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            url = await nursery.start(partial(serve_sim_gmo, sim))
            print(f"listening {url}", flush=True)
            async for _ in signals:
                nursery.cancel_scope.cancel()
                break


if __name__ == "__main__":
    given = dict(arg.split("=", 1) for arg in sys.argv[1:])
    trio.run(serve, {symbol: Decimal(price) for symbol, price in given.items()})
