"""Fixtures of the process campaigns: the test's own Redis and PostgreSQL (stoppable, on free
ports), a directory for the workers' data and logs, kept when the test fails."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.campaign.servers import OwnPostgres, OwnRedis, scratch_dir


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[FAILED] = report.failed


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def home(request: pytest.FixtureRequest) -> Iterator[Path]:
    """Scratch space (0755: PostgreSQL runs as ``nobody``); kept, and named, when the test fails."""
    path = scratch_dir("hexexec-campaign-")
    yield path
    if request.node.stash.get(FAILED, True):
        print(f"kept for inspection: {path}")
    else:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def own_redis(home: Path) -> Iterator[OwnRedis]:
    (home / "redis").mkdir()
    server = OwnRedis(home / "redis")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def own_postgres(home: Path) -> Iterator[OwnPostgres]:
    (home / "postgres").mkdir(mode=0o755)
    server = OwnPostgres(home / "postgres")
    server.initdb()
    server.start()
    server.create_database()
    yield server
    server.stop()
