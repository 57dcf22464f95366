"""What both embedded servers share: a lock on their directory, a free port, a child process that
outlives Ctrl-C until we stop it, and errors that quote the server's own log.

The child runs in its own session, so a terminal's SIGINT reaches the worker only: the worker stops
intake, finishes in-flight work (which needs the database), and only then stops the servers.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import signal
import socket
import stat
import subprocess
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import trio

LOG_TAIL_LINES = 15
PORT_ATTEMPTS = 3  # a free port can be taken between our probe and the server's bind


class EmbeddedServerError(RuntimeError):
    """An embedded server could not be started (the message says why, and where its log is)."""


@contextlib.contextmanager
def directory_lock(path: Path, what: str) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing), or fail at once if another holds it.

    Two servers writing one data directory would corrupt it; the lock dies with its process.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise EmbeddedServerError(
                f"the embedded {what} in {path.parent} is already used by another process "
                "(stop it, or set its URL to share one server)"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def free_port(host: str) -> int:
    """A port on ``host`` that nothing listens on right now (the server binds it just after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return " | ".join(line.strip() for line in text.splitlines()[-lines:] if line.strip())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def orphan(pid_file: Path, program: Path) -> int | None:
    """The pid in ``pid_file`` if that process still runs ``program`` (a server a crash left behind).

    Read from /proc (Linux); elsewhere nothing is taken for an orphan, as a reused pid could be
    anyone's.
    """
    try:
        pid = int(pid_file.read_text().split()[0])
        running = Path(os.readlink(f"/proc/{pid}/exe"))
    except (OSError, ValueError, IndexError):
        return None
    return pid if running == program.resolve() else None


async def stop_orphan(pid: int, first: signal.Signals, timeout_s: float) -> None:
    """Stop a server left by a crashed run (we hold the lock, so no live run owns it)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, first)
        with trio.move_on_after(timeout_s):
            # Not our child: no exit event to wait on, so poll (init reaps it).
            while _alive(pid):  # noqa: ASYNC110
                await trio.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _open_log(path: Path) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "ab")


async def spawn(argv: Sequence[str], log_path: Path, **options: Any) -> trio.Process:
    """Start ``argv`` in its own session, appending its output to ``log_path``."""
    log = _open_log(log_path)  # the child gets its own copy of the descriptor
    try:
        return await trio.lowlevel.open_process(
            list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, **options,
        )
    except OSError as exc:
        raise EmbeddedServerError(f"cannot run {argv[0]}: {exc}") from None
    finally:
        log.close()


async def stop(process: trio.Process, sig: signal.Signals, timeout_s: float) -> None:
    """Ask the server to stop with ``sig``; kill it if it has not exited within ``timeout_s``.

    Shielded: it runs as the worker is being cancelled, and must not leave the server behind.
    """
    with trio.CancelScope(shield=True):
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(sig)
            with trio.move_on_after(timeout_s):
                await process.wait()
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()


def _address_in_use(log_path: Path) -> bool:
    tail = log_tail(log_path, 5).lower()
    return "address already in use" in tail or "could not bind" in tail


Probe = Callable[[trio.Process, int], Awaitable[bool]]


async def _until_ready(process: trio.Process, port: int, probe: Probe, timeout_s: float) -> bool | None:
    """True once ``probe`` says so, False if the server exited first, None if the time ran out."""
    with trio.move_on_after(timeout_s):
        while process.poll() is None:
            with trio.move_on_after(2.0):  # one probe of a hung server must not eat the deadline
                if await probe(process, port):
                    return True
            await trio.sleep(0.05)
        return False
    return None


async def start_server(
    what: str,
    command: Callable[[int], Sequence[str]],
    probe: Probe,
    log: Path,
    *,
    host: str,
    port: int | None,
    stop_signal: signal.Signals,
    start_timeout_s: float,
    stop_timeout_s: float,
    **options: Any,
) -> tuple[trio.Process, int]:
    """Run ``command(port)`` until ``probe`` says it serves; return the process and its port.

    With no ``port`` a free one is chosen, and chosen again if another process took it first.
    """
    for attempt in range(PORT_ATTEMPTS):
        chosen = port or free_port(host)
        process = await spawn(command(chosen), log, **options)
        try:
            ready = await _until_ready(process, chosen, probe, start_timeout_s)
        except BaseException:
            await stop(process, stop_signal, stop_timeout_s)
            raise
        if ready:
            return process, chosen
        await stop(process, stop_signal, stop_timeout_s)
        if ready is None:
            raise EmbeddedServerError(f"the embedded {what} was not ready within {start_timeout_s:g}s; "
                                      f"its log {log} ends: {log_tail(log)}")
        if port is None and attempt + 1 < PORT_ATTEMPTS and _address_in_use(log):
            continue
        raise EmbeddedServerError(f"the embedded {what} exited at start (code {process.returncode}); "
                                  f"its log {log} ends: {log_tail(log)}")
    raise AssertionError("unreachable")


def as_user(name: str | None) -> dict[str, Any]:
    """Popen options that run the child as ``name`` (only root can ask for that)."""
    if name is None:
        return {}
    return {"user": name, "group": _group_of(name), "extra_groups": []}


def _group_of(user: str) -> int:
    return pwd.getpwnam(user).pw_gid


def unreachable(path: Path, user: str) -> Path | None:
    """The first directory on the way to ``path`` that ``user`` cannot enter, or None."""
    entry = pwd.getpwnam(user)
    for parent in reversed(path.resolve().parents):
        mode = parent.stat()
        if mode.st_uid == entry.pw_uid:
            ok = bool(mode.st_mode & stat.S_IXUSR)
        elif mode.st_gid == entry.pw_gid:
            ok = bool(mode.st_mode & stat.S_IXGRP)
        else:
            ok = bool(mode.st_mode & stat.S_IXOTH)
        if not ok:
            return parent
    return None


def user_ids(user: str) -> tuple[int, int]:
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def chown_tree(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        for name in (root, *(os.path.join(root, d) for d in dirs), *(os.path.join(root, f) for f in files)):
            os.chown(name, entry.pw_uid, entry.pw_gid)
