"""The ``hexexec`` command: run the worker, look at it, steer it.

Every command reads the same settings (environment and ``.env``); an invalid setting stops it
with one line naming the variable. Commands that need Redis or PostgreSQL use the configured
URLs, the running worker's embedded servers, or start the embedded servers for their duration.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import trio

from hexexec.config import Settings, SettingsError, load_settings

EPILOG = "Settings come from the environment and .env; see README.md for the table."


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hexexec", description="Execution worker of a crypto trading "
                                "bot: Redis Streams signals in, GMO Coin orders out.", epilog=EPILOG)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="run the worker until SIGINT/SIGTERM", epilog=EPILOG,
                   description="Run the worker. With no REDIS_URL/DATABASE_URL it starts embedded "
                   "servers under DATA_DIR; with no API key it trades on paper.")
    status = sub.add_parser("status", help="trading state, positions, open orders, PnL, lag",
                            epilog=EPILOG)
    status.add_argument("--json", action="store_true", help="print JSON instead of tables")
    for name, what in (("halt", "stop all new orders, exits included, until resumed"),
                       ("resume", "trade again; breakers restart their count from now")):
        cmd = sub.add_parser(name, help=what, description=what.capitalize() + ".", epilog=EPILOG)
        cmd.add_argument("--reason", required=True, help="why (kept with the state)")
        cmd.add_argument("--by", default="operator", help="who (default: operator)")
    sig = sub.add_parser("signal", help="publish a signal by hand", epilog=EPILOG,
                         description="Publish one signal on the first signal stream.")
    sig.add_argument("action", choices=["enter_long", "exit_long", "enter_short", "exit_short"])
    sig.add_argument("symbol", help="e.g. BTC_JPY (leverage) or BTC (spot)")
    sig.add_argument("--size", help="base-asset quantity (required for entries)")
    sig.add_argument("--price", help="limit price (price_ref); omit with --market")
    sig.add_argument("--market", action="store_true", help="a MARKET order")
    sig.add_argument("--tif", choices=["FAS", "FAK", "FOK", "SOK"], help="time in force")
    sig.add_argument("--strategy", help="free text kept for audit")
    sig.add_argument("--stream", help="stream to publish on (default: the first SIGNAL_STREAMS)")
    dlq = sub.add_parser("dlq", help="list or replay dead letters", epilog=EPILOG)
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True, metavar="ACTION")
    ls = dlq_sub.add_parser("list", help="list dead letters with their reasons")
    ls.add_argument("--stream", help="source stream (default: the first SIGNAL_STREAMS)")
    ls.add_argument("--count", type=int, default=50)
    rp = dlq_sub.add_parser("replay", help="publish a dead letter again as a new entry")
    rp.add_argument("id", help="the dead letter's id (from `hexexec dlq list`)")
    rp.add_argument("--stream", help="source stream (default: the first SIGNAL_STREAMS)")
    sub.add_parser("sim-gmo", help="serve the simulated GMO Coin API (see sim-gmo --help)",
                   add_help=False)
    return p


def _stream(settings: Settings, given: str | None) -> str:
    if given:
        return given
    for stream in settings.signal_streams:
        if not any(ch in stream for ch in "*?["):
            return stream
    return f"signal:{settings.exchange_name}"


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["sim-gmo"]:
        from adapters.paper.http.cli import main_sim_gmo

        return main_sim_gmo(args_list[1:])
    args = _parser().parse_args(args_list)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"hexexec: {exc}", file=sys.stderr)
        return 2
    try:
        return trio.run(_dispatch, settings, args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line for the user; the log has the details
        print(f"hexexec {args.command}: {_one_line(exc)}", file=sys.stderr)
        return 1


def _one_line(exc: BaseException) -> str:
    """The root cause in one line: task groups unwrapped, our own start-up errors as they are."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    from hexexec.bootstrap import StartupError
    from hexexec.services.worker import StartupError as EngineStartupError

    text = " ".join(str(exc).split())
    if isinstance(exc, StartupError | EngineStartupError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def _dispatch(settings: Settings, args: argparse.Namespace) -> int:
    from hexexec import bootstrap

    if args.command == "run":
        await bootstrap.run_worker(settings)
        return 0
    from hexexec.logs import configure_logging

    configure_logging("WARNING", stream=sys.stderr)  # a tool's output is its answer on stdout
    async with bootstrap.service_endpoints(settings) as urls:
        if args.command == "status":
            return await _status(settings, urls, as_json=args.json)
        if args.command in ("halt", "resume"):
            return await _set_state(settings, urls.database_url, args)
        if args.command == "signal":
            return _publish(settings, urls.redis_url, args)
        if args.command == "dlq":
            return _dlq(settings, urls.redis_url, args)
    raise AssertionError(args.command)


async def _set_state(settings: Settings, database_url: str, args: argparse.Namespace) -> int:
    from adapters.system.clock import SystemClock
    from hexexec import bootstrap
    from hexexec.services import operations

    async with bootstrap.open_store(settings, database_url) as store:
        change = operations.halt if args.command == "halt" else operations.resume
        state = await change(store, SystemClock(), reason=args.reason, by=args.by)
    print(f"trading state: {state.state.value} ({state.reason}, by {state.set_by})")
    return 0


def _publish(settings: Settings, redis_url: str, args: argparse.Namespace) -> int:
    import redis

    fields: dict[str, str] = {
        "exchange": settings.exchange_name, "symbol": args.symbol, "action": args.action}
    if args.size:
        fields["size"] = args.size
    if args.market:
        fields["order_type"] = "MARKET"
    elif args.price:
        fields["price_ref"] = args.price
    if args.tif:
        fields["time_in_force"] = args.tif
    if args.strategy:
        fields["strategy"] = args.strategy
    fields["timestamp"] = datetime.now(UTC).isoformat()
    client: Any = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        message_id = bytes(client.xadd(_stream(settings, args.stream), dict(fields))).decode()
    finally:
        client.close()
    print(f"published {message_id} on {_stream(settings, args.stream)}: {json.dumps(fields)}")
    return 0


def _dlq(settings: Settings, redis_url: str, args: argparse.Namespace) -> int:
    from adapters.redis_streams.inspect import dead_letters, replay_dead_letter

    stream = _stream(settings, args.stream)
    if args.dlq_command == "replay":
        print(f"replayed {args.id} as {replay_dead_letter(redis_url, stream, args.id)} on {stream}")
        return 0
    entries = dead_letters(redis_url, stream, args.count)
    if not entries:
        print(f"no dead letters on {stream}:dlq")
    for entry_id, fields in entries:
        text = {k.decode(errors="replace"): v.decode(errors="replace") for k, v in fields.items()}
        reason = text.pop("reason", "")
        print(f"{entry_id}  {reason}\n    {json.dumps(text, ensure_ascii=False)}")
    return 0


async def _status(settings: Settings, urls: Any, *, as_json: bool) -> int:
    from adapters.postgres.reports import read_status
    from adapters.redis_streams.inspect import stream_status

    now = datetime.now(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    report = await trio.to_thread.run_sync(lambda: read_status(
        urls.database_url, exchange=settings.exchange_name, since=day, schema=settings.db_schema))
    patterns = list(settings.signal_streams) or [f"signal:{settings.exchange_name}"]
    streams = await trio.to_thread.run_sync(
        lambda: stream_status(urls.redis_url, patterns, settings.consumer_group))
    data = {
        "mode": "live" if settings.live else "paper",
        "worker": await trio.to_thread.run_sync(_worker_state, settings),
        "trading_state": report.state,
        "positions": report.positions,
        "open_orders": report.open_orders,
        "realized_pnl_today": report.realized_today,
        "signals_today": report.signals_today,
        "orders_today": report.orders_today,
        "streams": [s.__dict__ for s in streams],
    }
    if as_json:
        print(json.dumps(data, default=_json_default, indent=2))
    else:
        print(_render(data))
    return 0


def _worker_state(settings: Settings) -> dict[str, Any]:
    """Is a worker running on this DATA_DIR, is it ready, does the venue answer (from /metrics)?"""
    import httpx

    from hexexec.endpoints import running_worker

    worker = running_worker(settings)
    if worker is None:
        return {"running": False}
    state: dict[str, Any] = {"running": True, "pid": worker["pid"]}
    url = f"http://{worker['metrics_host']}:{worker['metrics_port']}/metrics"
    try:
        text = httpx.get(url, timeout=3).text
    except httpx.HTTPError as exc:
        state["metrics_error"] = str(exc)
        return state
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == "hexexec_ready":
            state["ready"] = float(value) == 1
        elif name == "hexexec_venue_unavailable":
            state["venue_available"] = float(value) == 0
    return state


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    if not rows:
        return "  (none)"
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  " + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _render(data: dict[str, Any]) -> str:
    state = data["trading_state"]
    pnl = data["realized_pnl_today"]
    worker = data["worker"]
    if not worker["running"]:
        running = "not running"
    else:
        venue = {True: "venue answers", False: "VENUE UNAVAILABLE (maintenance or rate limit)",
                 None: "venue unknown"}[worker.get("venue_available")]
        ready = "ready" if worker.get("ready") else "NOT READY"
        running = f"running (pid {worker['pid']}), {ready}, {venue}"
    return "\n".join([
        f"mode: {data['mode']}    worker: {running}",
        f"trading state: {state['state']} ({state['reason']},"
        f" set by {state['set_by'] or '-'} at {_cell(state['set_at'])})",
        "", "positions:",
        _table(data["positions"], ["symbol", "side", "size", "average_price", "realized_pnl",
                                   "fees"]),
        "", "open orders:",
        _table(data["open_orders"], ["client_order_id", "order_id", "symbol", "side",
                                     "order_type", "price", "size", "filled_size", "status"]),
        "", "realized PnL today (after fees): "
        + (", ".join(f"{s} {_cell(v)}" for s, v in pnl.items()) or "0"),
        "signals today: " + (", ".join(f"{k} {v}" for k, v in
                                       sorted(data["signals_today"].items())) or "none"),
        "", "streams:",
        _table(data["streams"], ["stream", "length", "lag", "pending", "dead_letters"]),
    ])


if __name__ == "__main__":
    sys.exit(main())
