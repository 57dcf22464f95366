# hexexec tasks. `just --list` shows them all. Every recipe installs into .venv first (idempotent).
set dotenv-load := false

venv := ".venv"
py := venv + "/bin/python"

# Create the virtual environment and install hexexec with its dev tools.
install:
    test -x {{py}} || python3 -m venv {{venv}}
    {{py}} -m pip install -q --upgrade pip
    {{py}} -m pip install -q -e '.[dev]'

# Run the worker (paper + embedded Redis/PostgreSQL under ./var unless API_KEY/REDIS_URL/DATABASE_URL set).
run: install
    {{venv}}/bin/hexexec run

# Run the worker in paper mode whatever the keys say.
paper: install
    TRADING_MODE=paper {{venv}}/bin/hexexec run

# Run every test (unit, service, contract, integration against the local Redis and PostgreSQL).
test *args: install
    {{py}} -m pytest {{args}}

# Lint and type-check.
lint: install
    {{py}} -m ruff check .
    {{py}} -m mypy

# Print the end-to-end benchmark table (real Redis and PostgreSQL, the simulated GMO over HTTP).
bench *args: install
    {{py}} tests/bench/bench_e2e.py {{args}}

# Serve the simulated GMO Coin API (try `just sim-gmo --help`).
sim-gmo *args: install
    {{venv}}/bin/hexexec sim-gmo {{args}}
