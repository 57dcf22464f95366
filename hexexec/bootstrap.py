"""The composition root: picks the adapters, nests their lifetimes, starts the engine.

Lifetimes nest as the task tree of DESIGN §2: the store outlives the broker, which outlives the
signal source; logging to the database starts as soon as the store is open. Nothing connects at
import time. SIGINT/SIGTERM stop intake first, let in-flight work finish within the grace period,
and leave open orders to the next start (exit 0); a second signal stops at once.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import trio

from adapters.embedded import embedded_postgres, embedded_redis
from adapters.gmo.broker import GmoBroker
from adapters.gmo.client import HttpTimeouts, RateLimits
from adapters.gmo.market_data import GmoMarketData
from adapters.paper import PaperBroker, PaperMarketData, VenueSettings
from adapters.paper.persistence import PersistentPaperVenue
from adapters.postgres import PostgresEventLog, PostgresStore
from adapters.prometheus import PrometheusMetrics, serve_metrics
from adapters.redis_streams import RedisSignalSource
from adapters.system.clock import SystemClock
from adapters.system.malloc import limit_malloc_arenas
from hexexec.config import Settings
from hexexec.endpoints import Endpoints, endpoints, worker_registered
from hexexec.logs import configure_logging, redact_text
from hexexec.services.engine import Engine
from hexexec.services.worker import run_engine
from ports.broker import Broker
from ports.market_data import MarketData

log = logging.getLogger("hexexec.bootstrap")


def service_endpoints(settings: Settings, *, record: bool = False
                      ) -> AbstractAsyncContextManager[Endpoints]:
    """Redis and PostgreSQL URLs: configured, a running worker's, or embedded ones started here."""
    return endpoints(settings, embedded_redis=embedded_redis,
                     embedded_postgres=embedded_postgres, record=record)


class StartupError(RuntimeError):
    """The worker cannot start; the message is one line naming the setting to look at."""


async def preflight(settings: Settings, urls: Endpoints) -> None:
    """Reach Redis and PostgreSQL once, with the configured timeouts, before anything else: an
    unreachable server is a clear one-line error at start, not a retry loop."""
    from adapters.postgres.reports import ping as ping_postgres
    from adapters.redis_streams.inspect import ping as ping_redis

    checks = (("REDIS_URL", urls.redis_url, ping_redis, settings.redis_timeout_s),
              ("DATABASE_URL", urls.database_url, ping_postgres, settings.db_connect_timeout_s))
    for name, url, ping, timeout in checks:
        try:
            await trio.to_thread.run_sync(ping, url, timeout)
        except ConnectionError as exc:
            raise StartupError(f"{name}: cannot reach {redact_text(url)}: {exc}") from None


def open_store(settings: Settings, database_url: str) -> AbstractAsyncContextManager[PostgresStore]:
    return PostgresStore.open(
        database_url, schema=settings.db_schema, max_size=settings.db_pool_size,
        connect_timeout=settings.db_connect_timeout_s,
        statement_timeout=settings.db_statement_timeout_s,
    )


def _gmo_http(settings: Settings) -> tuple[HttpTimeouts, RateLimits]:
    t = settings.http_timeout_s
    timeouts = HttpTimeouts(connect_s=min(3.0, t), read_s=t, write_s=t, pool_s=t, total_s=t * 1.5)
    rates = RateLimits(get_per_s=settings.rate_limit_get_per_s,
                       post_per_s=settings.rate_limit_post_per_s)
    return timeouts, rates


@asynccontextmanager
async def open_venue(settings: Settings) -> AsyncIterator[tuple[Broker, MarketData]]:
    """Live: GMO over HTTP. Paper: the simulated venue in-process, kept under DATA_DIR, priced by
    the signals' own prices or by GMO's public ticker."""
    timeouts, rates = _gmo_http(settings)
    if settings.live:
        assert settings.api_key is not None and settings.api_secret is not None
        async with GmoBroker.open(settings.rest_base_url, settings.api_key.get_secret_value(),
                                  settings.api_secret, exchange=settings.exchange_name,
                                  timeouts=timeouts, rates=rates) as broker, \
                GmoMarketData.open(settings.rest_base_url, settings.symbols,
                                   timeouts=timeouts, rates=rates) as market:
            yield broker, market
        return
    path = Path(settings.data_dir) / "paper" / "venue.pickle"

    def new_venue() -> PersistentPaperVenue:
        venue = PersistentPaperVenue.for_symbols(
            settings.symbols, settings=VenueSettings(**settings.paper_venue_settings()))
        assert isinstance(venue, PersistentPaperVenue)
        return venue

    venue = PersistentPaperVenue.open(path, new_venue)
    paper = PaperBroker(venue, latency_s=settings.paper_latency_ms / 1000)
    if settings.paper_price_source == "ticker":
        async with GmoMarketData.open(settings.rest_base_url, settings.symbols,
                                      timeouts=timeouts, rates=rates) as ticker, \
                trio.open_nursery() as nursery:
            nursery.start_soon(_feed_prices, ticker, venue, settings.symbols)
            yield paper, PaperMarketData(venue)
            nursery.cancel_scope.cancel()
        return
    yield paper, PaperMarketData(venue)


