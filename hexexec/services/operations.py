"""Operator actions on the persisted trading state (``hexexec halt`` / ``hexexec resume``)."""

from __future__ import annotations

import logging

from hexexec.domain.trading_state import RiskState
from ports.clock import Clock
from ports.store import Store

log = logging.getLogger("hexexec.operations")


async def halt(store: Store, clock: Clock, *, reason: str, by: str) -> RiskState:
    """HALTED: nothing new is sent (exits included) until resumed. Survives restarts."""
    async with store.transaction() as uow:
        state = (await uow.risk.state()).halted(reason, by, clock.now())
        await uow.risk.set_state(state)
    log.warning("trading halted", extra={"reason": reason, "by": by})
    return state


async def resume(store: Store, clock: Clock, *, reason: str, by: str) -> RiskState:
    """ACTIVE again. Breakers restart their count from now: the drawdown peak and the loss streak
    before the resume no longer count, so a resume really releases them."""
    async with store.transaction() as uow:
        state = (await uow.risk.state()).resumed(reason, by, clock.now())
        await uow.risk.set_state(state)
    log.warning("trading resumed", extra={"reason": reason, "by": by})
    return state
