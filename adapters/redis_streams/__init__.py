"""Redis Streams adapter: the consumer-group signal source and its dead-letter streams.

redis-py's asyncio client runs inside trio through trio-asyncio (one loop, reused when another
adapter already opened one). Nothing connects at import time: see :meth:`RedisSignalSource.open`.
"""

from adapters.redis_streams.pending import DeadLetterRefused
from adapters.redis_streams.settings import RedisSourceSettings
from adapters.redis_streams.source import RedisSignalSource

__all__ = ["DeadLetterRefused", "RedisSignalSource", "RedisSourceSettings"]
