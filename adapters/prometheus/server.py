"""The HTTP endpoint of a running worker: ``/metrics``, ``/healthz`` and ``/readyz``.

A small HTTP/1.1 server on trio and h11, one request per connection (Prometheus and health probes
need nothing more). Every connection has a deadline, and their number is capped, so a stuck or
hostile client cannot hold the worker's resources.
"""

from __future__ import annotations

import logging
from functools import partial

import h11
import trio

from adapters.prometheus.metrics import PrometheusMetrics

log = logging.getLogger("hexexec.metrics")
MAX_READ = 16 * 1024
TEXT = "text/plain; charset=utf-8"

Reply = tuple[int, str, bytes, list[tuple[str, str]]]


def route(metrics: PrometheusMetrics, method: bytes, target: bytes) -> Reply:
    """Status, content type, body and extra headers for one request."""
    path = target.split(b"?", 1)[0]
    if path not in (b"/metrics", b"/healthz", b"/readyz"):
        return 404, TEXT, b"not found\n", []
    if method not in (b"GET", b"HEAD"):
        return 405, TEXT, b"method not allowed\n", [("allow", "GET, HEAD")]
    if path == b"/metrics":
        return 200, metrics.content_type, metrics.render(), []
    if path == b"/healthz":
        return 200, TEXT, b"ok\n", []
    if metrics.is_ready:
        return 200, TEXT, b"ready\n", []
    return 503, TEXT, b"not ready\n", []


async def _read_request(conn: h11.Connection, stream: trio.SocketStream) -> h11.Request | None:
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await stream.receive_some(MAX_READ))
        elif isinstance(event, h11.Request):
            return event
        else:  # the client closed before sending a whole request
            return None


async def _respond(conn: h11.Connection, stream: trio.SocketStream, reply: Reply, head: bool) -> None:
    status, content_type, body, extra = reply
    headers = [("content-type", content_type), ("content-length", str(len(body))),
               ("connection", "close"), ("cache-control", "no-store"), *extra]
    await stream.send_all(conn.send(h11.Response(status_code=status, headers=headers)) or b"")
    if not head:
        await stream.send_all(conn.send(h11.Data(data=body)) or b"")
    await stream.send_all(conn.send(h11.EndOfMessage()) or b"")


async def _serve_one(metrics: PrometheusMetrics, timeout_s: float, limiter: trio.CapacityLimiter,
                     stream: trio.SocketStream) -> None:
    try:
        limiter.acquire_nowait()
    except trio.WouldBlock:  # too many open connections: refuse this one rather than queue it
        await stream.aclose()
        return
    conn = h11.Connection(h11.SERVER)
    try:
        with trio.move_on_after(timeout_s):
            async with stream:
                try:
                    request = await _read_request(conn, stream)
                except h11.RemoteProtocolError:
                    await _respond(conn, stream, (400, TEXT, b"bad request\n", []), head=False)
                    return
                if request is not None:
                    reply = route(metrics, request.method, request.target)
                    await _respond(conn, stream, reply, head=request.method == b"HEAD")
    except (trio.BrokenResourceError, trio.ClosedResourceError, h11.LocalProtocolError, OSError):
        pass  # the client went away: nothing to answer
    except Exception:  # never let one request take the endpoint down
        log.exception("metrics endpoint: request failed")
    finally:
        limiter.release()


async def serve_metrics(
    metrics: PrometheusMetrics,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    request_timeout_s: float = 10.0,
    max_connections: int = 32,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until cancelled. ``started()`` once listening, with the real port (``port=0``: any)."""
    listeners = await trio.open_tcp_listeners(port, host=host)
    bound = int(listeners[0].socket.getsockname()[1])
    limiter = trio.CapacityLimiter(max_connections)
    handler = partial(_serve_one, metrics, request_timeout_s, limiter)
    log.info("metrics endpoint listening", extra={"host": host, "port": bound})
    task_status.started(bound)
    await trio.serve_listeners(handler, listeners)
