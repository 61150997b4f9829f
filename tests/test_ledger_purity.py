"""The ledger stays pure: no I/O modules, no wall clock, only the libraries it is allowed."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import clearance.ledger

PACKAGE = Path(clearance.ledger.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))
ALLOWED_THIRD_PARTY = {"cryptography", "rfc8785"}
ALLOWED_CLEARANCE = {"clearance.errors", "clearance.ledger"}
IO_STDLIB = {
    "asyncio", "http", "io", "os", "pathlib", "random", "shutil", "socket", "sqlite3",
    "subprocess", "sys", "tempfile", "threading", "time", "urllib",
}  # fmt: skip
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter"}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_ledger_imports_only_what_it_may(path: Path) -> None:
    for name in imported_modules(path):
        top = name.split(".")[0]
        if top == "clearance":
            assert any(name == a or name.startswith(a + ".") for a in ALLOWED_CLEARANCE), name
        elif top in sys.stdlib_module_names:
            assert top not in IO_STDLIB, f"{path.name} imports {name}, an I/O or clock module"
        else:
            assert top in ALLOWED_THIRD_PARTY, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_ledger_reads_no_clock_and_opens_no_files(path: Path) -> None:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            assert name not in CLOCK_CALLS | {"open"}, f"{path.name} calls {name}()"


def test_every_public_name_has_a_docstring() -> None:
    for name in clearance.ledger.__all__:
        value = getattr(clearance.ledger, name)
        if callable(value) and not isinstance(value, str):
            assert (value.__doc__ or "").strip(), f"{name} has no docstring"
