"""Shared test fixtures: where the real services are, and how to react when they are missing.

Tests that need Redis or PostgreSQL take ``redis_url`` / ``database_url``. When the server is not
reachable the test is skipped on a laptop, but fails under CI (HEXEXEC_REQUIRE_SERVICES=1): a
service-backed test must never silently not run.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), 2):
            return True
    except OSError:
        return False


def _require(url: str, default_port: int, what: str) -> str:
    if not _reachable(url, default_port):
        message = f"{what} not reachable at {url}"
        if os.environ.get("HEXEXEC_REQUIRE_SERVICES") == "1":
            pytest.fail(message + " (HEXEXEC_REQUIRE_SERVICES=1)")
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    return _require(os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL), 6379, "Redis")


@pytest.fixture(scope="session")
def database_url() -> str:
    return _require(os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL), 5432, "PostgreSQL")
