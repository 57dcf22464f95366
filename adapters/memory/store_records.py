"""The memory store's signal, decision, position and risk repositories (ports.store).

Like the order repositories: reads merge committed rows with this transaction's writes, every
method starts with a trio checkpoint, and writes keep the database's rules (a signal once per
(stream, message id); a decision only for a stored signal).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from adapters.memory.rows import normalized
from adapters.memory.store_tables import IntegrityError, Repository
from hexexec.domain.accounting import ClosedTrip, Position
from hexexec.domain.equity import EquityPoint
from hexexec.domain.records import DecisionRecord, SignalRecord, SignalStatus
from hexexec.domain.signal import MessageRef
from hexexec.domain.trading_state import RiskState


class _Repository(Repository):
    def _signal(self, ref: MessageRef) -> SignalRecord | None:
        return self._c.signals.get(ref) or self._t.signals.get(ref)


class MemorySignalRepository(_Repository):
    async def add(self, record: SignalRecord) -> bool:
        await self._begin()
        if record.deliveries < 1:
            raise IntegrityError("a signal is delivered at least once")
        if self._signal(record.source) is not None:
            return False
        self._c.signals[record.source] = normalized(record)
        return True

    async def get(self, ref: MessageRef) -> SignalRecord | None:
        await self._begin()
        return self._signal(ref)

    async def add_many(self, records: Sequence[SignalRecord]) -> None:
        for record in records:
            await self.add(record)

    async def get_many(self, refs: Sequence[MessageRef]) -> Mapping[MessageRef, SignalRecord]:
        await self._begin()
        return {ref: found for ref in refs if (found := self._signal(ref)) is not None}

    async def set_status(self, ref: MessageRef, status: SignalStatus, reason: str | None) -> None:
        await self._begin()
        record = self._signal(ref)
        if record is None:
            raise LookupError(f"no signal {ref.stream}/{ref.message_id}")
        self._c.signals[ref] = replace(record, status=status, reason=reason)


class MemoryDecisionRepository(_Repository):
    async def add(self, decision: DecisionRecord) -> None:
        await self._begin()
        if self._signal(decision.source) is None:
            raise IntegrityError(
                f"decision for unknown signal {decision.source.stream}/{decision.source.message_id}")
        self._c.decisions.append(normalized(decision))

    async def add_many(self, decisions: Sequence[DecisionRecord]) -> None:
        for decision in decisions:
            await self.add(decision)

    async def for_signal(self, ref: MessageRef) -> Sequence[DecisionRecord]:
        """The signal's decisions in the order they were stored."""
        await self._begin()
        committed = self._t.decisions_by_signal.get(ref, [])
        return [*committed, *(d for d in self._c.decisions if d.source == ref)]


class MemoryPositionRepository(_Repository):
    async def get(self, exchange: str, symbol: str) -> Position:
        await self._begin()
        key = (exchange, symbol)
        found = self._c.positions.get(key) or self._t.positions.get(key)
        return found if found is not None else Position(exchange, symbol)

    async def put(self, position: Position) -> None:
        await self._begin()
        self._c.positions[(position.exchange, position.symbol)] = normalized(position)

    async def all(self) -> Sequence[Position]:
        """Every stored position, by (exchange, symbol)."""
        await self._begin()
        merged = {**self._t.positions, **self._c.positions}
        return [merged[k] for k in sorted(merged)]


class MemoryRiskRepository(_Repository):
    async def state(self) -> RiskState:
        await self._begin()
        if self._c.risk_states:
            return self._c.risk_states[-1]
        return self._t.risk_states[-1] if self._t.risk_states else RiskState()

    async def set_state(self, state: RiskState) -> None:
        await self._begin()
        self._c.risk_states.append(normalized(state))

    async def add_equity_point(self, point: EquityPoint) -> None:
        await self._begin()
        self._c.equity.append(normalized(point))

    async def equity_points(self, since: datetime) -> Sequence[EquityPoint]:
        """Points at or after ``since``, oldest first (ties in insertion order)."""
        await self._begin()
        start = bisect.bisect_left(self._t.equity, since, key=lambda p: p.at)
        mine = [p for p in self._c.equity if p.at >= since]
        return sorted([*self._t.equity[start:], *mine], key=lambda p: p.at)

    async def peak(self, since: datetime) -> EquityPoint | None:
        """The point of highest equity at or after ``since``, the latest of equal ones (a scan:
        this store is for tests and demos)."""
        peak: EquityPoint | None = None
        for point in await self.equity_points(since):  # oldest first: ">=" keeps the latest
            if peak is None or point.equity >= peak.equity:
                peak = point
        return peak

    async def add_trip(self, trip: ClosedTrip) -> None:
        await self._begin()
        self._c.trips.append(normalized(trip))

    async def trips(self, since: datetime, limit: int | None = None) -> Sequence[ClosedTrip]:
        """Trips closed at or after ``since``, newest first (ties: the latest stored first)."""
        await self._begin()
        start = bisect.bisect_left(self._t.trips, since, key=lambda t: t.closed_at)
        mine = [t for t in self._c.trips if t.closed_at >= since]
        oldest_first = sorted([*self._t.trips[start:], *mine], key=lambda t: t.closed_at)
        return oldest_first[::-1][:limit]
