"""Embedded servers for a bare machine (DESIGN §6): with no ``REDIS_URL`` / ``DATABASE_URL``, the
worker starts its own Redis and PostgreSQL, from wheels of the package registry, with their data
under ``DATA_DIR`` (``./var/redis``, ``./var/postgres``) kept across restarts.

    async with embedded_postgres(data_dir) as database_url, embedded_redis(data_dir) as redis_url:
        ...
"""

from adapters.embedded.postgres import embedded_postgres
from adapters.embedded.process import EmbeddedServerError
from adapters.embedded.redis import embedded_redis

__all__ = ["EmbeddedServerError", "embedded_postgres", "embedded_redis"]
