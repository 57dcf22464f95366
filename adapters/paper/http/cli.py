"""``hexexec sim-gmo``: run the simulated GMO Coin as a server (``main_sim_gmo(argv)``).

It prints one line, ``simulated GMO listening on http://HOST:PORT``, once the socket listens
(``--port 0`` picks a free port), then serves until interrupted. The secret comes from
``--secret`` or the ``SIM_GMO_SECRET`` environment variable and is never printed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from functools import partial

import trio

from adapters.paper.http.feed import random_walk
from adapters.paper.http.server import serve_sim_gmo
from adapters.paper.http.settings import DEFAULT_KEY, DEFAULT_SECRET, SimSettings
from adapters.paper.http.sim import SimGmo
from adapters.paper.settings import VenueSettings
from adapters.paper.venue import PaperVenue


def _price(text: str) -> tuple[str, Decimal]:
    symbol, _, value = text.partition("=")
    try:
        price = Decimal(value)
    except InvalidOperation as error:
        raise argparse.ArgumentTypeError(f"expected SYMBOL=PRICE, got {text!r}") from error
    if not symbol or not price.is_finite() or price <= 0:
        raise argparse.ArgumentTypeError(f"expected SYMBOL=PRICE with a positive price, got {text!r}")
    return symbol, price


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hexexec sim-gmo", description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=18080, help="0 picks a free port")
    p.add_argument("--symbols", default="BTC,BTC_JPY", help="comma-separated (default BTC,BTC_JPY)")
    p.add_argument("--price", type=_price, action="append", default=[], metavar="SYMBOL=PRICE")
    p.add_argument("--key", default=DEFAULT_KEY, help="API key accepted")
    p.add_argument("--secret", default=None, help="its secret (or SIM_GMO_SECRET)")
    p.add_argument("--get-per-s", type=float, default=20.0)
    p.add_argument("--post-per-s", type=float, default=20.0)
    p.add_argument("--no-rate-limit", action="store_true", help="lift both limits (benchmarks)")
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--stale-after-ms", type=int, default=5_000)
    p.add_argument("--ahead-after-ms", type=int, default=5_000)
    p.add_argument("--seed", type=int, default=0, help="seed of the random walk")
    p.add_argument("--walk-interval", type=float, default=0.0, help="seconds; 0: static prices")
    p.add_argument("--walk-step-bps", type=int, default=10)
    p.add_argument("--follow-order-prices", action="store_true")
    p.add_argument("--jpy-balance", type=Decimal, default=None, help="spot cash (default unlimited)")
    p.add_argument("--slippage-bps", type=Decimal, default=Decimal("5"))
    return p


def build(args: argparse.Namespace) -> SimGmo:
    """The SimGmo the arguments describe, with its starting prices set."""
    symbols = [s.strip() for s in args.symbols.split(",") if s.strip()]
    venue = PaperVenue.for_symbols(
        symbols,
        settings=VenueSettings(
            follow_order_prices=args.follow_order_prices,
            jpy_balance=args.jpy_balance,
            slippage_bps=args.slippage_bps,
        ),
    )
    secret = args.secret or os.environ.get("SIM_GMO_SECRET") or DEFAULT_SECRET
    settings = SimSettings(
        credentials={args.key: secret},
        stale_after_ms=args.stale_after_ms,
        ahead_after_ms=args.ahead_after_ms,
        get_per_s=None if args.no_rate_limit else args.get_per_s,
        post_per_s=None if args.no_rate_limit else args.post_per_s,
        latency_s=args.latency_ms / 1000,
    )
    sim = SimGmo(venue, settings)
    sim.set_prices(dict(args.price))
    return sim


async def run(sim: SimGmo, args: argparse.Namespace) -> None:
    """Serve (and walk the prices) until SIGINT or SIGTERM, then stop cleanly."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            url = await nursery.start(partial(serve_sim_gmo, sim, host=args.host, port=args.port))
            if args.walk_interval > 0:
                walk = partial(
                    random_walk,
                    sim,
                    seed=args.seed,
                    interval_s=args.walk_interval,
                    step_bps=args.walk_step_bps,
                )
                await nursery.start(walk)
            print(f"simulated GMO listening on {url}", flush=True)
            async for _ in signals:
                nursery.cancel_scope.cancel()
                break


def main_sim_gmo(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (without the program name), serve until SIGINT/SIGTERM; the exit code."""
    try:
        args = parser().parse_args(argv)
        sim = build(args)
    except SystemExit as stop:  # argparse's own exit (bad arguments, --help)
        return int(stop.code or 0)
    except ValueError as error:
        print(f"sim-gmo: {error}", file=sys.stderr)
        return 2
    trio.run(run, sim, args)
    return 0


if __name__ == "__main__":
    sys.exit(main_sim_gmo(sys.argv[1:]))
