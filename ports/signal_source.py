"""SignalSource: where signals come from (a consumer group, or memory in tests)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from hexexec.domain.signal import InboundMessage, MessageRef


class SignalSource(Protocol):
    """A queue with at-least-once delivery.

    An entry read and not acknowledged is delivered again: to this consumer after a restart (its
    own pending entries come first), or to another one once it has been idle too long.
    """

    async def read(self, max_count: int) -> Sequence[InboundMessage]:
        """Up to ``max_count`` entries: this consumer's pending ones first, then new ones.

        Blocks until at least one entry is there or the source's block timeout passes (then it
        returns an empty list). Cancellable at any point without losing an entry.
        """
        ...

    async def ack(self, refs: Sequence[MessageRef]) -> None:
        """Mark entries done. Acknowledging an unknown or already acknowledged entry is a no-op."""
        ...

    async def dead_letter(self, message: InboundMessage, reason: str) -> None:
        """Copy the entry, with ``reason``, to ``<stream>:dlq`` and acknowledge it, atomically."""
        ...
