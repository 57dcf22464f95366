"""Serve a SimGmo with hypercorn under trio, as a task that supports ``nursery.start``."""

from __future__ import annotations

import logging
from functools import partial
from typing import cast

import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from hypercorn.typing import ASGIFramework

from adapters.paper.http.settings import SimSettings
from adapters.paper.http.sim import SimGmo
from adapters.paper.venue import PaperVenue

LOGGER = logging.getLogger("hexexec.sim_gmo")


def hypercorn_config(host: str, port: int) -> Config:
    """Plain HTTP/1.1 on ``host:port`` (0: a free port). No access log; errors go to the
    ``hexexec.sim_gmo`` logger (request headers, and so signatures, are never logged)."""
    config = Config()
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.accesslog = None
    config.errorlog = LOGGER
    config.graceful_timeout = 1.0
    # Idle connections outlive httpx's 5 s keep-alive, so the client always closes first and
    # never sends into a connection the server is closing (a spurious broken POST).
    config.keep_alive_timeout = 75.0
    return config


async def serve_sim_gmo(
    venue: PaperVenue | SimGmo,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    settings: SimSettings | None = None,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve GMO's API over ``venue`` until cancelled.

    ``venue`` is a PaperVenue (wrapped in a new ``SimGmo(venue, settings)``) or a ready SimGmo
    (``settings`` must then be None). Calls ``task_status.started(base_url)`` only once the socket
    listens, with the real port: ``"http://127.0.0.1:54321"``; the API is at
    ``base_url + "/public"`` and ``base_url + "/private"``.
    """
    if isinstance(venue, SimGmo):
        if settings is not None:
            raise ValueError("pass settings to SimGmo, not to serve_sim_gmo, when giving a SimGmo")
        sim = venue
    else:
        sim = SimGmo(venue, settings)
    config = hypercorn_config(host, port)
    async with trio.open_nursery() as nursery:
        # Starlette is an ASGI app; hypercorn's type for it is narrower than Starlette's own.
        app = cast("ASGIFramework", sim.app)
        binds = await nursery.start(partial(serve, app, config, mode="asgi"))
        base_url = binds[0]
        LOGGER.info("simulated GMO listening on %s", base_url)
        task_status.started(base_url)
