"""GmoClient: signed, rate-limited, time-bounded HTTP calls to GMO Coin, replies read as envelopes.

One ``httpx.AsyncClient`` (it runs on trio through anyio) for ``<base>/private`` and ``<base>/public``.
Every call is bounded twice: httpx's connect/read/write/pool timeouts, and a total deadline.

What a failure becomes (DESIGN §3), decided here once for every call:
- no connection made (refused, connect timeout, no pooled connection): ``BrokerUnavailable``:
  not a byte was sent, so nothing happened;
- a timeout or a broken connection after sending, an HTTP 5xx to a POST, a reply that is not GMO's
  envelope: ``AmbiguousOutcome``: the venue may have acted;
- an error envelope: the class of its ``message_code`` (:mod:`adapters.gmo.outcomes`).
ERR-5008/5009 (our clock is off) are re-signed once with the venue's clock; ERR-5003 pauses the
limiter that let the request through.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import structlog
import trio

from adapters.gmo.outcomes import CLOCK_SKEW, RATE_LIMITED, RETRY_AFTER
from adapters.gmo.rate_limit import RateLimiter
from adapters.gmo.signing import ApiSecret
from adapters.gmo.wire import Envelope, WireError, read_envelope
from hexexec.domain.errors import AmbiguousOutcome, BrokerUnavailable

log = structlog.get_logger("hexexec.gmo")
MAX_CLOCK_OFFSET_MS = 60_000  # beyond this, the venue's clock is not one to follow


@dataclass(frozen=True, slots=True)
class HttpTimeouts:
    """Seconds: httpx's four phases, and ``total_s`` for a whole call (send to parsed reply)."""

    connect_s: float = 3.0
    read_s: float = 10.0
    write_s: float = 5.0
    pool_s: float = 5.0
    total_s: float = 15.0

    def httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect_s, read=self.read_s, write=self.write_s,
                             pool=self.pool_s)


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Requests per second: private GET and POST (GMO tier 1: 20 each), and public calls.
    None lifts a limit (benchmarks of the engine itself)."""

    get_per_s: float | None = 20.0
    post_per_s: float | None = 20.0
    public_per_s: float | None = 10.0
    margin_s: float = 0.01


DEFAULT_TIMEOUTS = HttpTimeouts()
DEFAULT_RATES = RateLimits()


class GmoClient:
    """Calls GMO at ``base_url`` (the host: ``/private`` and ``/public`` are appended)."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, *, api_key: str | None = None,
                 secret: ApiSecret | None = None, timeouts: HttpTimeouts = DEFAULT_TIMEOUTS,
                 rates: RateLimits = DEFAULT_RATES) -> None:
        if (api_key is None) != (secret is None):
            raise ValueError("give both the API key and the secret, or neither (public only)")
        self._http = http
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._secret = secret
        self._total_s = timeouts.total_s
        self.get_limiter = RateLimiter(rates.get_per_s, margin_s=rates.margin_s)
        self.post_limiter = RateLimiter(rates.post_per_s, margin_s=rates.margin_s)
        self.public_limiter = RateLimiter(rates.public_per_s, margin_s=rates.margin_s)
        self.clock_offset_ms = 0
        self.rate_limited = 0  # ERR-5003 answers seen (should stay 0)

    @classmethod
    @asynccontextmanager
    async def open(cls, base_url: str, api_key: str | None = None, api_secret: Any = None, *,
                   timeouts: HttpTimeouts = DEFAULT_TIMEOUTS, rates: RateLimits = DEFAULT_RATES,
                   transport: httpx.AsyncBaseTransport | None = None) -> AsyncIterator[GmoClient]:
        """A client for the block's duration. ``api_secret`` (a str or pydantic ``SecretStr``) is
        wrapped at once and its plain name deleted, so no frame of this generator holds it."""
        secret = None if api_secret is None else ApiSecret(api_secret)
        del api_secret
        async with httpx.AsyncClient(
            timeout=timeouts.httpx(), follow_redirects=False, trust_env=False,
            headers={"User-Agent": "hexexec"}, transport=transport,
        ) as http:
            yield cls(http, base_url, api_key=api_key, secret=secret, timeouts=timeouts,
                      rates=rates)

    def __repr__(self) -> str:
        return f"GmoClient(base_url={self.base_url!r}, private={self._secret is not None})"

    async def public(self, path: str, params: Mapping[str, object] | None = None) -> Any:
        """GET ``/public`` + ``path``; the reply's ``data``."""
        return await self._call("GET", "/public", path, params, None)

    async def get(self, path: str, params: Mapping[str, object] | None = None) -> Any:
        """Signed GET ``/private`` + ``path`` (``/v1/...``); the reply's ``data``."""
        return await self._call("GET", "/private", path, params, None)

    async def post(self, path: str, body: Mapping[str, object]) -> Any:
        """Signed POST ``/private`` + ``path`` with a JSON body; the reply's ``data``."""
        return await self._call("POST", "/private", path, None, body)

    async def pages(self, path: str, params: Mapping[str, object], *, count: int = 100,
                    max_pages: int = 1000, enough: int | None = None) -> list[Any]:
        """Every item of a paginated list: pages of ``count`` until a shorter one comes back, or
        until ``enough`` items are in hand (the first ones of the list)."""
        items: list[Any] = []
        for page in range(1, max_pages + 1):
            batch = list_of(await self.get(path, {**params, "page": page, "count": count}))
            items.extend(batch)
            if len(batch) < count or (enough is not None and len(items) >= enough):
                return items
        raise AmbiguousOutcome(f"{path}: still full after {max_pages} pages")

    async def _call(self, method: str, scope: str, path: str,
                    params: Mapping[str, object] | None, body: Mapping[str, object] | None) -> Any:
        limiter = (self.public_limiter if scope == "/public"
                   else self.post_limiter if method == "POST" else self.get_limiter)
        text = None if body is None else json.dumps(body, separators=(",", ":"))
        url = self.base_url + scope + path
        if params:
            url += "?" + urlencode({k: str(v) for k, v in params.items()}, safe=",")
        for attempt in (1, 2):
            await limiter.acquire()
            headers = {"Content-Type": "application/json"} if text is not None else {}
            if scope == "/private":
                headers.update(self._auth_headers(method, path, text or ""))
            envelope = await self._exchange(method, url, path, text, headers)
            if envelope.ok:
                return envelope.data
            codes = {m.code for m in envelope.messages}
            if codes & CLOCK_SKEW and attempt == 1:
                self._follow_venue_clock(envelope)  # refused unread: safe to sign again
                continue
            if RATE_LIMITED in codes:
                self.rate_limited += 1
                limiter.pause(RETRY_AFTER[RATE_LIMITED])
                log.warning("gmo rate limit hit: pausing", method=method, path=path)
            return envelope.result()  # raises the error's class
        raise AssertionError("unreachable")

    def _auth_headers(self, method: str, path: str, body: str) -> dict[str, str]:
        if self._secret is None or self._api_key is None:
            raise RuntimeError("this client has no API credentials (public calls only)")
        stamp = str(int(time.time() * 1000) + self.clock_offset_ms)
        return {"API-KEY": self._api_key, "API-TIMESTAMP": stamp,
                "API-SIGN": self._secret.sign(stamp, method, path, body)}

    def _follow_venue_clock(self, envelope: Envelope) -> None:
        if envelope.response_time is None:
            return
        offset = int(envelope.response_time.timestamp() * 1000 - time.time() * 1000)
        if abs(offset) <= MAX_CLOCK_OFFSET_MS:
            self.clock_offset_ms = offset
        log.warning("gmo says our clock is off: signing again", offset_ms=offset)

    async def _exchange(self, method: str, url: str, path: str, content: str | None,
                        headers: dict[str, str]) -> Envelope:
        what = f"{method} {path}"
        with trio.move_on_after(self._total_s) as deadline:
            try:
                response = await self._http.request(method, url, content=content, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # No connection, so no request: the venue cannot have seen it.
                raise BrokerUnavailable("CONNECT", f"{what}: {type(exc).__name__}: {exc}",
                                        1.0) from None
            except httpx.HTTPError as exc:
                raise AmbiguousOutcome(f"{what}: {type(exc).__name__}: {exc}") from None
        if deadline.cancelled_caught:
            raise AmbiguousOutcome(f"{what}: no reply within {self._total_s:g}s")
        return _read(what, method, response)


def _read(what: str, method: str, response: httpx.Response) -> Envelope:
    status = response.status_code
    try:
        envelope = read_envelope(response.content)
    except WireError as exc:
        if status == 429:
            raise BrokerUnavailable("HTTP-429", f"{what}: too many requests", 1.0) from None
        raise AmbiguousOutcome(f"{what}: HTTP {status}, unreadable reply: {exc}") from None
    if status >= 500 and method != "GET":
        # A gateway error after a POST says nothing about whether the venue acted.
        codes = ",".join(m.code for m in envelope.messages) or f"status {envelope.status}"
        raise AmbiguousOutcome(f"{what}: HTTP {status} ({codes})")
    if envelope.ok and status != 200:
        raise AmbiguousOutcome(f"{what}: HTTP {status} with a success envelope")
    return envelope


def list_of(data: Any) -> list[Any]:
    """The ``list`` of a list reply; a reply without one (GMO's "nothing") is empty."""
    if data is None:
        return []
    if isinstance(data, list):
        return data
    if not isinstance(data, dict):
        raise WireError(f"expected an object with a list, got {type(data).__name__}")
    items = data.get("list", [])
    if not isinstance(items, list):
        raise WireError("list is not a list")
    return items
