"""Each bad setting stops `hexexec run` with one clear line naming it and a non-zero exit — no
traceback (real processes, the settings as an operator would get them wrong)."""

from __future__ import annotations

import pytest

from tests.integration.cli.worker import environment, fresh_data_dir, hexexec, remove


@pytest.fixture
def data_dir():
    path = fresh_data_dir()
    yield path
    remove(path)


@pytest.mark.parametrize(("settings", "expected"), [
    ({"MAX_POSITION_SIZE": "abc"}, "MAX_POSITION_SIZE: not a number"),
    ({"ORDER_TIMEOUT_S": "soon"}, "ORDER_TIMEOUT_S"),
    ({"TRADING_MODE": "yolo"}, "TRADING_MODE: must be 'live' or 'paper'"),
    ({"TRADING_MODE": "live"}, "TRADING_MODE: live trading needs API_KEY and API_SECRET"),
    ({"REDIS_URL": "redis://:hunter2@127.0.0.1:1/0",
      "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test"},
     "REDIS_URL: cannot reach redis://:[redacted]@127.0.0.1:1/0"),
    ({"REDIS_URL": "redis://127.0.0.1:6379/0",
      "DATABASE_URL": "postgresql://postgres:hunter2@127.0.0.1:1/test"},
     "DATABASE_URL: cannot reach postgresql://postgres:[redacted]@127.0.0.1:1/test"),
])
def test_a_bad_setting_is_one_line_and_a_non_zero_exit(data_dir, redis_url, database_url,
                                                        settings, expected):
    done = hexexec(data_dir, environment(data_dir, **settings), "run", check=False)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "hunter2" not in done.stderr + done.stdout
