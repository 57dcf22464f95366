"""Settings: every variable parsed, defaults derived, and each bad value refused in one clear line."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.paper.settings import VenueSettings
from hexexec.config import Settings, SettingsError, load_settings

KEYS = {"API_KEY": "key-AAAA1111", "API_SECRET": "secret-BBBB2222"}


def load(**env: str) -> Settings:
    return load_settings(env, env_file=None)


def refusal(**env: str) -> str:
    with pytest.raises(SettingsError) as caught:
        load(**env)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_every_setting_is_read() -> None:
    env = {
        **KEYS,
        "REDIS_URL": "redis://cache:6380/2",
        "DATABASE_URL": "postgresql://bot:pw@db:5433/bot_db",
        "SYMBOLS": "BTC_JPY, ETH_JPY,BTC",
        "MAX_POSITION_SIZE": "0.07",
        "MAX_DRAWDOWN_PCT": "7.5",
        "MAX_CONSECUTIVE_LOSSES": "4",
        "EXCHANGE_NAME": "gmo",
        "REST_BASE_URL": "http://127.0.0.1:8080/",
        "LOG_LEVEL": "debug",
        "TRADING_MODE": "LIVE",
        "SIGNAL_STREAMS": "signal:gmo,signal:extra:*",
        "CONSUMER_GROUP": "exec-b",
        "CONSUMER_NAME": "exec-b-2",
        "MAX_DELIVERIES": "9",
        "ORDER_TIMEOUT_S": "45",
        "MAX_SIGNAL_AGE_S": "12.5",
        "DRAWDOWN_WINDOW_DAYS": "14",
        "LOSS_COOLDOWN_MIN": "90",
        "MAX_ORDER_NOTIONAL": "250000",
        "MAX_ORDERS_PER_MIN": "30",
        "RATE_LIMIT_GET_PER_S": "6",
        "RATE_LIMIT_POST_PER_S": "7",
        "METRICS_PORT": "9100",
        "MAX_POSITION_SIZE_BY_SYMBOL": "BTC_JPY:0.01,ETH_JPY:2",
        "BASE_EQUITY": "3000000",
        "PRICE_BAND_PCT": "3",
        "POLL_INTERVAL_S": "0.5",
        "HTTP_TIMEOUT_S": "4",
        "REDIS_TIMEOUT_S": "3",
        "DB_STATEMENT_TIMEOUT_S": "8",
        "DATA_DIR": "/srv/hexexec",
        "PAPER_LATENCY_MS": "40",
        "PAPER_SLIPPAGE_BPS": "2.5",
    }
    s = load(**env)
    assert (s.redis_url, s.database_url) == (env["REDIS_URL"], env["DATABASE_URL"])
    assert s.symbols == ("BTC_JPY", "ETH_JPY", "BTC")
    assert s.max_position_size == Decimal("0.07") and isinstance(s.max_position_size, Decimal)
    assert (s.max_drawdown_pct, s.max_consecutive_losses) == (Decimal("7.5"), 4)
    assert s.rest_base_url == "http://127.0.0.1:8080"  # the adapter appends /private, /public
    assert s.api_key is not None and s.api_key.get_secret_value() == KEYS["API_KEY"]
    assert s.api_secret is not None and s.api_secret.get_secret_value() == KEYS["API_SECRET"]
    assert (s.log_level, s.trading_mode, s.live) == ("DEBUG", "live", True)
    assert s.signal_streams == ("signal:gmo", "signal:extra:*")
    assert (s.consumer_group, s.consumer_name, s.max_deliveries) == ("exec-b", "exec-b-2", 9)
    assert (s.rate_limit_get_per_s, s.rate_limit_post_per_s, s.metrics_port) == (6, 7, 9100)
    assert (s.poll_interval_s, s.http_timeout_s, s.redis_timeout_s, s.db_statement_timeout_s) == (
        0.5, 4, 3, 8)
    assert s.data_dir == Path("/srv/hexexec")
    assert (s.paper_latency_ms, s.paper_slippage_bps) == (40, Decimal("2.5"))

    limits = s.risk_limits()
    assert limits.max_position_for("BTC_JPY") == Decimal("0.01")
    assert limits.max_position_for("ETH_JPY") == Decimal("2")
    assert limits.max_position_for("BTC") == Decimal("0.07")
    assert limits.drawdown_window == timedelta(days=14)
    assert limits.loss_cooldown == timedelta(minutes=90)
    assert (limits.max_order_notional, limits.max_orders_per_min) == (Decimal("250000"), 30)
    assert (limits.price_band_pct, limits.base_equity) == (Decimal("3"), Decimal("3000000"))

    opts = s.engine_options()
    assert opts.limits == limits
    assert opts.symbols == frozenset({"BTC_JPY", "ETH_JPY", "BTC"})
    assert (opts.max_signal_age, opts.order_timeout) == (timedelta(seconds=12.5), timedelta(seconds=45))
    assert (opts.max_deliveries, opts.poll_interval_s) == (9, 0.5)


def test_defaults() -> None:
    s = load()
    assert s.redis_url is None and s.database_url is None  # embedded servers
    assert s.trading_mode == "paper" and not s.live  # no API key
    assert s.signal_streams == ("signal:gmo",)
    assert (s.consumer_group, s.consumer_name) == ("execution", "execution-1")
    assert (s.rate_limit_get_per_s, s.rate_limit_post_per_s) == (20, 20)
    assert s.symbols == ("BTC_JPY",) and s.max_position_size == Decimal("0.05")
    assert s.data_dir == Path("var")
    assert s.risk_limits().max_order_notional is None


def test_derived_defaults_follow_other_settings() -> None:
    assert load(EXCHANGE_NAME="gmo2").signal_streams == ("signal:gmo2",)
    assert load(**KEYS).trading_mode == "live"  # keys and no mode: live
    assert load(**KEYS, TRADING_MODE="paper").trading_mode == "paper"
    assert load(REDIS_URL="", DATABASE_URL="").redis_url is None  # empty means unset


def test_paper_venue_settings_build_the_paper_venue() -> None:
    s = load(PAPER_SLIPPAGE_BPS="1.5", PAPER_JPY_BALANCE="500000", PAPER_CANCEL_DELAY_S="0.2",
             PAPER_PRICE_SOURCE="ticker", PAPER_MAX_FILL_FRACTION="0.5")
    venue = VenueSettings(**s.paper_venue_settings())
    assert (venue.slippage_bps, venue.jpy_balance) == (Decimal("1.5"), Decimal("500000"))
    assert venue.cancel_delay == timedelta(seconds=0.2) and venue.max_fill_fraction == Decimal("0.5")
    assert venue.follow_order_prices is False
    assert VenueSettings(**load().paper_venue_settings()).follow_order_prices is True


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"MAX_POSITION_SIZE": "abc"}, "MAX_POSITION_SIZE: not a number: 'abc'"),
        ({"MAX_POSITION_SIZE": "-0.1"}, "MAX_POSITION_SIZE: must be greater than 0: '-0.1'"),
        ({"MAX_POSITION_SIZE": "NaN"}, "MAX_POSITION_SIZE: not a finite number: 'NaN'"),
        ({"MAX_DRAWDOWN_PCT": "150"}, "MAX_DRAWDOWN_PCT: must be at most 100: '150'"),
        ({"MAX_CONSECUTIVE_LOSSES": "2.5"}, "MAX_CONSECUTIVE_LOSSES: not a whole number: '2.5'"),
        ({"MAX_CONSECUTIVE_LOSSES": "0"}, "MAX_CONSECUTIVE_LOSSES: must be at least 1: '0'"),
        ({"MAX_ORDER_NOTIONAL": "-5"}, "MAX_ORDER_NOTIONAL: must be greater than 0: '-5'"),
        ({"ORDER_TIMEOUT_S": "inf"}, "ORDER_TIMEOUT_S: not a finite number: 'inf'"),
        ({"METRICS_PORT": "70000"}, "METRICS_PORT: must be at most 65535: '70000'"),
        ({"TRADING_MODE": "demo"}, "TRADING_MODE: must be 'live' or 'paper': 'demo'"),
        ({"TRADING_MODE": "live"}, "TRADING_MODE: live trading needs API_KEY and API_SECRET"),
        ({"SYMBOLS": "BTC_JPY,,ETH_JPY"}, "SYMBOLS: empty item in the comma-separated list"),
        ({"SYMBOLS": "btc_jpy"}, "SYMBOLS: not a symbol such as BTC_JPY or BTC: 'btc_jpy'"),
        ({"SYMBOLS": "BTC_JPY,BTC_JPY"}, "SYMBOLS: listed twice: 'BTC_JPY'"),
        ({"MAX_POSITION_SIZE_BY_SYMBOL": "ETH_JPY:1"}, "MAX_POSITION_SIZE_BY_SYMBOL: not in SYMBOLS"),
        ({"MAX_POSITION_SIZE_BY_SYMBOL": "BTC_JPY=1"}, "MAX_POSITION_SIZE_BY_SYMBOL: expected SYMBOL:size"),
        ({"MAX_POSITION_SIZE_BY_SYMBOL": "BTC_JPY:0"}, "MAX_POSITION_SIZE_BY_SYMBOL: must be a positive"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL: not a log level"),
        ({"REDIS_URL": "http://cache:6379"}, "REDIS_URL: must start with redis:// or rediss://"),
        ({"REST_BASE_URL": "api.coin.z.com"}, "REST_BASE_URL: must start with http:// or https://"),
        ({"CONSUMER_NAME": "exec 1"}, "CONSUMER_NAME: not a plain name"),
        ({"PAPER_PRICE_SOURCE": "dice"}, "PAPER_PRICE_SOURCE: must be 'signals' or 'ticker': 'dice'"),
        ({"PAPER_FILL_ON_TOUCH": "maybe"}, "PAPER_FILL_ON_TOUCH: not a boolean"),
    ],
)
def test_each_bad_setting_is_one_line_naming_it(env: dict[str, str], expected: str) -> None:
    assert refusal(**env).startswith(expected)


def test_several_bad_settings_are_all_named_on_one_line() -> None:
    message = refusal(MAX_POSITION_SIZE="abc", MAX_DELIVERIES="zero")
    assert "MAX_POSITION_SIZE: not a number" in message and "MAX_DELIVERIES: not a whole number" in message


def test_the_secrets_never_show() -> None:
    s = load(**KEYS, DATABASE_URL="postgresql://bot:hunter2@db/bot?password=hunter3")
    for text in (repr(s), str(s)):
        assert KEYS["API_KEY"] not in text and KEYS["API_SECRET"] not in text
        assert "hunter2" not in text and "hunter3" not in text
    # An error about a secret, or about a URL holding a password, does not echo it either.
    message = refusal(API_KEY="key-AAAA1111", TRADING_MODE="live")
    assert "AAAA1111" not in message
    message = refusal(REDIS_URL="http://user:hunter2@cache:6379", API_SECRET="secret-BBBB2222")
    assert "hunter2" not in message and "BBBB2222" not in message and message.startswith("REDIS_URL")


def test_environment_and_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SYMBOLS=ETH_JPY\nMAX_POSITION_SIZE=0.3\nMAX_DELIVERIES=7\n")
    monkeypatch.setenv("MAX_DELIVERIES", "8")  # the environment wins over the file
    monkeypatch.setenv("SIGNAL_STREAMS", "signal:*")  # comma lists read from the real environment
    s = load_settings(env_file=env_file)
    assert (s.symbols, s.max_position_size, s.max_deliveries) == (("ETH_JPY",), Decimal("0.3"), 8)
    assert s.signal_streams == ("signal:*",)
    monkeypatch.setenv("MAX_POSITION_SIZE", "lots")
    with pytest.raises(SettingsError, match=r"^MAX_POSITION_SIZE: not a number: 'lots'$"):
        load_settings(env_file=env_file)


def test_a_given_mapping_ignores_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_POSITION_SIZE", "not-a-number")
    assert load().max_position_size == Decimal("0.05")


@given(st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("1e6"), places=8))
def test_money_is_exact_decimal(size: Decimal) -> None:
    s = load(MAX_POSITION_SIZE=str(size), MAX_ORDER_NOTIONAL=str(size * 1000))
    assert s.max_position_size == size and s.max_order_notional == size * 1000
    assert isinstance(s.risk_limits().max_position_size, Decimal)


EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_env_example_names_every_setting_with_its_true_default() -> None:
    names = {line.split("=", 1)[0] for line in EXAMPLE.read_text().splitlines()
             if line and not line.startswith("#")}
    assert names == {name.upper() for name in Settings.model_fields}
    assert load_settings({}, env_file=EXAMPLE) == load()
