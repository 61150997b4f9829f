"""`clearance evaluate`: the authority runs its own Inspect task against a model under review.

With a reviewer's key (CLEARANCE_API_KEY) at the register (CLEARANCE_URL), the task runs through
the register's gateway under the authority's testing grant; the log is uploaded as confidential
evidence and filed as the authority's evidence on the application, and the recomputed assessment
and any discrepancy with the developer's evidence are printed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer


def evaluate_command(
    application: Annotated[str, typer.Argument(help="The application's id.")],
    task: Annotated[
        str,
        typer.Option(
            "--task", help="An Inspect task file, or the id of a task the framework names."
        ),
    ],
    epochs: Annotated[
        int | None, typer.Option("--epochs", min=1, help="Epochs (default: the task's).")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Run only the first N samples.")
    ] = None,
    max_tokens: Annotated[
        int | None,
        typer.Option("--max-tokens", min=1, help="Bound each answer (default: the model's)."),
    ] = None,
    tasks_dir: Annotated[
        Path | None,
        typer.Option("--tasks-dir", help="Folder holding the framework's task files."),
    ] = None,
    public: Annotated[
        bool,
        typer.Option("--public", help="Publish the log's bytes (default: confidential)."),
    ] = False,
    url: Annotated[
        str, typer.Option("--url", envvar="CLEARANCE_URL", help="The register's base URL.")
    ] = "http://127.0.0.1:8000",
    api_key: Annotated[
        str,
        typer.Option(
            "--api-key", envvar="CLEARANCE_API_KEY", help="A reviewer's key.", show_default=False
        ),
    ] = "",
) -> None:
    """Run an Inspect task against the model under review, through the gateway, as the authority;
    file the log as the authority's evidence and show the discrepancies with the developer's."""
    from clearance.evaluation import evaluate_application

    done = evaluate_application(
        url,
        api_key,
        application,
        task,
        epochs=epochs,
        limit=limit,
        max_tokens=max_tokens,
        tasks_dir=tasks_dir,
        public=public,
        display=os.environ.get("CLEARANCE_EVALUATE_DISPLAY", "plain"),
        say=typer.echo,
    )
    _report(done.application, done.digest, confidential=done.confidential)


def _report(application: dict[str, Any], digest: str, *, confidential: bool) -> None:
    kept = "confidential" if confidential else "public"
    typer.echo(f"filed {digest} ({kept}) as authority evidence on {application['id']}")
    developer = application["assessment"].get("max_tier")
    combined = (application.get("authority_assessment") or {}).get("max_tier")
    typer.echo(f"assessed tier: {developer} on the developer's evidence, {combined} with both")
    found = application.get("discrepancies") or []
    if not found:
        typer.echo("no discrepancy with the developer's evidence")
    for item in found:
        typer.echo(f"DISCREPANCY {item['text']}")
