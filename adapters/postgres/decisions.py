"""Risk decisions on PostgreSQL (ports.store.DecisionRepository), table ``risk_decisions``.

Every rule that ran is kept with its verdict and inputs in ``results`` (JSONB), and the names of
the rules that said no in ``rejected_by``, so "why did it (not) trade" is one query. A decision
belongs to a stored signal (foreign key on (stream, message id)).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from adapters.postgres.adaptation import utc
from hexexec.domain.records import DecisionRecord
from hexexec.domain.risk import RuleResult
from hexexec.domain.signal import MessageRef

if TYPE_CHECKING:
    from adapters.postgres.unit_of_work import PostgresUnitOfWork

INSERT = (
    "INSERT INTO risk_decisions "
    "(stream, message_id, approved, rejected_by, results, client_order_id, decided_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
SELECT = (
    "SELECT approved, results, client_order_id, decided_at FROM risk_decisions "
    "WHERE stream = %s AND message_id = %s ORDER BY id"
)


def results_json(results: Sequence[RuleResult]) -> Jsonb:
    return Jsonb([
        {"rule": r.rule, "passed": r.passed, "detail": r.detail, "inputs": dict(r.inputs)}
        for r in results
    ])


def results_from_json(items: list[dict[str, Any]]) -> tuple[RuleResult, ...]:
    return tuple(
        RuleResult(i["rule"], i["passed"], i["detail"], dict(i["inputs"])) for i in items
    )


def _params(decision: DecisionRecord) -> tuple[Any, ...]:
    ref = decision.source
    return (ref.stream, ref.message_id, decision.approved, list(decision.rejected_by),
            results_json(decision.results), decision.client_order_id, decision.decided_at)


class PostgresDecisionRepository:
    def __init__(self, uow: PostgresUnitOfWork) -> None:
        self._uow = uow

    async def add(self, decision: DecisionRecord) -> None:
        await self._uow.execute_later(INSERT, _params(decision))

    async def add_many(self, decisions: Sequence[DecisionRecord]) -> None:
        if decisions:
            await self._uow.executemany_later(INSERT, [_params(d) for d in decisions])

    async def for_signal(self, ref: MessageRef) -> Sequence[DecisionRecord]:
        """The signal's decisions in the order they were stored."""
        rows = await self._uow.fetchall(SELECT, (ref.stream, ref.message_id))
        return [
            DecisionRecord(ref, r["approved"], results_from_json(r["results"]),
                           utc(r["decided_at"]), r["client_order_id"])
            for r in rows
        ]
