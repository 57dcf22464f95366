"""The API secret never leaves GmoBroker: not in logs (ours, httpx's, httpcore's, all at DEBUG),
not in exception messages or tracebacks rendered with their locals, not in any repr, during a run
full of errors."""

from __future__ import annotations

import logging
import traceback
from contextlib import AbstractAsyncContextManager
from decimal import Decimal

import pytest
import structlog
from structlog.tracebacks import ExceptionDictTransformer

from adapters.gmo import GmoBroker, GmoMarketData, HttpTimeouts, RateLimits
from adapters.paper.http import SimGmo
from hexexec.domain.errors import BrokerError
from hexexec.domain.orders import OrderIntent, SettleType, Side
from hexexec.domain.signal import OrderType
from tests.integration.gmo.sim import running_sim

FAST = HttpTimeouts(connect_s=1.0, read_s=0.5, write_s=1.0, pool_s=1.0, total_s=2.0)
UNLIMITED = RateLimits(get_per_s=None, post_per_s=None, public_per_s=None)
ORDER = OrderIntent("gmo", "BTC_JPY", Side.BUY, SettleType.OPEN, OrderType.LIMIT, Decimal("0.01"),
                    Decimal("9900000"), None)
render_with_locals = ExceptionDictTransformer(show_locals=True, locals_max_string=10_000)


def rendered(exc: BaseException) -> str:
    """Everything an error report could show of ``exc``: message, repr, chained traceback, and
    the traceback with every frame's locals (structlog's default for exceptions)."""
    return "\n".join([str(exc), repr(exc), "".join(traceback.format_exception(exc)),
                      repr(render_with_locals((type(exc), exc, exc.__traceback__)))])


async def open_frames_and_an_escaping_error(
    opening: AbstractAsyncContextManager[GmoBroker],
) -> tuple[list[str], BaseException]:
    """The locals of the suspended ``open`` generators (GmoBroker's and the client's: what a
    traceback through them would show), and an error raised inside the block, caught outside.
    This frame holds nothing secret itself."""
    frames = []
    try:
        async with opening as broker:
            generator = opening.gen  # type: ignore[attr-defined]
            while generator is not None:
                frames.append(repr(generator.ag_frame.f_locals))
                inner = generator.ag_frame.f_locals.get("client_cm")
                generator = getattr(inner, "gen", None)
            await broker.place(OrderIntent("gmo", "BTC_JPY", Side.BUY, SettleType.OPEN,
                                           OrderType.MARKET, Decimal("0.0001"), None, None))
    except BrokerError as exc:
        return frames, exc
    raise AssertionError("the order below the minimum size was accepted")


async def failing_calls(broker: GmoBroker, sim: SimGmo) -> list[str]:
    """Calls failing every way the simulator can make them fail; each error as it would be shown.
    Run in a frame of its own, holding nothing secret, as the worker's frames do."""
    texts: list[str] = []
    faults = [
        lambda: sim.error_next("ERR-5003", "/v1/order"),
        lambda: sim.error_next("ERR-5010", "/v1/order"),
        lambda: sim.error_next("ERR-5008", "/v1/order", count=2),
        lambda: sim.timeout_next("/v1/order"),
        lambda: sim.drop_next_reply("/v1/order", mode="close"),
        lambda: sim.http_error_next(502, "/v1/order"),
        lambda: sim.set_maintenance(True),
    ]
    for inject in faults:
        inject()
        try:
            await broker.place(ORDER)
        except BrokerError as exc:
            texts.append(rendered(exc))
        else:
            raise AssertionError("the fault did not fail the call")
        sim.set_maintenance(False)
    for cancelled in ("999999", await broker.place(ORDER)):
        try:
            await broker.cancel(cancelled)
            await broker.cancel(cancelled)
        except BrokerError as exc:
            texts.append(rendered(exc))
    texts += [repr(await broker.orders(["1", "2"])), repr(await broker.positions())]
    return texts


async def test_a_run_full_of_errors_shows_the_secret_nowhere(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "hexexec"):
        caplog.set_level(logging.DEBUG, logger=name)
    texts: list[str] = []
    with structlog.testing.capture_logs() as events:
        async with running_sim(get_per_s=None, post_per_s=None, hold_s=2.0) as gmo:
            secret, key = gmo.secret, gmo.key
            async with GmoBroker.open(gmo.base_url, key, secret, timeouts=FAST,
                                      rates=UNLIMITED) as broker, \
                    GmoMarketData.open(gmo.base_url, ["BTC"], refresh_s=0.05) as market:
                texts += [repr(broker), repr(broker.client), repr(market), repr(vars(broker)),
                          str(vars(broker.client)), repr(broker.client.post_limiter)]
                texts += await failing_calls(broker, gmo.sim)
            frames, escaped = await open_frames_and_an_escaping_error(
                GmoBroker.open(gmo.base_url, key, secret, timeouts=FAST, rates=UNLIMITED))
            texts += [rendered(escaped), *frames]
    logs = caplog.text + "\n".join(repr(vars(r)) for r in caplog.records) + repr(events)

    # The captures did see the traffic, the errors with their frames' locals (the request headers
    # of _call), and both frames of ``open`` (the client's holds the masked secret):
    assert "/private/v1/order" in logs and "gmo rate limit hit" in logs
    assert len(texts) > 10 and "ERR-5010" in "".join(texts) and "API-SIGN" in texts[-3]
    assert len(frames) == 2 and "client_cm" in frames[0]
    assert "ApiSecret('**********')" in frames[1]
    # ... and nowhere the secret; not even the key in the logs (httpx does not log headers).
    assert secret not in logs and key not in logs
    for text in texts:
        assert secret not in text
