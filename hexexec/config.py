"""Settings (DESIGN §6): the environment and a ``.env`` file, checked once at start.

The seed's names are kept exactly (``REDIS_URL``, ``MAX_POSITION_SIZE`` …); each field below is read
from the variable of the same name in capitals. Money is Decimal, durations are seconds (``_S``),
minutes (``_MIN``) or days (``_DAYS``) as the name says. :func:`load_settings` turns any invalid
value into a :class:`SettingsError` whose message is one line naming the variable. ``API_KEY`` and
``API_SECRET`` are ``SecretStr``; URL passwords are masked in ``repr``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from hexexec.config_parsing import (
    NAME,
    check_streams,
    check_symbols,
    check_url,
    describe_errors,
    invalid,
    parse_symbol_map,
    split_list,
)
from hexexec.domain.risk import RiskLimits
from hexexec.logs import level_number, redact_text
from hexexec.services.engine import EngineOptions

Positive = Annotated[Decimal, Field(gt=0)]
Seconds = Annotated[float, Field(gt=0)]
SECRET_FIELDS = frozenset({"api_key", "api_secret"})
URL_FIELDS = frozenset({"redis_url", "database_url", "rest_base_url"})


class SettingsError(ValueError):
    """Invalid settings; ``str(error)`` is one line naming the variable(s), with no secret in it."""


class Settings(BaseSettings):
    """Every setting of the worker; see ``.env.example`` for each one's meaning and default."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False,
        env_ignore_empty=True, allow_inf_nan=False, frozen=True, hide_input_in_errors=True,
    )

    # The seed's settings.
    redis_url: str | None = None  # None: an embedded Redis under DATA_DIR
    database_url: str | None = None  # None: an embedded PostgreSQL under DATA_DIR
    symbols: Annotated[tuple[str, ...], NoDecode] = ("BTC_JPY",)
    max_position_size: Positive = Decimal("0.05")
    max_drawdown_pct: Annotated[Decimal, Field(gt=0, le=100)] = Decimal("5")
    max_consecutive_losses: Annotated[int, Field(ge=1)] = 5
    exchange_name: str = "gmo"
    rest_base_url: str = "https://api.coin.z.com"
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    log_level: str = "INFO"

    # DESIGN §6's settings.
    trading_mode: Literal["live", "paper"] | None = None  # None: live with an API key, else paper
    signal_streams: Annotated[tuple[str, ...], NoDecode] = ()  # empty: signal:<EXCHANGE_NAME>
    consumer_group: str = "execution"
    consumer_name: str = "execution-1"
    max_deliveries: Annotated[int, Field(ge=1)] = 5
    order_timeout_s: Seconds = 60.0
    max_signal_age_s: Seconds = 60.0
    drawdown_window_days: Seconds = 30.0
    loss_cooldown_min: Annotated[float, Field(ge=0)] = 60.0
    max_order_notional: Positive | None = None
    max_orders_per_min: Annotated[int, Field(ge=1)] | None = None
    rate_limit_get_per_s: Seconds = 20.0
    rate_limit_post_per_s: Seconds = 20.0
    metrics_port: Annotated[int, Field(ge=0, le=65535)] = 9464  # 0: any free port

    # Further risk settings.
    max_position_size_by_symbol: Annotated[dict[str, Decimal], NoDecode] = Field(default_factory=dict)
    base_equity: Positive = Decimal("1000000")
    price_band_pct: Positive | None = None
    drift_interval_s: Annotated[float, Field(ge=0)] = 60.0  # 0: no drift check
    drift_checks: Annotated[int, Field(ge=1)] = 3
    drift_tolerance: Annotated[Decimal, Field(ge=0)] = Decimal("0")

    # The engine's pace and patience.
    market_order_timeout_s: Seconds = 30.0
    poll_interval_s: Seconds = 1.0
    read_batch: Annotated[int, Field(ge=1)] = 50
    resolve_checks: Annotated[int, Field(ge=1)] = 3
    resolve_interval_s: Seconds = 2.0
    resolve_skew_s: Annotated[float, Field(ge=0)] = 5.0
    queue_size: Annotated[int, Field(ge=1)] = 100
    backoff_max_s: Seconds = 30.0
    shutdown_grace_s: Annotated[float, Field(ge=0)] = 5.0
    sweep_interval_s: Annotated[float, Field(ge=0)] = 15.0  # 0: no sweep of orphaned orders
    orphan_after_s: Seconds = 30.0

    # Timeouts and connections of the adapters.
    metrics_host: str = "127.0.0.1"
    http_timeout_s: Seconds = 10.0
    redis_timeout_s: Seconds = 5.0
    redis_block_ms: Annotated[int, Field(ge=1)] = 1000
    redis_claim_idle_s: Seconds = 60.0
    db_connect_timeout_s: Seconds = 5.0
    db_statement_timeout_s: Seconds = 10.0
    db_pool_size: Annotated[int, Field(ge=1)] = 10
    db_schema: str | None = None
    log_to_database: bool = True
    data_dir: Path = Path("./var")

    # The paper venue (TRADING_MODE=paper).
    paper_latency_ms: Annotated[float, Field(ge=0)] = 0.0
    paper_slippage_bps: Annotated[Decimal, Field(ge=0)] = Decimal("5")
    paper_max_fill_fraction: Annotated[Decimal, Field(gt=0, le=1)] = Decimal("1")
    paper_fill_on_touch: bool = False
    paper_jpy_balance: Annotated[Decimal, Field(ge=0)] | None = None  # None: unlimited
    paper_cancel_delay_s: Annotated[float, Field(ge=0)] | None = None
    paper_price_source: Literal["signals", "ticker"] = "signals"

    @field_validator("symbols", mode="before")
    @classmethod
    def _symbols(cls, value: Any) -> Any:
        return check_symbols(split_list(value)) if isinstance(value, str) else value

    @field_validator("signal_streams", mode="before")
    @classmethod
    def _streams(cls, value: Any) -> Any:
        return check_streams(split_list(value)) if isinstance(value, str) else value

    @field_validator("max_position_size_by_symbol", mode="before")
    @classmethod
    def _by_symbol(cls, value: Any) -> Any:
        return parse_symbol_map(value)

    @field_validator("trading_mode", "paper_price_source", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        try:
            level_number(value)
        except ValueError:
            raise invalid(f"not a log level (DEBUG, INFO, WARNING, ERROR): {value!r}") from None
        return value.strip().upper()

    @field_validator("exchange_name", "consumer_group", "consumer_name", "db_schema")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not NAME.fullmatch(value):
            raise invalid(f"not a plain name (letters, digits, _ . : -): {value!r}")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        return check_url(value, {"redis", "rediss", "unix"})

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        return check_url(value, {"postgresql", "postgres"})

    @field_validator("rest_base_url")
    @classmethod
    def _rest_url(cls, value: str) -> str:
        checked = check_url(value, {"http", "https"})
        return (checked or value).rstrip("/")

    @model_validator(mode="after")
    def _together(self) -> Settings:
        has_key = self.api_key is not None and self.api_key.get_secret_value() != ""
        has_secret = self.api_secret is not None and self.api_secret.get_secret_value() != ""
        mode = self.trading_mode or ("live" if has_key else "paper")
        if mode == "live" and not (has_key and has_secret):
            missing = " and ".join(n for n, ok in (("API_KEY", has_key), ("API_SECRET", has_secret))
                                   if not ok)
            raise invalid(f"TRADING_MODE: live trading needs {missing} (or set TRADING_MODE=paper)")
        unknown = sorted(set(self.max_position_size_by_symbol) - set(self.symbols))
        if unknown:
            raise invalid(f"MAX_POSITION_SIZE_BY_SYMBOL: not in SYMBOLS: {', '.join(unknown)}")
        # Frozen model: the derived defaults are written once, here, as validation ends.
        object.__setattr__(self, "trading_mode", mode)
        if not self.signal_streams:
            object.__setattr__(self, "signal_streams", (f"signal:{self.exchange_name}",))
        return self

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, (redact_text(value) if name in URL_FIELDS and isinstance(value, str) else value)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, dotenv_settings

    @property
    def live(self) -> bool:
        return self.trading_mode == "live"

    def risk_limits(self) -> RiskLimits:
        return RiskLimits(
            max_position_size=self.max_position_size,
            max_position_size_by_symbol=dict(self.max_position_size_by_symbol),
            max_drawdown_pct=self.max_drawdown_pct,
            drawdown_window=timedelta(days=self.drawdown_window_days),
            max_consecutive_losses=self.max_consecutive_losses,
            loss_cooldown=timedelta(minutes=self.loss_cooldown_min),
            max_order_notional=self.max_order_notional,
            max_orders_per_min=self.max_orders_per_min,
            price_band_pct=self.price_band_pct,
            base_equity=self.base_equity,
        )

    def engine_options(self) -> EngineOptions:
        return EngineOptions(
            exchange_name=self.exchange_name,
            symbols=frozenset(self.symbols),
            limits=self.risk_limits(),
            max_signal_age=timedelta(seconds=self.max_signal_age_s),
            order_timeout=timedelta(seconds=self.order_timeout_s),
            market_order_timeout=timedelta(seconds=self.market_order_timeout_s),
            poll_interval_s=self.poll_interval_s,
            read_batch=self.read_batch,
            max_deliveries=self.max_deliveries,
            resolve_checks=self.resolve_checks,
            resolve_interval_s=self.resolve_interval_s,
            resolve_skew=timedelta(seconds=self.resolve_skew_s),
            queue_size=self.queue_size,
            backoff_max_s=self.backoff_max_s,
            shutdown_grace_s=self.shutdown_grace_s,
            drift_interval_s=self.drift_interval_s,
            drift_checks=self.drift_checks,
            drift_tolerance=self.drift_tolerance,
            sweep_interval_s=self.sweep_interval_s,
            orphan_after=timedelta(seconds=self.orphan_after_s),
        )

    def paper_venue_settings(self) -> dict[str, Any]:
        """Keyword arguments of ``adapters.paper.settings.VenueSettings`` (config imports no adapter)."""
        return {
            "exchange": self.exchange_name,
            "slippage_bps": self.paper_slippage_bps,
            "max_fill_fraction": self.paper_max_fill_fraction,
            "fill_on_touch": self.paper_fill_on_touch,
            "jpy_balance": self.paper_jpy_balance,
            "follow_order_prices": self.paper_price_source == "signals",
            "cancel_delay": (None if self.paper_cancel_delay_s is None
                             else timedelta(seconds=self.paper_cancel_delay_s)),
        }


class _MappingSettings(Settings):
    """Settings read from a given mapping (and an optional file) instead of the process environment."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, dotenv_settings

    def __repr_name__(self) -> str:
        return "Settings"


def load_settings(env: Mapping[str, str] | None = None, *, env_file: str | Path | None = ".env") -> Settings:
    """The settings from ``env`` (default: the process environment) over ``env_file``.

    Raises :class:`SettingsError` (one line, naming the variable) when a value is invalid.
    """
    try:
        if env is None:
            return Settings(_env_file=env_file)  # type: ignore[call-arg]
        fields = set(Settings.model_fields)
        given: dict[str, Any] = {k.lower(): v for k, v in env.items() if k.lower() in fields and v != ""}
        return _MappingSettings(_env_file=env_file, **given)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise SettingsError(describe_errors(exc, SECRET_FIELDS)) from None
