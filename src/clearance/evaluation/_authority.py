"""The authority's evaluation of an application, end to end: what `clearance evaluate` does.

With a reviewer's key at the register, the task runs through the register's gateway under the
authority's testing grant; the log is uploaded as evidence (confidential unless `public`) and
filed as the authority's evidence on the application. The demo's Inspect process calls the same
function.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearance.errors import ClearanceError, Conflict, InvalidInput
from clearance.evaluation._run import run_task
from clearance.evaluation._tasks import resolve_task
from clearance.examples import example_path
from clearance.framework import Framework
from clearance.register import OPEN_TO_AUTHORITY_EVIDENCE


class RegisterRefused(ClearanceError):
    """The register answered with an error."""

    exit_code = 2


@dataclass(frozen=True)
class Evaluated:
    """The application as the register answered after filing, and the filed log's digest."""

    application: dict[str, Any]
    digest: str
    confidential: bool


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


def evaluate_application(
    url: str,
    api_key: str,
    application: str,
    task: str,
    *,
    epochs: int | None = None,
    limit: int | None = None,
    max_tokens: int | None = None,
    tasks_dir: Path | None = None,
    public: bool = False,
    display: str = "plain",
    say: Callable[[str], None] = lambda _: None,
) -> Evaluated:
    """Run `task` (a task file, or a task the framework names) against the application's model
    through the gateway as the authority, and file the log as the authority's evidence."""
    import httpx

    if not api_key:
        raise InvalidInput("CLEARANCE_API_KEY (or --api-key): a reviewer's key is needed")
    base = url.rstrip("/")
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        case = _call(client, "GET", f"/applications/{application}")
        if case.get("state") not in OPEN_TO_AUTHORITY_EVIDENCE:
            # the register would refuse the log: no run for it
            raise Conflict(
                f"application {application} is {case.get('state')}; the authority's evidence "
                "is filed while it is open"
            )
        model = _call(client, "GET", f"/models/{case['model_id']}")["name"]
        found = _call(client, "GET", f"/frameworks/{case['framework_digest']}")
        framework = Framework.model_validate(found["framework"])
        folders = [tasks_dir] if tasks_dir is not None else [example_path("")]
        resolved = resolve_task(task, framework, folders)
        say(
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
                max_tokens=max_tokens,
                display=display,
            )
            name = f"authority-{resolved.framework_task or resolved.path.stem}-{log.name}"
            say(f"uploading {log.name} as the authority's evidence")
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
    return Evaluated(filed, uploaded["sha256"], confidential=not public)
