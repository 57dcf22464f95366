"""Leverage positions with GMO-style ids, rebuilt from the venue's fills.

The venue keeps one book per (symbol, side) and knows nothing of position ids. GMO opens one
position per opening execution; this simulator reports **one position per side**: a side's
position gets a new id when it opens from flat, keeps it while it grows or shrinks, and the id dies
when the side is flat again. So ``openPositions`` lists at most a BUY and a SELL position per
symbol, and every leverage fill carries the id of the position it opened or closed.

The arithmetic mirrors the venue's ledger (weighted average on opens, the average kept on closes),
so sizes and prices agree with it exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from hexexec.domain.fills import Fill
from hexexec.domain.orders import SettleType, Side

ZERO = Decimal("0")


@dataclass(slots=True)
class SimPosition:
    """One side of a leverage symbol, as ``openPositions`` reports it."""

    position_id: int
    symbol: str
    side: Side
    size: Decimal
    price: Decimal  # average entry
    opened_at: datetime


class PositionBook:
    """Positions per (symbol, side) and the position id of every leverage fill seen."""

    def __init__(self, is_leverage: Callable[[str], bool], first_id: int = 1) -> None:
        self._is_leverage = is_leverage
        self._next_id = first_id
        self._open: dict[tuple[str, Side], SimPosition] = {}
        self._fill_position: dict[str, int] = {}  # execution id -> position id
        self._fills: dict[str, Fill] = {}  # execution id -> fill, every symbol
        self.seen = 0  # fills applied so far, in the venue's execution order
        self.realized = ZERO  # leverage lossGain realized so far (before fees)
        self.leverage_fees = ZERO  # fees of leverage fills (spot fees move the JPY balance)

    def sync(self, all_fills: Callable[[], Sequence[Fill]]) -> None:
        """Apply the fills the venue made since the last sync."""
        fills = all_fills()
        for fill in fills[self.seen :]:
            self._apply(fill)
        self.seen = len(fills)

    def knows(self, fill: Fill) -> bool:
        return fill.execution_id in self._fills

    def fill(self, execution_id: str) -> Fill | None:
        return self._fills.get(execution_id)

    def position_of(self, fill: Fill) -> int | None:
        """The position a leverage fill opened or closed (None for spot)."""
        return self._fill_position.get(fill.execution_id)

    def get(self, position_id: int) -> SimPosition | None:
        return next((p for p in self._open.values() if p.position_id == position_id), None)

    def open_positions(self, symbol: str | None = None) -> Iterator[SimPosition]:
        """Open positions, oldest first (one symbol, or all)."""
        live = (p for p in self._open.values() if symbol is None or p.symbol == symbol)
        yield from sorted(live, key=lambda p: p.position_id)

    def _apply(self, fill: Fill) -> None:
        self._fills[fill.execution_id] = fill
        if not self._is_leverage(fill.symbol):
            return
        self.leverage_fees += fill.fee
        self.realized += fill.loss_gain or ZERO
        if fill.settle_type is SettleType.OPEN:
            key = (fill.symbol, fill.side)
            position = self._open.get(key)
            if position is None:
                position = SimPosition(
                    self._next_id, fill.symbol, fill.side, ZERO, ZERO, fill.timestamp
                )
                self._next_id += 1
                self._open[key] = position
            total = position.size + fill.size
            position.price = (position.price * position.size + fill.price * fill.size) / total
            position.size = total
        else:
            key = (fill.symbol, fill.side.opposite)
            position = self._open[key]  # the venue never closes more than a side holds
            position.size -= fill.size
            if position.size == 0:
                del self._open[key]
        self._fill_position[fill.execution_id] = position.position_id
