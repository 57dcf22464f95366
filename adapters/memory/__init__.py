"""In-memory adapters with the guarantees of the real ones (tests, the demo): Redis-like streams
with consumer groups (MemoryStreams) and the signal source over them (MemorySignalSource), a
serializable transactional store (MemoryStore), and settable market prices (MemoryMarketData).
"""

from adapters.memory.market_data import MemoryMarketData
from adapters.memory.signal_source import MemorySignalSource
from adapters.memory.store import MemoryStore, StoreSnapshot
from adapters.memory.store_tables import IntegrityError
from adapters.memory.streams import MemoryStreams, PendingInfo, StreamMessage

__all__ = [
    "IntegrityError",
    "MemoryMarketData",
    "MemorySignalSource",
    "MemoryStore",
    "MemoryStreams",
    "PendingInfo",
    "StoreSnapshot",
    "StreamMessage",
]
