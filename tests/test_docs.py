"""Docs that cannot go stale: every framework field and CLI command is documented."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import typer.main
from pydantic import BaseModel

from clearance.cli import app
from clearance.framework import Framework

ROOT = Path(__file__).resolve().parents[1]


def field_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Dotted paths of every field, with [] for list items (domains[].levels[].id)."""
    paths: set[str] = set()
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        paths.add(path)
        annotation = info.annotation
        sequence = typing.get_origin(annotation) in (tuple, list)
        pending = list(typing.get_args(annotation) or (annotation,))
        while pending:
            item = pending.pop()
            if isinstance(item, type) and issubclass(item, BaseModel):
                paths |= field_paths(item, path + ("[]." if sequence else "."))
            else:
                pending.extend(typing.get_args(item))
    return paths


def test_every_framework_field_is_documented() -> None:
    text = (ROOT / "docs" / "framework.md").read_text()
    missing = sorted(p for p in field_paths(Framework) if f"`{p}`" not in text)
    assert not missing, f"docs/framework.md lacks: {', '.join(missing)}"


def commands(group: Any, prefix: str = "clearance") -> set[str]:
    # Typer may carry its own copy of click, so groups are recognised by their `commands`
    found: set[str] = set()
    for name, command in group.commands.items():
        full = f"{prefix} {name}"
        if hasattr(command, "commands"):
            found |= commands(command, full)
        else:
            found.add(full)
    return found


def test_every_cli_command_is_documented() -> None:
    group = typer.main.get_command(app)
    text = (ROOT / "README.md").read_text() + (ROOT / "docs" / "cli.md").read_text()
    missing = sorted(c for c in commands(group) if f"`{c}" not in text)
    assert not missing, f"README.md and docs/cli.md lack: {', '.join(missing)}"


def test_the_command_walk_finds_subcommands() -> None:
    found = commands(typer.main.get_command(app))
    assert {"clearance assess", "clearance framework check", "clearance init"} <= found


def test_the_field_walk_finds_nested_fields() -> None:
    paths = field_paths(Framework)
    assert "domains[].levels[].max_tier_if_safeguards_missing" in paths
    assert "procedure.directive.sunset_days" in paths
    assert "metrics[].source.reducer" in paths


def test_the_api_reference_is_current() -> None:
    import runpy

    generate = runpy.run_path(str(ROOT / "scripts" / "make_api_docs.py"))["generate"]
    assert (ROOT / "docs" / "api.md").read_text() == generate(), (
        "docs/api.md is stale: run python scripts/make_api_docs.py"
    )


def test_the_readme_links_nothing_outside_the_repository() -> None:
    """A clone (or an offline reader) can follow every link; no address of the outside world."""
    import re

    text = (ROOT / "README.md").read_text()
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost)", text)
    targets = re.findall(r"\]\(([^)]+)\)", text) + re.findall(r"^\[[^\]]+\]:\s*(\S+)", text, re.M)
    assert targets
    for target in targets:
        path = target.split("#", 1)[0]
        assert path and not re.match(r"[a-z][a-z0-9+.-]*:", path), target
        assert (ROOT / path).exists(), f"README links {target}, which is not in the repository"
