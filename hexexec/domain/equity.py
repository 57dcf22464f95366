"""Equity and drawdown over a window (DESIGN §4), from recorded equity points."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from hexexec.domain.accounting import ZERO, Position


@dataclass(frozen=True, slots=True)
class EquityPoint:
    at: datetime
    equity: Decimal


def equity(
    base_equity: Decimal, positions: Iterable[Position], marks: Mapping[str, Decimal]
) -> Decimal:
    """Base equity + realized PnL after fees + unrealized PnL at the latest known prices.

    A position whose symbol has no known price counts at its average price (no unrealized PnL).
    """
    total = base_equity
    for p in positions:
        total += p.realized_pnl + p.unrealized(marks.get(p.symbol))
    return total


def drawdown_pct(points: Iterable[EquityPoint], current: Decimal) -> Decimal:
    """(peak − current) / peak × 100 over the given points plus the current equity; 0 at a peak."""
    return drawdown_from_peak(max((p.equity for p in points), default=None), current)


def drawdown_from_peak(recorded_peak: Decimal | None, current: Decimal) -> Decimal:
    """(peak − current) / peak × 100, the peak being the highest of the recorded peak (None when
    nothing was recorded) and the current equity; 0 at a peak."""
    peak = current if recorded_peak is None else max(recorded_peak, current)
    if peak <= 0:
        return Decimal("100") if current < peak else ZERO
    return (peak - current) / peak * 100
