# hexexec tasks. `just --list` shows them all.
set dotenv-load := false

venv := ".venv"
py := venv + "/bin/python"

# Create the virtual environment and install hexexec with its dev tools (idempotent).
install:
    test -x {{py}} || python3 -m venv {{venv}}
    {{py}} -m pip install -q --upgrade pip
    {{py}} -m pip install -q -e '.[dev]'

# Run every test (unit, service, contract, integration against the local Redis and PostgreSQL).
test *args: install
    {{py}} -m pytest {{args}}

# Lint and type-check.
lint: install
    {{py}} -m ruff check .
    {{py}} -m mypy
