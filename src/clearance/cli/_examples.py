"""`clearance examples DIR`: the shipped example files, copied out to read, run and edit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clearance.examples import EXAMPLE_FRAMEWORK, copy_examples


def examples_command(
    directory: Annotated[Path, typer.Argument(help="A new or empty folder to copy them into.")],
) -> None:
    """Copy the example framework, evidence and safeguards declaration into DIRECTORY."""
    written = copy_examples(directory)
    for path in written:
        typer.echo(f"wrote {path}")
    typer.echo(
        f"\nTry: clearance assess {directory / EXAMPLE_FRAMEWORK} {directory / 'evidence'}/* "
        f"--safeguards {directory / 'safeguards.json'}"
    )
