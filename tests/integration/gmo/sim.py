"""Test helper: the simulated GMO served on a free port inside the test's own trio nursery.

    async with running_sim(post_per_s=None) as gmo:
        broker = SomeGmoClient(base_url=gmo.base_url, key=gmo.key, secret=gmo.secret)
        gmo.sim.drop_next_reply("/v1/order")      # control the venue in-process
        gmo.sim.venue.all_orders()                 # and inspect it

``base_url`` is ``http://127.0.0.1:PORT``; GMO's two halves are ``gmo.public_url``
(``base_url + "/public"``) and ``gmo.private_url`` (``base_url + "/private"``), each followed by
``/v1/...``. The server stops when the block ends.

For the simulator's own tests, ``signed_headers`` signs a request independently of the server's
code (plain ``hmac``), with the sim's clock unless a timestamp is given.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import trio

from adapters.paper import PaperVenue, VenueSettings
from adapters.paper.http import SimGmo, SimSettings, serve_sim_gmo
from adapters.paper.http.sim import utc_now

DEFAULT_SYMBOLS = ("BTC", "ETH", "BTC_JPY", "ETH_JPY")
DEFAULT_PRICES: Mapping[str, Decimal] = {
    "BTC": Decimal("10000000"),
    "ETH": Decimal("400000"),
    "BTC_JPY": Decimal("10000000"),
    "ETH_JPY": Decimal("400000"),
}


@dataclass(frozen=True)
class SimHandle:
    base_url: str
    key: str
    secret: str
    sim: SimGmo

    @property
    def public_url(self) -> str:
        return self.base_url + "/public"

    @property
    def private_url(self) -> str:
        return self.base_url + "/private"

    def signed_headers(
        self, method: str, path: str, body: str = "", *, timestamp: str | None = None
    ) -> dict[str, str]:
        """GMO's three headers for ``method path`` (``path`` as signed: ``/v1/...``, no query)."""
        stamp = timestamp if timestamp is not None else str(self.sim.now_ms())
        text = f"{stamp}{method.upper()}{path}{body if method.upper() == 'POST' else ''}"
        signature = hmac.new(self.secret.encode(), text.encode(), hashlib.sha256).hexdigest()
        headers = {"API-KEY": self.key, "API-TIMESTAMP": stamp, "API-SIGN": signature}
        if method.upper() == "POST":
            headers["Content-Type"] = "application/json"
        return headers

    async def private(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | str | None = None,
    ) -> Any:
        """One signed private call (``path`` like ``/v1/order``); the decoded JSON reply."""
        text = body if isinstance(body, str) else "" if body is None else json.dumps(body)
        response = await client.request(
            method,
            self.private_url + path,
            params=params,
            content=text.encode() if method.upper() == "POST" else None,
            headers=self.signed_headers(method, path, text),
        )
        return response.json()

    async def public(
        self, client: httpx.AsyncClient, path: str, params: Mapping[str, str] | None = None
    ) -> Any:
        response = await client.get(self.public_url + path, params=params)
        return response.json()


@asynccontextmanager
async def running_sim(
    *,
    symbols: Iterable[str] = DEFAULT_SYMBOLS,
    prices: Mapping[str, Decimal | str] | None = None,
    venue: PaperVenue | None = None,
    venue_settings: VenueSettings | None = None,
    now: Callable[[], datetime] = utc_now,
    monotonic: Callable[[], float] = time.monotonic,
    host: str = "127.0.0.1",
    **settings: Any,
) -> AsyncIterator[SimHandle]:
    """Start a SimGmo on a free port; yields its :class:`SimHandle`.

    ``venue`` (or a new one over ``symbols`` with ``venue_settings`` and clock ``now``) starts at
    ``prices`` (default: BTC/ETH spot and leverage at round prices; ``{}`` for none). Other keyword
    arguments are :class:`SimSettings` fields (``get_per_s=None``, ``latency_s=0.05``,
    ``credentials={...}``, ...); the handle's key and secret are the first credential's.
    """
    if venue is None:
        venue = PaperVenue.for_symbols(list(symbols), settings=venue_settings, now=now)
    sim_settings = SimSettings(**settings)
    sim = SimGmo(venue, sim_settings, now=now, monotonic=monotonic)
    chosen = DEFAULT_PRICES if prices is None else prices
    sim.set_prices({s: p for s, p in chosen.items() if s in sim.rules})
    key, secret = next(iter(sim_settings.credentials.items()))
    async with trio.open_nursery() as nursery:
        base_url = await nursery.start(serve_sim_gmo, sim)
        try:
            yield SimHandle(base_url, key, secret, sim)
        finally:
            nursery.cancel_scope.cancel()
