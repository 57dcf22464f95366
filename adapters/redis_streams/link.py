"""RedisLink: redis-py's asyncio client hosted in trio through trio-asyncio, every call bounded.

Two clients share one asyncio loop: a small pool for ordinary commands, and one dedicated
connection for blocking reads. A blocking read that is cancelled (or times out, or fails) may
leave its reply half-read on the socket, so that connection is marked dirty and dropped before it
is used again; the ordinary pool never carries a blocking command. redis-py's own retries are off:
the source decides what is safe to retry (see :mod:`adapters.redis_streams.reconnect`).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

import trio
import trio_asyncio  # type: ignore[import-untyped]
from redis import exceptions as rx
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from adapters.redis_streams.settings import RedisSourceSettings

T = TypeVar("T")
Command = Sequence[Any]


class RedisUnavailable(Exception):
    """Redis could not be reached or did not answer in time; the call may or may not have run."""


@asynccontextmanager
async def asyncio_loop() -> AsyncIterator[trio_asyncio.TrioEventLoop]:
    """The trio-asyncio loop of this task context, opened here only if there is none yet
    (another adapter, PostgreSQL's, may already host one)."""
    loop = trio_asyncio.current_loop.get()
    if loop is not None:
        yield loop
        return
    async with trio_asyncio.open_loop() as opened:
        yield opened


def _client(url: str, settings: RedisSourceSettings, name: str, read_timeout_s: float) -> Redis:
    client = Redis.from_url(
        url,
        socket_timeout=read_timeout_s,
        socket_connect_timeout=settings.connect_timeout_s,
        retry=Retry(NoBackoff(), 0),  # one attempt: a blind retry could lose a read's reply
        protocol=2,
        decode_responses=False,
        client_name=name,
    )
    # Raw replies: redis-py's stream parsing would fold repeated field names into a dict.
    client.response_callbacks.clear()
    return client


class RedisLink:
    """Calls into Redis from trio. Errors of the connection come out as :class:`RedisUnavailable`;
    Redis's own error replies (``ResponseError``) pass through unchanged."""

    def __init__(self, loop: trio_asyncio.TrioEventLoop, url: str, settings: RedisSourceSettings,
                 client_name: str) -> None:
        self._loop = loop
        self._settings = settings
        name = re.sub(r"[^A-Za-z0-9:._-]", "_", client_name)
        self._commands = _client(url, settings, name, settings.socket_timeout_s)
        self._reader = _client(url, settings, name + ":reader",
                               settings.socket_timeout_s + settings.block_ms / 1000)
        self._reader_dirty = False

    def __repr__(self) -> str:
        return "RedisLink()"  # the URL may hold a password: never shown

    async def _guard(self, fn: Callable[[], Awaitable[T]], timeout_s: float) -> T:
        try:
            with trio.fail_after(timeout_s):
                return cast(T, await trio_asyncio.aio_as_trio(fn, loop=self._loop)())
        except trio.TooSlowError:
            raise RedisUnavailable(f"no answer within {timeout_s:g}s") from None
        except (rx.AuthenticationError, rx.AuthorizationError):
            raise  # wrong credentials: waiting will not fix them
        except (rx.ConnectionError, rx.TimeoutError, OSError) as exc:
            raise RedisUnavailable(str(exc) or type(exc).__name__) from exc

    async def command(self, *args: Any) -> Any:
        """One command on the ordinary pool."""
        return await self._guard(lambda: self._commands.execute_command(*args),  # type: ignore[no-untyped-call]
                                 self._settings.call_timeout_s)

    async def transaction(self, commands: Sequence[Command]) -> list[Any]:
        """Several commands in one MULTI/EXEC: all of them run, or none does."""

        async def run() -> list[Any]:
            pipe = self._commands.pipeline(transaction=True)
            for command in commands:
                pipe.execute_command(*command)
            return list(await pipe.execute())

        return await self._guard(run, self._settings.call_timeout_s)

    async def blocking(self, *args: Any) -> Any:
        """A blocking command on the dedicated connection, which is dropped if this call does not
        end with a reply (cancelled, timed out, failed), so no half-read reply is ever reused."""
        if self._reader_dirty:
            await self._guard(self._reader.connection_pool.disconnect,
                              self._settings.call_timeout_s)
            self._reader_dirty = False
        try:
            return await self._guard(lambda: self._reader.execute_command(*args),  # type: ignore[no-untyped-call]
                                     self._settings.blocking_timeout_s)
        except rx.ResponseError:
            raise  # a whole error reply was read: the connection is clean
        except BaseException:
            self._reader_dirty = True
            raise

    async def aclose(self) -> None:
        """Close both clients; runs even while the caller is being cancelled."""
        with trio.CancelScope(shield=True), trio.move_on_after(self._settings.call_timeout_s):
            for client in (self._reader, self._commands):
                try:
                    await trio_asyncio.aio_as_trio(client.aclose, loop=self._loop)()
                except (rx.RedisError, OSError):
                    pass  # closing a dead connection: nothing left to release
