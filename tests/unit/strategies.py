"""Hypothesis strategies shared by the domain tests, and the hypothesis profiles.

Profiles: ``dev`` (the default: hypothesis' usual 100 examples, no per-example deadline because
this machine is shared and slow examples are not failures) and ``ci`` (more examples, still a
few seconds per test). Pick one with ``HYPOTHESIS_PROFILE=ci``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from hexexec.domain.fills import Fill
from hexexec.domain.orders import SettleType, Side
from hexexec.domain.symbols import SymbolRules

settings.register_profile("dev", deadline=None)
settings.register_profile(
    "ci", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

EXCHANGE = "gmo"
LEVERAGE = "BTC_JPY"
SPOT = "BTC"
SYMBOLS = frozenset({LEVERAGE, SPOT, "ETH_JPY", "XRP"})
T0 = datetime(2024, 1, 1, tzinfo=UTC)

# Step and tick sizes like GMO's (powers of ten) plus a few that are not (0.5, 0.005, 5).
STEPS = [Decimal(s) for s in ("0.0001", "0.001", "0.01", "0.1", "1", "0.5", "0.005", "5")]


def decimals_on_grid(step: Decimal, max_steps: int, min_steps: int = 1) -> st.SearchStrategy[Decimal]:
    """Positive multiples of ``step``: what a venue accepts as a size or a price."""
    return st.integers(min_steps, max_steps).map(lambda n: (n * step).normalize())


def loose_decimals(
    max_value: Decimal = Decimal("1000000"), places: int = 12
) -> st.SearchStrategy[Decimal]:
    """Positive decimals with many places: off-grid input as a strategy might send it."""
    return st.decimals(
        min_value=Decimal(10) ** -places,
        max_value=max_value,
        places=places,
        allow_nan=False,
        allow_infinity=False,
    )


def many_digit_decimals() -> st.SearchStrategy[Decimal]:
    """Positive decimals with up to 38 significant digits (more than Decimal's 28 of precision)."""
    return st.builds(
        lambda digits, exp: Decimal(int(digits)).scaleb(exp),
        st.text("0123456789", min_size=1, max_size=38).filter(lambda d: int(d) > 0),
        st.integers(-40, 5),
    ).filter(lambda d: d < Decimal(10) ** 12)


@st.composite
def symbol_rules(draw: st.DrawFn, symbol: str | None = None) -> SymbolRules:
    """Valid rules: steps and ticks from STEPS, min a few steps, max well above it."""
    step = draw(st.sampled_from(STEPS))
    tick = draw(st.sampled_from(STEPS))
    min_size = step * draw(st.integers(1, 10))
    max_size = min_size + step * draw(st.integers(0, 100000))
    return SymbolRules(
        symbol or draw(st.sampled_from(sorted(SYMBOLS))), min_size, max_size, step, tick
    )


def times(start: datetime = T0, days: int = 30) -> st.SearchStrategy[datetime]:
    """Timezone-aware UTC instants in [start, start + days], to the millisecond."""
    return st.integers(0, days * 86_400_000).map(lambda ms: start + timedelta(milliseconds=ms))


SIDES = st.sampled_from(list(Side))
# Signed fees: positive is paid, negative is a maker rebate.
FEES = st.integers(-500, 2000).map(lambda n: Decimal(n) / 100)
FILL_SIZES = decimals_on_grid(Decimal("0.0001"), 50_000)  # up to 5 BTC
FILL_PRICES = decimals_on_grid(Decimal("0.5"), 40_000_000, min_steps=2_000_000)  # 1e6–2e7 JPY


@st.composite
def fill_lists(draw: st.DrawFn, max_size: int = 25, symbol: str = LEVERAGE) -> list[Fill]:
    """Fills of one symbol in time order, random sides, sizes, prices and signed fees."""
    n = draw(st.integers(0, max_size))
    fills: list[Fill] = []
    at = T0
    for i in range(n):
        at += timedelta(seconds=draw(st.integers(1, 3600)))
        fills.append(
            Fill(
                execution_id=f"e{i}",
                order_id=f"o{i}",
                exchange=EXCHANGE,
                symbol=symbol,
                side=draw(SIDES),
                settle_type=draw(st.sampled_from(list(SettleType))),
                price=draw(FILL_PRICES),
                size=draw(FILL_SIZES),
                fee=draw(FEES),
                timestamp=at,
            )
        )
    return fills
