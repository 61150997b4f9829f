"""`clearance framework check` and `clearance framework diff`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from clearance.cli._files import read_framework
from clearance.framework import diff_frameworks, framework_digest

framework_app = typer.Typer(
    help="Check a framework file, or compare two versions.", no_args_is_help=True
)


@framework_app.command("check")
def check_command(
    file: Annotated[Path, typer.Argument(help="Framework YAML file.")],
) -> None:
    """Validate a framework file and print its identity (SHA-256 of its canonical JSON)."""
    framework = read_framework(file)
    levels = sum(len(d.levels) for d in framework.domains)
    typer.echo(
        f"{file}: valid: {framework.id} {framework.version} "
        f"(effective {framework.effective_date}) sha256:{framework_digest(framework)}"
    )
    typer.echo(
        f"  {len(framework.domains)} domains, {levels} levels, {len(framework.metrics)} metrics, "
        f"{len(framework.safeguards)} safeguards, {len(framework.finding_rules)} finding rules, "
        f"{len(framework.jurisdictions)} jurisdiction groups"
    )
    if framework.example:
        typer.echo("  marked as an example: not any authority's policy")


@framework_app.command("diff")
def diff_command(
    old: Annotated[Path, typer.Argument(help="The earlier framework version.")],
    new: Annotated[Path, typer.Argument(help="The later framework version.")],
) -> None:
    """Say in words what changed between two versions: thresholds, levels, tiers, procedure."""
    before, after = read_framework(old), read_framework(new)
    changes = diff_frameworks(before, after)
    console = Console(highlight=False, soft_wrap=True)
    console.print(
        f"{before.id} {before.version} -> {after.id} {after.version}: "
        f"{len(changes)} change{'s' if len(changes) != 1 else ''}"
    )
    area = None
    for change in changes:
        if change.area != area:
            area = change.area
            console.print(f"\n[bold]{area.replace('_', ' ')}[/bold]")
        console.print(f"  - {change.text}", markup=False)
