"""Running one Inspect task against a model through the gateway, as the authority."""

from __future__ import annotations

import gc
import os
import re
import warnings
from pathlib import Path

from clearance.errors import ClearanceError, InvalidInput

MAX_RETRIES = 3
"""Retries of one model call that failed for a reason worth retrying (5xx, 429, no answer):
Inspect's own default is to retry for ever, which a failing server would hold a run (and on
the register, a server thread) to."""
ATTEMPT_TIMEOUT = 120
"""Seconds one attempt at a model call may take (the gateway gives an upstream 60 s)."""
CALL_TIMEOUT = 600
"""Seconds one model call may take, its retries included."""


class EvaluationFailed(ClearanceError):
    """The evaluation did not finish (the gateway refused, the model kept failing)."""

    http_status = 502
    code = "evaluation_failed"


def run_task(
    task_file: Path,
    *,
    task_name: str | None = None,
    model: str,
    gateway_url: str,
    api_key: str,
    log_dir: Path,
    epochs: int | None = None,
    limit: int | None = None,
    display: str = "plain",
    max_connections: int = 8,
    max_tokens: int | None = None,
) -> Path:
    """Run the task file against `model` at the gateway (`gateway_url` ends in /v1); returns the
    log file; `task_name` picks one task of a file that holds several; `max_tokens` bounds each
    answer (a small model on a CPU may otherwise write to its context's end). Inspect's own
    progress display shows while it runs.

    Each model call is retried `MAX_RETRIES` times at most, each attempt bounded by
    `ATTEMPT_TIMEOUT` and the call by `CALL_TIMEOUT`: a model that keeps failing ends the run
    with EvaluationFailed (502 on the REST API), saying what the gateway answered last."""
    from inspect_ai import eval
    from inspect_ai.model import get_model

    log_dir.mkdir(parents=True, exist_ok=True)
    gateway_model = get_model(
        f"openai-api/clearance/{model}", base_url=gateway_url, api_key=api_key
    )
    with warnings.catch_warnings():
        # Inspect's deprecation notices and the sockets its model client leaves to the collector
        warnings.simplefilter("ignore")
        # Inspect reads a bare path as a glob relative to the working folder
        spec = f"{task_file.absolute()}@{task_name}" if task_name else os.path.relpath(task_file)
        logs = eval(
            spec,
            model=gateway_model,
            # an int keeps the task's own epoch reducers (the framework's metric reads them)
            epochs=epochs,
            limit=limit,
            log_dir=str(log_dir),
            log_format="eval",
            display=display,  # type: ignore[arg-type]
            max_connections=max_connections,
            max_tokens=max_tokens,
            max_retries=MAX_RETRIES,
            attempt_timeout=ATTEMPT_TIMEOUT,
            timeout=CALL_TIMEOUT,
            fail_on_error=True,
        )
        del gateway_model
        gc.collect()
    if len(logs) != 1:
        raise InvalidInput(f"{task_file} holds {len(logs)} tasks; give one task per run")
    (log,) = logs
    if log.status != "success":
        error = _cause(log.error.message, log.error.traceback) if log.error else log.status
        raise EvaluationFailed(f"the evaluation of {model} did not finish: {error}")
    return Path(log.location)


def _cause(message: str, traceback: str = "") -> str:
    """The gateway's refusal in an Inspect error (which dumps the whole request), on one line;
    after the last retry, Inspect's message names only the retrying, its traceback the cause."""
    retried = "RetryError" in message
    cause = None
    for text in (message, traceback):
        found = re.search(r"Error code: (\d+) - ([^\"\n]*)", text)
        if found:
            cause = f"the gateway answered {found.group(1)}: {found.group(2).strip()}"
            break
    if cause is None and retried:
        raised = [
            line.strip()
            for line in traceback.splitlines()
            if re.match(r"[\w.]+(Error|Exception): ", line) and "RetryError" not in line
        ]
        cause = raised[-1][:300] if raised else None
    if cause is not None:
        return f"{cause} (tried {MAX_RETRIES + 1} times)" if retried else cause
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return (lines[-1] if lines else "unknown error")[:300]
