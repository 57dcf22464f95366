"""Decide: signals into decisions, one transaction per batch read (DESIGN §3 step 1).

Inside one transaction that holds the lock of every symbol in the batch: find which entries are
already stored — those are redeliveries and nothing else happens for them — then, entry by
entry in stream order, run the risk rules on the stored position, open orders and risk state
(plus what the entries before it in the batch decided), and store every signal, decision and
PENDING order. The caller acknowledges the entries only after this commits, so a batch cut
anywhere is redelivered whole and decided again harmlessly.

Deciding a batch in one transaction is the same as deciding its entries one after another: the
books the rules read change only by what deciding does (new PENDING orders, the order count, a
breaker that trips), and the batch carries those forward itself (see ``books.py``).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from hexexec.domain.order_status import OrderStatus
from hexexec.domain.orders import Order, client_order_id_for
from hexexec.domain.records import DecisionRecord, SignalRecord, SignalStatus
from hexexec.domain.signal import InboundMessage, Signal
from hexexec.domain.signal_parsing import InvalidSignal, parse_signal
from hexexec.services.books import Books, judge, load_books
from hexexec.services.engine import Engine

log = logging.getLogger("hexexec.decide")


class Outcome(enum.Enum):
    ACCEPTED = "accepted"  # a PENDING order was stored: hand it to submit
    REJECTED = "rejected"  # a rule said no
    INVALID = "invalid"  # bad input: dead-letter it
    EXPIRED = "expired"  # too old to trade
    REDELIVERY = "redelivery"  # decided earlier: acknowledge (or dead-letter again if INVALID)


@dataclass(frozen=True)
class Decided:
    outcome: Outcome
    reason: str | None = None
    client_order_id: str | None = None
    symbol: str | None = None
    previous: SignalStatus | None = None  # for a redelivery: what was decided the first time
    rules: tuple[str, ...] = ()


@dataclass
class _Writes:
    signals: list[SignalRecord]
    decisions: list[DecisionRecord]
    orders: list[Order]


async def decide(engine: Engine, message: InboundMessage) -> Decided:
    """Decide one entry and commit the decision. Safe to call again for the same entry."""
    return (await decide_batch(engine, [message]))[0]


async def decide_batch(engine: Engine, messages: Sequence[InboundMessage]) -> list[Decided]:
    """Decide every entry of a batch in one transaction and commit; one result per entry, in
    order. Safe to call again for any of them."""
    if not messages:
        return []
    parsed = [_parse(engine, m) for m in messages]
    signals = [p for p in parsed if isinstance(p, Signal)]
    # Prices are read before the transaction: the symbol locks are held for store work only.
    marks = await _marks(engine) if signals else {}
    locks = {engine.symbol_lock(s.symbol) for s in signals}
    results: list[Decided] = []
    async with engine.store.transaction(locks=locks) as uow:
        now = engine.clock.now()
        refs = [m.ref for m in messages]
        books: Books | None = None
        if signals:
            found, books = await load_books(engine, uow, refs, signals, marks, now)
            stored = dict(found)
        else:
            stored = dict(await uow.signals.get_many(refs))
        fresh = [s for s in signals if s.source not in stored]
        books = books if fresh else None
        writes = _Writes([], [], [])
        for message, item in zip(messages, parsed, strict=True):
            if message.ref in stored:
                results.append(_redelivery(stored[message.ref]))
                continue
            record, decided = _decide_one(engine, message, item, books, writes, now)
            stored[message.ref] = record  # the same entry twice in a batch: a redelivery
            writes.signals.append(record)
            results.append(decided)
        await uow.signals.add_many(writes.signals)
        await uow.decisions.add_many(writes.decisions)
        await uow.orders.add_many(writes.orders)
        if books is not None and books.tripped is not None:
            await uow.risk.set_state(books.tripped)
    _log(messages, results, books)
    return results


def _parse(engine: Engine, message: InboundMessage) -> Signal | str:
    """The signal, or why the entry is invalid."""
    opts = engine.options
    try:
        signal = parse_signal(message.ref, dict(message.fields),
                              exchange_name=opts.exchange_name, symbols=opts.symbols)
    except InvalidSignal as bad:
        return bad.reason
    if message.deliveries > opts.max_deliveries:
        return f"delivered {message.deliveries} times (MAX_DELIVERIES={opts.max_deliveries})"
    return signal


def _decide_one(
    engine: Engine, message: InboundMessage, item: Signal | str, books: Books | None,
    writes: _Writes, now: datetime,
) -> tuple[SignalRecord, Decided]:
    def record(status: SignalStatus, reason: str | None, signal: Signal | None) -> SignalRecord:
        return SignalRecord(message.ref, message.fields, status, now, reason=reason,
                            signal=signal, deliveries=message.deliveries)

    if isinstance(item, str):
        return record(SignalStatus.INVALID, item, None), Decided(Outcome.INVALID, reason=item)
    signal = item
    max_age = engine.options.max_signal_age.total_seconds()
    if (age := signal.age_seconds(now)) > max_age:
        reason = f"signal is {age:.1f}s old (MAX_SIGNAL_AGE_S={max_age:g})"
        return record(SignalStatus.EXPIRED, reason, signal), Decided(Outcome.EXPIRED, reason=reason)
    assert books is not None  # loaded whenever a fresh signal is in the batch
    results, intent = judge(engine, books, signal, now)
    cid = client_order_id_for(message.ref) if intent is not None else None
    why_not = "; ".join(f"{r.rule}: {r.detail}" for r in results if not r.passed) or None
    writes.decisions.append(DecisionRecord(message.ref, cid is not None, results, now, cid))
    if intent is None or cid is None:
        return (record(SignalStatus.REJECTED, why_not, signal),
                Decided(Outcome.REJECTED, reason=why_not,
                        rules=tuple(r.rule for r in results if not r.passed)))
    order = Order(client_order_id=cid, source=message.ref, intent=intent,
                  status=OrderStatus.PENDING, created_at=now, updated_at=now,
                  signal_time=signal.timestamp)
    writes.orders.append(order)
    books.add_order(order)
    return (record(SignalStatus.ACCEPTED, None, signal),
            Decided(Outcome.ACCEPTED, client_order_id=cid, symbol=signal.symbol))


def _redelivery(existing: SignalRecord) -> Decided:
    return Decided(Outcome.REDELIVERY, reason=existing.reason, previous=existing.status)


async def _marks(engine: Engine) -> dict[str, Decimal]:
    marks: dict[str, Decimal] = {}
    for symbol in engine.options.symbols:
        price = await engine.market_data.last_price(symbol)
        if price is not None:
            marks[symbol] = price
    return marks


def _log(messages: Sequence[InboundMessage], results: Sequence[Decided], books: Books | None
         ) -> None:
    """After the commit: what was refused, and a breaker that tripped."""
    for message, decided in zip(messages, results, strict=True):
        where = {"stream": message.ref.stream, "message_id": message.ref.message_id,
                 "reason": decided.reason}
        if decided.outcome is Outcome.INVALID:
            log.warning("signal invalid", extra=where)
        elif decided.outcome is Outcome.REJECTED:
            log.info("signal rejected", extra=where)
    if books is not None and books.tripped is not None:
        log.warning("breaker tripped", extra={
            "state": books.tripped.state.value, "reason": books.tripped.reason})

