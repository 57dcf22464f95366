"""Fixtures of the contract suites: ``store`` and ``signal_source_harness``, each parametrized
over every registered backend, so the same tests run on memory and on the real technology.

To add a backend, write ``tests/contract/harnesses/<name>.py`` and add one entry below (see
``tests/contract/harnesses/__init__.py`` for what a factory must do).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import Any

import pytest

from ports.store import Store
from tests.contract.harnesses import Backend, SignalSourceHarness
from tests.contract.harnesses.memory import memory_source_harness, memory_store
from tests.contract.harnesses.postgres import postgres_store
from tests.contract.harnesses.redis import redis_source_harness

STORE_BACKENDS: dict[str, Backend[Store]] = {
    "memory": Backend(memory_store),
    "postgres": Backend(postgres_store, needs=("database_url",), marks=(pytest.mark.postgres,)),
}

SOURCE_BACKENDS: dict[str, Backend[SignalSourceHarness]] = {
    "memory": Backend(memory_source_harness),
    "redis": Backend(redis_source_harness, needs=("redis_url",), marks=(pytest.mark.redis,)),
}


def _params(backends: Mapping[str, Backend[Any]]) -> list[Any]:
    return [pytest.param(name, marks=b.marks, id=name) for name, b in backends.items()]


def _opener(backends: Mapping[str, Backend[Any]],
            request: pytest.FixtureRequest) -> Callable[[], AbstractAsyncContextManager[Any]]:
    # Synchronous on purpose: service fixtures (which may skip) resolve before trio starts.
    backend = backends[request.param]
    kwargs = {name: request.getfixturevalue(name) for name in backend.needs}
    return partial(backend.factory, **kwargs)


@pytest.fixture(params=_params(STORE_BACKENDS))
def store_backend(request: pytest.FixtureRequest) -> Callable[[], AbstractAsyncContextManager[Store]]:
    return _opener(STORE_BACKENDS, request)


@pytest.fixture(params=_params(SOURCE_BACKENDS))
def source_backend(
    request: pytest.FixtureRequest,
) -> Callable[[], AbstractAsyncContextManager[SignalSourceHarness]]:
    return _opener(SOURCE_BACKENDS, request)


@pytest.fixture
async def store(
    store_backend: Callable[[], AbstractAsyncContextManager[Store]],
) -> AsyncIterator[Store]:
    """A fresh, empty store of one backend."""
    async with store_backend() as opened:
        yield opened


@pytest.fixture
async def signal_source_harness(
    source_backend: Callable[[], AbstractAsyncContextManager[SignalSourceHarness]],
) -> AsyncIterator[SignalSourceHarness]:
    """A signal-source backend over streams no other test uses."""
    async with source_backend() as harness:
        yield harness
