"""Drift check (DESIGN §5): compare our positions with the venue's, periodically.

A difference right after a fill is normal (the venue knows before our next poll), so a drift counts
only when it has lasted for ``drift_checks`` checks in a row. It is logged and reported as a metric;
past ``drift_tolerance`` the trading state trips to REDUCING. Leverage symbols only: a spot
"position" on the venue is the whole account balance, which may hold coins we never traded.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from functools import partial

import trio

from hexexec.domain.errors import BrokerError, StoreUnavailable
from hexexec.domain.symbols import is_leverage
from hexexec.domain.trading_state import TradingState
from hexexec.services.engine import Engine
from hexexec.services.store_retry import retry_store

log = logging.getLogger("hexexec.drift")


async def check_drift(
    engine: Engine, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    """Ready at once; checks every ``drift_interval_s`` until cancelled (0 disables it)."""
    opts = engine.options
    task_status.started()
    if opts.drift_interval_s <= 0:
        return
    streak: dict[str, int] = {}
    while True:
        await trio.sleep(opts.drift_interval_s)
        try:
            drifts = await measure_drift(engine)
        except (BrokerError, StoreUnavailable) as exc:
            log.warning("drift check skipped", extra={"error": str(exc)})
            continue
        for symbol, drift in drifts.items():
            engine.metrics.position_drift(symbol, float(drift))
            streak[symbol] = streak.get(symbol, 0) + 1 if drift != 0 else 0
            if streak[symbol] >= opts.drift_checks:
                await retry_store(engine, "drift", partial(_report, engine, symbol, drift))


async def measure_drift(engine: Engine) -> dict[str, Decimal]:
    """Ours minus the venue's net quantity, per configured leverage symbol."""
    venue = {p.symbol: p.quantity for p in await engine.broker.positions()}
    async with engine.store.transaction() as uow:
        ours = {p.symbol: p.quantity for p in await uow.positions.all()
                if p.exchange == engine.options.exchange_name}
    return {s: ours.get(s, Decimal(0)) - venue.get(s, Decimal(0))
            for s in sorted(engine.options.symbols) if is_leverage(s)}


async def _report(engine: Engine, symbol: str, drift: Decimal) -> None:
    log.warning("position drift", extra={"symbol": symbol, "drift": str(drift)})
    if abs(drift) <= engine.options.drift_tolerance:
        return
    async with engine.store.transaction() as uow:
        state = await uow.risk.state()
        tripped = state.tripped(TradingState.REDUCING, f"position drift on {symbol}: {drift}",
                                engine.clock.now())
        if tripped != state:
            await uow.risk.set_state(tripped)
            log.error("position drift past tolerance: trading reduced", extra={
                "symbol": symbol, "drift": str(drift)})
