"""lm-evaluation-harness results files (0.4 and later) as an EvalRun.

A results file may hold several tasks (a group run, or `--tasks a,b`), but an EvalRun is one task
run; rather than pick one and drop the rest, a file with more than one entry under "results" is
refused with the task names, so the developer files one results file per task.

Metric entries are the keys written "metric,filter" (for example "acc,none"); keys without a
comma ("alias", "name", "samples", "sample_len", ...) describe the task, not its scores. The
standard error of "acc,none" is "acc_stderr,none"; lm-eval writes "N/A" when it did not compute
one, which becomes None.

Sample counts for the assessor's exact interval: `acc`, `acc_norm` and `exact_match` score each
document 0 or 1, so with the effective sample count n (`n-samples`), a value that is a whole
number of n-ths is k of n successes. The results file holds no per-document scores, so any
other metric, or a value that is not k/n, gets no counts (and is judged by its stderr).
"""

from __future__ import annotations

import math
from typing import Any

from clearance.evidence._files import EvidenceFile
from clearance.framework import EvalRun, Score

_STDERR_SUFFIX = "_stderr"
_ZERO_ONE_METRICS = frozenset({"acc", "acc_norm", "exact_match"})
_MODEL_ARG_KEYS = ("pretrained", "model", "model_name", "path")


def is_lm_eval_results(document: Any) -> bool:
    """Whether a parsed JSON document looks like an lm-evaluation-harness results file."""
    return (
        isinstance(document, dict)
        and isinstance(document.get("results"), dict)
        and any(key in document for key in ("versions", "configs", "n-samples", "lm_eval_version"))
    )


def lm_eval_run(file: EvidenceFile, document: dict[str, Any]) -> EvalRun:
    """The one task run in an lm-eval results file, with one Score per metric and filter."""
    results = document["results"]
    if not results:
        raise file.refuse("is an lm-evaluation-harness results file with no results")
    if len(results) > 1:
        raise file.refuse(
            f"holds lm-evaluation-harness results for {len(results)} tasks "
            f"({', '.join(sorted(results))}); file one results file per task"
        )
    ((task, entry),) = results.items()
    if not isinstance(entry, dict):
        raise file.refuse(f"at $.results.{task}: expected an object of metrics")
    return EvalRun(
        digest=file.digest,
        source="lm_eval",
        name=file.name,
        task=task,
        task_version=_version(file, document, task),
        model=_model(file, document),
        epochs=1,
        samples=(samples := _samples(file, document, task)),
        scores=_scores(file, task, entry, samples),
    )


def _scores(
    file: EvidenceFile, task: str, entry: dict[str, Any], samples: int
) -> tuple[Score, ...]:
    scores: list[Score] = []
    for key, value in entry.items():
        metric, comma, filter_ = key.partition(",")
        if not comma or metric.endswith(_STDERR_SUFFIX):
            continue
        if not _is_number(value) or not math.isfinite(value):
            raise file.refuse(f"at $.results.{task}[{key!r}]: {value!r} is not a finite number")
        successes = _successes(metric, float(value), samples)
        scores.append(
            Score(
                scorer="lm_eval",
                metric=metric,
                filter=filter_,
                value=float(value),
                stderr=_stderr(file, task, entry, f"{metric}{_STDERR_SUFFIX},{filter_}"),
                samples=samples if successes is not None else None,
                successes=successes,
            )
        )
    if not scores:
        raise file.refuse(f"reports no metrics for task {task!r} (no 'metric,filter' entries)")
    return tuple(scores)


def _successes(metric: str, value: float, samples: int) -> float | None:
    if metric not in _ZERO_ONE_METRICS or samples < 1 or not 0 <= value <= 1:
        return None
    k = round(value * samples)
    return float(k) if abs(value * samples - k) <= 1e-6 else None


def _stderr(file: EvidenceFile, task: str, entry: dict[str, Any], key: str) -> float | None:
    value = entry.get(key)
    if value is None or value == "N/A":
        return None
    if not _is_number(value):
        raise file.refuse(f"at $.results.{task}[{key!r}]: {value!r} is not a number or 'N/A'")
    # lm-eval writes NaN when a stderr is undefined (one sample); that is no stderr at all
    if not math.isfinite(value):
        return None
    if value < 0:
        raise file.refuse(f"at $.results.{task}[{key!r}]: a standard error cannot be negative")
    return float(value)


def _version(file: EvidenceFile, document: dict[str, Any], task: str) -> int | str | float:
    version = _mapping(document, "versions").get(task)
    if isinstance(version, str | int | float) and not isinstance(version, bool):
        return version
    raise file.refuse(f"at $.versions: no version for task {task!r}")


def _samples(file: EvidenceFile, document: dict[str, Any], task: str) -> int:
    counts = _mapping(document, "n-samples").get(task)
    effective = counts.get("effective") if isinstance(counts, dict) else None
    if isinstance(effective, int) and not isinstance(effective, bool) and effective >= 0:
        return effective
    raise file.refuse(
        f"at $['n-samples']: no effective sample count for task {task!r} "
        "(written by lm-evaluation-harness 0.4.2 and later)"
    )


def _model(file: EvidenceFile, document: dict[str, Any]) -> str:
    name = document.get("model_name")
    if isinstance(name, str) and name:
        return name
    model_args = _mapping(document, "config").get("model_args")
    if isinstance(model_args, str):
        # the CLI form: "pretrained=org/model,dtype=bfloat16"
        pairs = (item.partition("=") for item in model_args.split(","))
        model_args = {key.strip(): value.strip() for key, _, value in pairs}
    if isinstance(model_args, dict):
        for key in _MODEL_ARG_KEYS:
            value = model_args.get(key)
            if isinstance(value, str) and value:
                return value
    raise file.refuse("does not name the model (no model_name, nor a model in config.model_args)")


def _mapping(document: dict[str, Any], key: str) -> dict[str, Any]:
    value = document.get(key)
    return value if isinstance(value, dict) else {}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
