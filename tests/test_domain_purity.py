"""The domain packages do no network, database or wall-clock I/O: an import and call scan."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "clearance"

# Third-party and clearance imports each domain package may use (architecture.md's table).
ALLOWED: dict[str, set[str]] = {
    "framework": {"pydantic", "yaml", "rfc8785", "clearance.errors", "clearance.framework"},
    "ledger": {"cryptography", "rfc8785", "clearance.errors", "clearance.ledger"},
    "register": {"pydantic", "clearance.errors", "clearance.framework", "clearance.register"},
    "policy": {
        "cedarpy",
        "rfc8785",
        "clearance.errors",
        "clearance.framework",
        "clearance.register",
        "clearance.policy",
    },
}
FORBIDDEN_STDLIB = {
    "socket", "ssl", "http", "urllib", "ftplib", "smtplib", "asyncio", "selectors",
    "sqlite3", "dbm", "shelve", "time", "subprocess", "multiprocessing", "threading",
}  # fmt: skip
WALL_CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter"}


def modules(package: str) -> list[Path]:
    return sorted((PACKAGE / package).rglob("*.py"))


def imported(tree: ast.AST) -> list[tuple[int, str]]:
    names: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append((node.lineno, node.module))
    return names


def allowed(name: str, package: str) -> bool:
    top = name.split(".")[0]
    if top in sys.stdlib_module_names:
        return top not in FORBIDDEN_STDLIB
    return any(name == ok or name.startswith(ok + ".") for ok in ALLOWED[package])


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_domain_package_imports_no_io(package: str) -> None:
    offences = [
        f"{path.relative_to(PACKAGE)}:{line}: imports {name}"
        for path in modules(package)
        for line, name in imported(ast.parse(path.read_text()))
        if not allowed(name, package)
    ]
    assert not offences, "\n".join(offences)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_domain_package_reads_no_wall_clock(package: str) -> None:
    offences = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}: calls .{node.func.attr}()"
        for path in modules(package)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in WALL_CLOCK_CALLS
    ]
    assert not offences, "\n".join(offences)


def test_scan_catches_an_offence(tmp_path: Path) -> None:
    """The scan itself must be able to fail: a module that imports sqlite3 and reads the clock."""
    tree = ast.parse("import sqlite3\nfrom datetime import datetime\nx = datetime.now()\n")
    names = [name for _, name in imported(tree)]
    assert not allowed(names[0], "framework")
    assert allowed(names[1], "framework")
    assert not allowed("aiohttp.client", "ledger")
    assert not allowed("clearance.store", "register")
    calls = [
        n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    ]
    assert calls and calls[0].func.attr in WALL_CLOCK_CALLS  # type: ignore[attr-defined]
