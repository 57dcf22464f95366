"""Apply ``schema.sql`` at start-up: idempotent, one worker at a time, version checked.

The file migrates any older database (down to the seed's three tables) to the current version
and records it in ``schema_version``. It runs in one transaction holding an advisory lock, so
workers starting together apply it one after the other and never see half of it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import psycopg
from psycopg import sql

SCHEMA_VERSION = 3  # the version schema.sql brings a database to
# The repository's top-level schema.sql; an installed wheel carries it in <prefix>/share/hexexec.
_CANDIDATES = (Path(__file__).resolve().parents[2] / "schema.sql",
               Path(sys.prefix) / "share" / "hexexec" / "schema.sql")
SCHEMA_FILE = next((p for p in _CANDIDATES if p.is_file()), _CANDIDATES[0])
# Schemas are named by configuration (and per test); keep them to plain identifiers.
SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class SchemaError(RuntimeError):
    """The database's schema cannot be used by this build."""


def check_schema_name(name: str) -> str:
    if not SCHEMA_NAME.fullmatch(name):
        raise ValueError(f"schema name {name!r} is not a plain lower-case identifier")
    return name


def load_schema(path: Path | None = None) -> str:
    path = path or SCHEMA_FILE
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaError(f"cannot read the schema file {path}: {exc.strerror}") from None


def apply_schema(conn: psycopg.Connection[object], text: str, schema: str | None) -> int:
    """Bring the database (or ``schema`` in it, created if missing) to the current version.

    Blocking: run it on a worker thread. Returns the version now recorded.
    """
    with conn.transaction():
        # One lock for the whole database: CREATE SCHEMA IF NOT EXISTS is not safe against a
        # concurrent twin, and two workers migrating at once would collide.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('hexexec:schema'))")
        if schema is not None:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(text.encode())  # a script: no parameters, so '%' is never a placeholder
        row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    version = row[0] if row else None  # type: ignore[index]
    if version != SCHEMA_VERSION:
        raise SchemaError(
            f"the database is at schema version {version}; this build knows {SCHEMA_VERSION} "
            "(refusing to run on a schema it does not know)"
        )
    return int(version)