async def _feed_prices(ticker: GmoMarketData, venue: PersistentPaperVenue,
                       symbols: tuple[str, ...]) -> None:
    """Paper trading on real prices: GMO's ticker moves the simulated market once a second."""
    while True:
        for symbol in symbols:
            price = await ticker.last_price(symbol)
            if price is not None and price != venue.market_price(symbol):
                venue.set_price(symbol, price)
        await trio.sleep(1.0)


def open_source(settings: Settings, redis_url: str) -> AbstractAsyncContextManager[RedisSignalSource]:
    streams = list(settings.signal_streams) or [f"signal:{settings.exchange_name}"]
    return RedisSignalSource.open(
        redis_url, streams, settings.consumer_group, settings.consumer_name,
        block_ms=settings.redis_block_ms, socket_timeout_s=settings.redis_timeout_s,
        connect_timeout_s=settings.redis_timeout_s,
        claim_min_idle_ms=int(settings.redis_claim_idle_s * 1000),
    )


async def _stop_on_signals(stop: trio.Event, cancel: trio.CancelScope, *,
                           task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        task_status.started()
        async for received in signals:
            if not stop.is_set():
                log.info("stop requested", extra={"signal": signal.Signals(received).name})
                stop.set()
            else:
                log.warning("second stop signal: stopping now")
                cancel.cancel()


async def run_worker(settings: Settings, *,
                     task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
    """The worker, until SIGINT/SIGTERM. ``started()`` with the metrics port once ready."""
    configure_logging(settings.log_level)
    mode = "live" if settings.live else "paper"
    # Before the first worker thread: each would otherwise take a malloc arena of its own.
    arenas_capped = limit_malloc_arenas(2)
    log.info("starting", extra={"mode": mode, "symbols": list(settings.symbols),
                                "malloc_arenas_capped": arenas_capped})
    stop = trio.Event()
    async with trio.open_nursery() as top:
        await top.start(_stop_on_signals, stop, top.cancel_scope)
        async with service_endpoints(settings, record=True) as urls:
            await preflight(settings, urls)
            await _serve(settings, urls, stop, task_status)
        top.cancel_scope.cancel()
    log.info("worker stopped")


async def _serve(settings: Settings, urls: Endpoints, stop: trio.Event,
                 task_status: trio.TaskStatus[int]) -> None:
    mode = "live" if settings.live else "paper"
    async with open_store(settings, urls.database_url) as store, trio.open_nursery() as nursery:
        if settings.log_to_database:
            event_log = PostgresEventLog(store)
            await nursery.start(event_log.run)
            configure_logging(settings.log_level, extra_handlers=[event_log.logging_handler()])
        metrics = PrometheusMetrics()
        port = await nursery.start(serve_metrics, metrics, settings.metrics_host,
                                   settings.metrics_port)
        async with open_venue(settings) as (broker, market), \
                open_source(settings, urls.redis_url) as source:
            await nursery.start(source.run_janitor)
            engine = Engine(store=store, broker=broker, source=source, clock=SystemClock(),
                            market_data=market, options=settings.engine_options(),
                            metrics=metrics)
            async with trio.open_nursery() as engine_nursery:
                await engine_nursery.start(lambda task_status: run_engine(
                    engine, stop=stop, task_status=task_status))
                log.info("worker ready", extra={"mode": mode, "metrics_port": port})
                with worker_registered(settings, port):
                    task_status.started(port)
                    await stop.wait()
        nursery.cancel_scope.cancel()  # metrics, janitor, event log: the engine has stopped
