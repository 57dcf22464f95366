"""Failures that say "not now" rather than "never", and the domain error they become.

A lost or refused connection, a server shutting down, a statement or lock timeout, a deadlock or
serialization failure (all OperationalError), a connection already closed (InterfaceError), no
connection free in time (PoolTimeout): the services run the unit of work again
(hexexec/services/store_retry.py). Units of work (store.py) and leases (leases.py) share this.
"""

from __future__ import annotations

import psycopg
from psycopg_pool import PoolTimeout

from hexexec.domain.errors import StoreUnavailable

TRANSIENT = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout)


def unavailable(where: str, exc: BaseException) -> StoreUnavailable:
    """The domain error for a transient failure: where it happened, the error's class and the
    first line of its message (connection errors name host and port, never a password)."""
    text = str(exc).strip()
    first_line = text.splitlines()[0] if text else ""
    return StoreUnavailable(f"PostgreSQL {where}: {type(exc).__name__}: {first_line}"[:300])
