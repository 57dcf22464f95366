"""FillRepository.for_symbol on every backend: all of a symbol's fills, in the order stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hexexec.domain.fills import Fill
from hexexec.domain.order_status import OrderStatus
from hexexec.domain.orders import Order, OrderIntent, SettleType, Side
from hexexec.domain.records import SignalRecord, SignalStatus
from hexexec.domain.signal import MessageRef, OrderType

T0 = datetime(2026, 1, 5, tzinfo=UTC)


async def test_fills_of_a_symbol_come_back_in_the_order_stored(store):
    async with store.transaction() as uow:
        for n, symbol in enumerate(["BTC_JPY", "ETH_JPY"]):
            ref = MessageRef("signal:gmo", f"{n + 1}-0")
            await uow.signals.add(SignalRecord(ref, ((b"k", b"v"),), SignalStatus.ACCEPTED, T0))
            intent = OrderIntent("gmo", symbol, Side.BUY, SettleType.OPEN, OrderType.MARKET,
                                 Decimal("1"), None, None)
            await uow.orders.add(Order(f"c{n}", ref, intent, OrderStatus.NEW, T0, T0, T0,
                                       order_id=f"v{n}"))
    # Stored out of time order (a late fill): the later-stored one comes later.
    times = [T0 + timedelta(seconds=s) for s in (5, 1, 3)]
    async with store.transaction() as uow:
        for i, at in enumerate(times):
            await uow.fills.add(Fill(f"e{i}", "v0", "gmo", "BTC_JPY", Side.BUY, SettleType.OPEN,
                                     Decimal("100"), Decimal("0.1"), Decimal("0"), at), "c0")
        await uow.fills.add(Fill("x", "v1", "gmo", "ETH_JPY", Side.BUY, SettleType.OPEN,
                                 Decimal("100"), Decimal("0.1"), Decimal("0"), T0), "c1")
    async with store.transaction() as uow:
        await uow.fills.add(Fill("e3", "v0", "gmo", "BTC_JPY", Side.BUY, SettleType.OPEN,
                                 Decimal("100"), Decimal("0.1"), Decimal("0"), T0), "c0")
        seen = [f.execution_id for f in await uow.fills.for_symbol("gmo", "BTC_JPY")]
    assert seen == ["e0", "e1", "e2", "e3"]
    async with store.transaction() as uow:
        assert [f.execution_id for f in await uow.fills.for_symbol("gmo", "ETH_JPY")] == ["x"]
        assert await uow.fills.for_symbol("gmo", "XRP_JPY") == []
