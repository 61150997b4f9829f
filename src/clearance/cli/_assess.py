"""`clearance assess`: the outcome the framework prescribes, before anything is filed."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from clearance.cli._files import read_framework
from clearance.framework import (
    Assessment,
    Evidence,
    SafeguardDeclaration,
    assess,
    assessment_to_json,
)


class OutputFormat(enum.StrEnum):
    """How `clearance assess` prints its result."""

    text = "text"
    json = "json"


def assess_command(
    framework: Annotated[Path, typer.Argument(help="Framework YAML file.")],
    evidence: Annotated[
        list[Path],
        typer.Argument(help="Inspect logs (.eval, .json), lm-eval results, red-team findings."),
    ],
    safeguards: Annotated[
        Path | None, typer.Option("--safeguards", help="Safeguards declaration (JSON).")
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="text for people, json for programs.")
    ] = OutputFormat.text,
) -> None:
    """Assess evidence against a framework and print the level per domain and permitted tiers."""
    from clearance.evidence import load_many, load_safeguards

    loaded_framework = read_framework(framework)
    err = Console(stderr=True)
    # refreshed by hand, not by rich's timer thread: load_many forks its workers
    with Progress(
        console=err, transient=True, disable=len(evidence) < 5, auto_refresh=False
    ) as progress:
        task = progress.add_task("Reading evidence", total=len(evidence))

        def advance(_: Path) -> None:
            progress.advance(task)
            progress.refresh()

        items: list[Evidence] = list(load_many(evidence, progress=advance))
    declaration: SafeguardDeclaration | None = (
        load_safeguards(safeguards) if safeguards is not None else None
    )
    result = assess(loaded_framework, items, declaration)
    if output is OutputFormat.json:
        typer.echo(assessment_to_json(result))
    else:
        _print_text(result)


def _print_text(result: Assessment) -> None:
    console = Console(highlight=False, soft_wrap=True)
    for line in result.explanation:
        console.print(line, markup=False)
