"""DESIGN §2's import rules, enforced by reading every module's imports with ``ast``.

- ``hexexec/domain`` imports only the standard library and itself.
- ``hexexec/services`` imports only the domain, ``ports``, trio, itself and the standard library.
- ``ports`` imports only the domain, itself and the standard library.
- an adapter (``adapters/<name>/``) imports ``ports``, ``hexexec.domain``, its own package and
  third-party libraries: never another adapter, never anything else of ``hexexec``.
- nothing under ``hexexec/`` but ``bootstrap.py`` and ``cli.py`` imports ``adapters``.

Relative imports are resolved, and ``importlib.import_module("…")`` / ``__import__("…")`` with a
literal name count as imports, so neither is a way around the rules.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("hexexec", "ports", "adapters")
MAY_IMPORT_ADAPTERS = {"hexexec.bootstrap", "hexexec.cli"}


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def is_stdlib(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names


def imported_names(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, absolute name) for every import in ``source``, the module being ``module``.

    ``from x import y`` yields ``x.y`` (y is a submodule or something defined in x: either way
    it comes from x's package), so ``from adapters import paper`` is caught as ``adapters.paper``.
    """
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                origin = f"{base}.{node.module}" if node.module else base
            else:
                origin = node.module or ""
            found.extend((node.lineno, f"{origin}.{alias.name}") for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def rule_broken(module: str, name: str) -> str | None:
    """Which rule importing ``name`` from ``module`` breaks, or None."""
    if within(name, "__future__"):
        return None
    if within(module, "hexexec.domain"):
        if not (is_stdlib(name) or within(name, "hexexec.domain")):
            return "the domain imports only the standard library and itself"
    elif within(module, "hexexec.services"):
        allowed = ("hexexec.domain", "hexexec.services", "ports", "trio")
        if not (is_stdlib(name) or any(within(name, p) for p in allowed)):
            return "services import only the domain, ports, trio and the standard library"
    elif within(module, "ports"):
        if not (is_stdlib(name) or within(name, "hexexec.domain") or within(name, "ports")):
            return "ports import only the domain and the standard library"
    elif within(module, "adapters"):
        own = ".".join(module.split(".")[:2])
        if within(name, "adapters") and not within(name, own):
            return "an adapter never imports another adapter"
        if within(name, "hexexec") and not within(name, "hexexec.domain"):
            return "an adapter imports only the domain of hexexec (never services)"
    if (
        within(module, "hexexec")
        and module not in MAY_IMPORT_ADAPTERS
        and within(name, "adapters")
    ):
        return "only bootstrap.py and cli.py import adapters"
    return None


def check_source(source: str, module: str, is_package: bool = False) -> list[str]:
    return [
        f"{module}:{line} imports {name}: {broken}"
        for line, name in imported_names(source, module, is_package)
        if (broken := rule_broken(module, name)) is not None
    ]


def project_modules() -> list[tuple[Path, str, bool]]:
    modules = []
    for top in PACKAGES:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if is_package else parts)
            modules.append((path, name, is_package))
    return modules


def test_every_module_follows_the_import_rules() -> None:
    modules = project_modules()
    names = {name for _, name, _ in modules}
    # Not vacuous: the layers are really there and were all read.
    assert {"hexexec.domain.signal_parsing", "hexexec.domain.risk", "ports.store"} <= names
    assert any(within(n, "hexexec.services") for n in names)
    assert any(within(n, "adapters") and n.count(".") >= 2 for n in names)
    problems = [
        problem
        for path, name, is_package in modules
        for problem in check_source(path.read_text(encoding="utf-8"), name, is_package)
    ]
    assert problems == []


# ---------------------------------------------------------------- the checker checks itself


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("hexexec.domain.risk", "import trio"),
        ("hexexec.domain.risk", "from pydantic import BaseModel"),
        ("hexexec.domain.risk", "from hexexec.services.decide import decide"),
        ("hexexec.domain.risk", "from ports.store import Store"),
        ("hexexec.domain.risk", "from .. import config"),  # hexexec.config, relatively
        ("hexexec.services.decide", "import structlog"),
        ("hexexec.services.decide", "import trio_asyncio"),
        ("hexexec.services.decide", "from adapters.memory import MemoryStore"),
        ("hexexec.services.decide", "from hexexec import bootstrap"),
        ("hexexec.services.decide", "import importlib\nimportlib.import_module('adapters.gmo')"),
        ("ports.store", "import psycopg"),
        ("ports.store", "from hexexec.services.engine import Engine"),
        ("adapters.memory.store", "from adapters.paper.venue import PaperVenue"),
        ("adapters.memory.store", "from ..paper import venue"),
        ("adapters.memory.store", "from adapters import paper"),
        ("adapters.memory.store", "from hexexec.services.decide import decide"),
        ("adapters.memory.store", "import hexexec.config"),
        ("hexexec.config", "from adapters.gmo import GmoBroker"),
        ("hexexec.services.intake", "__import__('adapters.redis_streams')"),
    ],
)
def test_the_checker_catches_a_planted_violation(module: str, source: str) -> None:
    problems = check_source(source, module)
    assert len(problems) == 1 and module in problems[0]


@pytest.mark.parametrize(
    ("module", "lines", "is_package"),
    [
        ("hexexec.domain.risk", ["from __future__ import annotations", "import json, decimal"], False),
        ("hexexec.domain.risk", ["from hexexec.domain.orders import Side", "from . import equity"], False),
        ("hexexec.domain", ["from . import risk"], True),
        ("hexexec.services.decide", ["import trio", "from ports.store import S", "import logging"], False),
        ("hexexec.services.decide", ["from hexexec.services.x import E", "from .. import domain"], False),
        ("ports.store", ["from typing import Protocol", "from hexexec.domain.orders import Order"], False),
        ("adapters.memory.store", ["import trio, redis", "from ports.store import Store"], False),
        ("adapters.memory.store", ["from . import streams", "from adapters.memory.streams import X"], False),
        ("adapters.memory.store", ["from hexexec.domain import fills"], False),
        ("adapters.memory", ["from .store import MemoryStore"], True),
        ("hexexec.bootstrap", ["from adapters.memory import M", "from adapters.gmo import G"], False),
        ("hexexec.cli", ["import adapters.paper"], False),
    ],
)
def test_the_checker_allows_what_the_rules_allow(module: str, lines: list[str], is_package: bool) -> None:
    source = "\n".join(lines)
    assert imported_names(source, module, is_package)  # it did see the imports
    assert check_source(source, module, is_package) == []
