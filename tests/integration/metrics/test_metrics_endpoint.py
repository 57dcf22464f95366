"""The metrics endpoint over real HTTP: Prometheus text that parses, health, readiness."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

import httpx
import pytest
import trio
from prometheus_client.parser import text_string_to_metric_families

from adapters.prometheus import PrometheusMetrics, serve_metrics


@pytest.fixture
async def endpoint() -> AsyncIterator[tuple[PrometheusMetrics, str]]:
    metrics = PrometheusMetrics()
    async with trio.open_nursery() as nursery:
        port = await nursery.start(serve_metrics, metrics, "127.0.0.1", 0)
        assert port > 0
        yield metrics, f"http://127.0.0.1:{port}"
        nursery.cancel_scope.cancel()


async def get(url: str, method: str = "GET") -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.request(method, url)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_health_and_readiness(endpoint: tuple[PrometheusMetrics, str]) -> None:
    metrics, base = endpoint
    assert (await get(f"{base}/healthz")).status_code == 200
    assert (await get(f"{base}/readyz")).status_code == 503  # recovery not done yet
    metrics.ready(True)
    assert (await get(f"{base}/readyz")).status_code == 200
    metrics.ready(False)  # e.g. stopping: intake no longer reads
    assert (await get(f"{base}/readyz")).status_code == 503
    assert (await get(f"{base}/healthz")).status_code == 200


async def test_metrics_are_prometheus_text(endpoint: tuple[PrometheusMetrics, str]) -> None:
    metrics, base = endpoint
    for _ in range(3):
        metrics.signal_received("signal:gmo")
    metrics.signal_decided("accepted")
    metrics.signal_decided("rejected", ("max_position", "max_drawdown"))
    metrics.signal_decided("rejected", ("max_position",))
    metrics.dead_lettered("signal:gmo")
    metrics.order_status("FILLED")
    metrics.order_status("FILLED")
    metrics.order_status("CANCELED")
    metrics.submit_latency(0.03)
    metrics.submit_latency(2.0)
    metrics.step_duration("decide", 0.0008)
    metrics.step_duration("decide", 0.004)
    metrics.step_duration("claim", 0.0012)
    metrics.consumer_lag("signal:gmo", 17)
    metrics.pending_entries("signal:gmo", 4)
    metrics.rate_limit_waited("post", 0.25)
    metrics.position_drift("BTC_JPY", -0.01)
    metrics.venue_unavailable(True)
    metrics.ready(True)

    response = await get(f"{base}/metrics?name[]=ignored")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    stream = (("stream", "signal:gmo"),)
    assert found[("hexexec_signals_received_total", stream)] == 3
    assert found[("hexexec_signals_decided_total", (("outcome", "rejected"),))] == 2
    assert found[("hexexec_signals_decided_total", (("outcome", "accepted"),))] == 1
    assert found[("hexexec_signals_rejected_total", (("rule", "max_position"),))] == 2
    assert found[("hexexec_signals_rejected_total", (("rule", "max_drawdown"),))] == 1
    assert found[("hexexec_dead_letters_total", stream)] == 1
    assert found[("hexexec_orders_total", (("status", "FILLED"),))] == 2
    assert found[("hexexec_orders_total", (("status", "CANCELED"),))] == 1
    assert found[("hexexec_submit_latency_seconds_count", ())] == 2
    assert found[("hexexec_submit_latency_seconds_sum", ())] == pytest.approx(2.03)
    assert found[("hexexec_submit_latency_seconds_bucket", (("le", "0.05"),))] == 1
    decide = (("step", "decide"),)
    assert found[("hexexec_step_duration_seconds_count", decide)] == 2
    assert found[("hexexec_step_duration_seconds_bucket", (("le", "0.001"), *decide))] == 1
    assert found[("hexexec_step_duration_seconds_bucket", (("le", "0.005"), *decide))] == 2
    assert found[("hexexec_step_duration_seconds_sum", (("step", "claim"),))] == 0.0012
    assert found[("hexexec_consumer_lag", stream)] == 17
    assert found[("hexexec_pending_entries", stream)] == 4
    assert found[("hexexec_rate_limit_waits_total", (("kind", "post"),))] == 1
    assert found[("hexexec_rate_limit_wait_seconds_total", (("kind", "post"),))] == 0.25
    assert found[("hexexec_position_drift", (("symbol", "BTC_JPY"),))] == -0.01
    assert found[("hexexec_venue_unavailable", ())] == 1
    assert found[("hexexec_ready", ())] == 1


async def test_each_instance_has_its_own_registry(endpoint: tuple[PrometheusMetrics, str]) -> None:
    metrics, base = endpoint
    other = PrometheusMetrics()
    other.order_status("FILLED")  # must not show on the first instance's endpoint
    metrics.order_status("REJECTED")
    found = samples((await get(f"{base}/metrics")).text)
    assert found[("hexexec_orders_total", (("status", "REJECTED"),))] == 1
    assert ("hexexec_orders_total", (("status", "FILLED"),)) not in found


async def test_other_paths_methods_and_garbage(endpoint: tuple[PrometheusMetrics, str]) -> None:
    _, base = endpoint
    assert (await get(f"{base}/")).status_code == 404
    refused = await get(f"{base}/metrics", "POST")
    assert refused.status_code == 405 and refused.headers["allow"] == "GET, HEAD"
    head = await get(f"{base}/healthz", "HEAD")
    assert head.status_code == 200 and head.content == b""
    host, port = base.removeprefix("http://").split(":")
    async with await trio.open_tcp_stream(host, int(port)) as raw:
        await raw.send_all(b"\x00\x01 not http at all\r\n\r\n")
        reply = await raw.receive_some(1024)
    assert reply.startswith(b"HTTP/1.1 400")
    assert (await get(f"{base}/healthz")).status_code == 200  # still serving


async def test_a_silent_client_does_not_block_others(endpoint: tuple[PrometheusMetrics, str]) -> None:
    _, base = endpoint
    host, port = base.removeprefix("http://").split(":")
    async with await trio.open_tcp_stream(host, int(port)):  # connects, never sends a byte
        assert (await get(f"{base}/healthz")).status_code == 200


async def test_a_silent_client_is_dropped_at_the_deadline() -> None:
    async with trio.open_nursery() as nursery:
        port = await nursery.start(partial_serve, 0.05)
        async with await trio.open_tcp_stream("127.0.0.1", port) as silent:
            with trio.fail_after(10):  # a hang guard: the server closes the connection first
                assert await silent.receive_some(100) == b""
        nursery.cancel_scope.cancel()


async def partial_serve(timeout_s: float, *, task_status: trio.TaskStatus[int]) -> None:
    await serve_metrics(PrometheusMetrics(), "127.0.0.1", 0, request_timeout_s=timeout_s,
                        task_status=task_status)


async def test_connections_past_the_cap_are_refused_not_queued() -> None:
    async with trio.open_nursery() as nursery:
        port = await nursery.start(partial(serve_metrics, PrometheusMetrics(), "127.0.0.1", 0,
                                           max_connections=1))
        async with await trio.open_tcp_stream("127.0.0.1", port):  # holds the only slot
            await trio.sleep(0.1)  # let the server accept it before the next one arrives
            async with await trio.open_tcp_stream("127.0.0.1", port) as second:
                with trio.fail_after(10):
                    assert await second.receive_some(100) == b""  # closed at once
        assert (await get(f"http://127.0.0.1:{port}/healthz")).status_code == 200  # slot free again
        nursery.cancel_scope.cancel()


async def test_cancelling_stops_listening() -> None:
    async with trio.open_nursery() as nursery:
        port = await nursery.start(serve_metrics, PrometheusMetrics(), "127.0.0.1", 0)
        nursery.cancel_scope.cancel()
    with pytest.raises(OSError):
        await trio.open_tcp_stream("127.0.0.1", port)
