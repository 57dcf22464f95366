"""``main_sim_gmo``: the simulator as its own process, driven over HTTP; and its price walk."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import trio

from adapters.paper import PaperVenue
from adapters.paper.http import SimGmo
from adapters.paper.http.cli import build, main_sim_gmo, parser
from adapters.paper.http.feed import random_walk, walk_step

ROOT = Path(__file__).resolve().parents[3]
LAUNCH = "import sys; from adapters.paper.http.cli import main_sim_gmo; sys.exit(main_sim_gmo(sys.argv[1:]))"


def test_arguments_build_the_simulator_they_describe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIM_GMO_SECRET", "from-the-environment")
    args = parser().parse_args(
        ["--symbols", "BTC,ETH_JPY", "--price", "BTC=9000000", "--key", "k1", "--no-rate-limit",
         "--latency-ms", "25", "--follow-order-prices"]
    )
    sim = build(args)
    assert set(sim.rules) == {"BTC", "ETH_JPY"}
    assert sim.venue.market_price("BTC") == Decimal("9000000")
    assert sim.venue.market_price("ETH_JPY") is None
    assert dict(sim.settings.credentials) == {"k1": "from-the-environment"}
    assert sim.limiter.rates == {"GET": None, "POST": None}
    assert sim.latency_s == pytest.approx(0.025)
    assert sim.venue.settings.follow_order_prices


@pytest.mark.parametrize(
    "argv", [["--price", "BTC"], ["--price", "BTC=-1"], ["--symbols", "BTC", "--price", "ETH=1"], ["--bogus"]]
)
def test_bad_arguments_exit_with_2(argv: list[str]) -> None:
    assert main_sim_gmo(argv) == 2


async def test_the_simulator_runs_as_a_process_and_is_driven_over_http() -> None:
    command = [sys.executable, "-c", LAUNCH, "--port", "0", "--price", "BTC=10000000"]
    process = await trio.lowlevel.open_process(command, cwd=ROOT, stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = b""
        with trio.fail_after(30):
            while not line.endswith(b"\n"):
                chunk = await process.stdout.receive_some(1)
                assert chunk, "the simulator exited before listening"
                line += chunk
        url = line.decode().strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(base_url=url, timeout=5) as c:
            [ticker] = (await c.get("/public/v1/ticker")).json()["data"]
            assert ticker["last"] == "10000000"
            await c.post("/sim/maintenance", json={"on": True})
            assert (await c.get("/public/v1/status")).json()["data"] == {"status": "MAINTENANCE"}
        process.send_signal(signal.SIGINT)
        with trio.fail_after(10):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def test_a_walk_step_is_reproducible_and_stays_on_the_tick() -> None:
    rules = SimGmo(PaperVenue.for_symbols(["BTC"])).rules["BTC"]
    first, second = random.Random(7), random.Random(7)
    a = b = Decimal("10000000")
    for _ in range(200):
        a, b = walk_step(first, a, rules, 50), walk_step(second, b, rules, 50)
        assert a == b and a % rules.tick_size == 0 and a >= rules.tick_size
    assert walk_step(random.Random(1), Decimal("10000000"), rules, 0) == Decimal("10000000")


async def test_the_random_walk_moves_priced_symbols_step_by_step(autojump_clock: trio.abc.Clock) -> None:
    sim = SimGmo(PaperVenue.for_symbols(["BTC", "ETH", "XRP"]))
    sim.set_prices({"BTC": "10000000", "ETH": "400000"})  # XRP has no price: left alone
    async with trio.open_nursery() as nursery:
        await nursery.start(lambda task_status: random_walk(
            sim, seed=3, interval_s=1.0, step_bps=30, task_status=task_status
        ))
        await trio.sleep(5.5)  # five steps
        nursery.cancel_scope.cancel()
    replay = random.Random(3)
    expected = {"BTC": Decimal("10000000"), "ETH": Decimal("400000")}
    for _ in range(5):
        for symbol in ("BTC", "ETH"):
            expected[symbol] = walk_step(replay, expected[symbol], sim.rules[symbol], 30)
    assert {s: sim.venue.market_price(s) for s in ("BTC", "ETH", "XRP")} == {**expected, "XRP": None}
