"""`clearance evaluate`: the authority runs its own Inspect task against a model under review.

With a reviewer's key (CLEARANCE_API_KEY) at the register (CLEARANCE_URL), the task runs through
the register's gateway under the authority's testing grant; the log is uploaded as confidential
evidence and filed as the authority's evidence on the application, and the recomputed assessment
and any discrepancy with the developer's evidence are printed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from clearance.errors import ClearanceError, InvalidInput
from clearance.examples import example_path
from clearance.framework import Framework


class RegisterRefused(ClearanceError):
    """The register answered with an error."""

    exit_code = 2


def _call(client: Any, method: str, path: str, **kwargs: Any) -> Any:
    import httpx

    try:
        response = client.request(method, f"/api/v1{path}", **kwargs)
    except httpx.HTTPError as exc:
        raise RegisterRefused(
            f"the register at {client.base_url} could not be reached ({exc})"
        ) from None
    if response.status_code >= 300:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        raise RegisterRefused(f"{method} {path}: {response.status_code}: {message}")
    return response.json()


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
    import httpx

    from clearance.evaluation import resolve_task, run_task

    if not api_key:
        raise InvalidInput("CLEARANCE_API_KEY (or --api-key): a reviewer's key is needed")
    base = url.rstrip("/")
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        case = _call(client, "GET", f"/applications/{application}")
        model = _call(client, "GET", f"/models/{case['model_id']}")["name"]
        found = _call(client, "GET", f"/frameworks/{case['framework_digest']}")
        framework = Framework.model_validate(found["framework"])
        folders = [tasks_dir] if tasks_dir is not None else [example_path("")]
        resolved = resolve_task(task, framework, folders)
        typer.echo(
            f"evaluating {model} (application {application}) with {resolved.path.name} "
            f"through the gateway at {base}/v1"
        )
        with tempfile.TemporaryDirectory(prefix="clearance-evaluate-") as scratch:
            log = run_task(
                resolved.path,
                task_name=resolved.framework_task,
                model=model,
                gateway_url=f"{base}/v1",
                api_key=api_key,
                log_dir=Path(scratch),
                epochs=epochs,
                limit=limit,
                display=os.environ.get("CLEARANCE_EVALUATE_DISPLAY", "plain"),
            )
            name = f"authority-{resolved.framework_task or resolved.path.stem}-{log.name}"
            typer.echo(f"uploading {log.name} as the authority's evidence")
            uploaded = _call(
                client,
                "POST",
                "/evidence",
                params={"name": name, "confidential": "false" if public else "true"},
                content=log.read_bytes(),
            )
        filed = _call(
            client,
            "POST",
            f"/applications/{application}/authority-evidence",
            json={"evidence": [uploaded["sha256"]]},
        )
    _report(filed, uploaded["sha256"], confidential=not public)


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
