"""Inspect logs (`.eval` and `.json`) as an EvalRun, read from the very bytes that were hashed.

How a log becomes an EvalRun (checked against inspect_ai 0.3.285):

- task: `eval.task` exactly as Inspect records it, package prefix and all
  ("inspect_evals/gpqa_diamond"); the assessor compares it case-sensitively.
- epochs: `eval.config.epochs` (1 when unset).
- samples: distinct samples, not sample-epochs. Inspect's `results.completed_samples` counts
  each sample once per epoch, so this is `completed_samples // epochs`, and never more than the
  fewest samples any score was computed over (`EvalScore.scored_samples`).
- scores: one Score per entry of `results.scores` and metric in it, except the standard-error
  metrics (`stderr`, `bootstrap_stderr`), which become the `stderr` of that entry's mean-like
  metrics (`accuracy`, `mean`) rather than scores of their own. Other metrics (`std`, custom
  ones) are kept as scores without a stderr: a standard error of the mean says nothing about
  them. `scorer` is `EvalScore.name` (the scorer's name, `includes1` for a second `includes`,
  or the key of a dict-valued scorer), `metric` the key in `EvalScore.metrics`.
- reducer: `EvalScore.reducer` as logged ("mean", "at_least_1", "pass_at_2", ...); with several
  reducers Inspect writes one `results.scores` entry per reducer. A run of more than one epoch
  with no reducer declared was reduced by Inspect's default, mean, but Inspect logs that as
  None: it is reported as "mean", so it matches runs that said "mean" outright. One epoch and
  no reducer stays None.
- stderr: the logged stderr metric; if the run logged none, it is computed from the per-sample
  values the metric was computed over (the epoch reductions, or the sample scores when there
  are none) as sample std / sqrt(n), and used only if those values reproduce the logged metric.
  None when there are fewer than two samples or the values cannot be found.
- samples, successes (for the assessor's exact interval): for `accuracy` and `mean`, the number
  of per-sample values the metric was computed over and their sum, when every value lies in
  [0, 1] and their mean reproduces the logged metric. The values are the log's reductions
  (`reductions.json`), which the header-only read parses anyway, so this costs no sample read;
  only when a log has no reduction for the scorer and no logged stderr are the samples read.
  With 0/1 scores, successes is the number of samples that succeeded.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable
from typing import Any, Literal

from inspect_ai.log import EvalLog, EvalSampleReductions, EvalScore, read_eval_log
from inspect_ai.scorer import value_to_float
from pydantic import ValidationError

from clearance.evidence._files import EvidenceFile
from clearance.framework import EvalRun, Score

InspectFormat = Literal["eval", "json"]

_STDERR_METRICS = frozenset({"stderr", "bootstrap_stderr"})
_MEAN_METRICS = frozenset({"accuracy", "mean"})
_DETAIL_LIMIT = 200


def is_inspect_json_log(document: Any) -> bool:
    """Whether a parsed JSON document looks like an Inspect log rather than other JSON."""
    return (
        isinstance(document, dict)
        and isinstance(document.get("eval"), dict)
        and "status" in document
        and "task" in document["eval"]
    )


def inspect_run(
    file: EvidenceFile, fmt: InspectFormat, document: dict[str, Any] | None = None
) -> EvalRun:
    """A finished, successful Inspect log as an EvalRun; anything else is refused.

    `document` is a .json log's content, already parsed from `file`'s bytes.
    """
    log = _LogReader(file, fmt, document)
    header = log.header
    _refuse_unfinished(file, header)
    results = header.results
    if results is None or not results.scores:
        raise file.refuse("is an Inspect log with no results (no scorer ran)")
    epochs = header.eval.config.epochs or 1
    samples = _distinct_samples(results.completed_samples, epochs, results.scores)
    if samples == 0:
        raise file.refuse("is an Inspect log in which no sample completed")
    scores = [score for entry in results.scores for score in _scores(file, log, entry, epochs)]
    seen: set[tuple[str, str, str | None]] = set()
    for score in scores:
        key = (score.scorer, score.metric, score.reducer)
        if key in seen:
            raise file.refuse(f"reports the score {_label(score)} twice; which counts is unclear")
        seen.add(key)
    return EvalRun(
        digest=file.digest,
        source="inspect",
        name=file.name,
        task=header.eval.task,
        task_version=header.eval.task_version,
        model=header.eval.model,
        epochs=epochs,
        samples=samples,
        scores=tuple(scores),
    )


class _LogReader:
    """The log's header and reductions; its samples only if a stderr has to be computed."""

    def __init__(
        self, file: EvidenceFile, fmt: InspectFormat, document: dict[str, Any] | None
    ) -> None:
        self.file = file
        self.fmt = fmt
        if document is None:
            self.header = self._read(file.data, header_only=True)
        else:
            # From bytes (not a path), Inspect reads a .json header by validating every sample;
            # the document already parsed from the same bytes, less its samples, is far cheaper.
            rest = {key: value for key, value in document.items() if key != "samples"}
            self.header = self._read(json.dumps(rest).encode(), header_only=False)
        self._full: EvalLog | None = None

    @property
    def full(self) -> EvalLog:
        if self._full is None:
            self._full = self._read(self.file.data, header_only=False)
        return self._full

    def reductions(self) -> list[EvalSampleReductions]:
        # both ways of reading the header above keep every reduction the log holds
        return list(self.header.reductions or [])

    def _read(self, data: bytes, *, header_only: bool) -> EvalLog:
        try:
            return read_eval_log(io.BytesIO(data), header_only=header_only, format=self.fmt)
        # Inspect raises whatever its zip, JSON and pydantic layers raise; all mean "unreadable"
        except Exception as error:
            raise self.file.refuse(
                f"is not a readable Inspect .{self.fmt} log: truncated or corrupt "
                f"({_describe(error)})"
            ) from None


def _refuse_unfinished(file: EvidenceFile, log: EvalLog) -> None:
    if log.status != "success":
        reason = f"status {log.status!r}, not 'success'"
        if log.error is not None and log.error.message:
            reason += f": {_shorten(log.error.message)}"
        raise file.refuse(f"is an Inspect log of an eval that did not finish ({reason})")
    # Inspect itself treats such logs as needing a re-run (eval sets retry them)
    if log.invalidated:
        raise file.refuse("is an Inspect log with invalidated samples; re-run or re-score it")


def _distinct_samples(completed: int, epochs: int, scores: Iterable[EvalScore]) -> int:
    counts = [completed // epochs]
    counts.extend(s.scored_samples for s in scores if s.scored_samples is not None)
    return min(counts)


def _scores(file: EvidenceFile, log: _LogReader, entry: EvalScore, epochs: int) -> list[Score]:
    reducer = _reducer(log, entry, epochs)
    logged_stderr = _logged_stderr(entry)
    scores: list[Score] = []
    for key, metric in entry.metrics.items():
        if metric.group is None and metric.name in _STDERR_METRICS:
            continue
        value = float(metric.value)
        if not math.isfinite(value):
            raise file.refuse(
                f"reports {entry.name}/{key} as {metric.value!r}, not a finite number"
            )
        stderr = None
        counts = None
        if metric.group is None and metric.name in _MEAN_METRICS:
            need_stderr = logged_stderr is None and _enough(entry)
            values = _sample_values(log, entry, read_samples=need_stderr)
            if _enough(entry):
                stderr = logged_stderr if not need_stderr else _computed_stderr(values, value)
            counts = _counts(values, value, entry)
        scores.append(
            Score(
                scorer=entry.name,
                metric=key,
                value=value,
                stderr=stderr,
                reducer=reducer,
                samples=counts[0] if counts else None,
                successes=counts[1] if counts else None,
            )
        )
    return scores


def _reducer(log: _LogReader, entry: EvalScore, epochs: int) -> str | None:
    if entry.reducer is not None:
        return entry.reducer
    if epochs == 1 or log.header.eval.config.epochs_reducer is not None:
        return None
    # The default mean leaves a reduction logged under no name; a view of unreduced scores
    # (`@metric(scores="unreduced")`) is also logged under no name but leaves no reduction.
    if any(r.scorer == entry.scorer and r.reducer is None for r in log.reductions()):
        return "mean"
    return None


def _logged_stderr(entry: EvalScore) -> float | None:
    # several stderr metrics (say, one clustered): the widest is the one that cannot overclaim
    values = [
        float(m.value)
        for m in entry.metrics.values()
        if m.group is None and m.name in _STDERR_METRICS
    ]
    usable = [v for v in values if math.isfinite(v) and v >= 0]
    if not values or len(usable) < len(values):
        return None
    return max(usable)


def _enough(entry: EvalScore) -> bool:
    # Inspect logs a stderr of 0 for a single sample; that is no standard error at all
    return entry.scored_samples is None or entry.scored_samples >= 2


def _sample_values(log: _LogReader, entry: EvalScore, *, read_samples: bool) -> list[float] | None:
    """The per-sample values `entry`'s metrics were computed over, if they can be found.

    From the reductions the header holds; from the samples only if `read_samples`.
    """
    reductions = log.reductions()
    for reduction in reductions:
        if reduction.scorer == entry.scorer and reduction.reducer == entry.reducer:
            return _floats((s.value for s in reduction.samples), entry)
    if any(r.scorer == entry.scorer for r in reductions):
        return None
    if not read_samples:
        return None
    # no reduction for this scorer: its metrics were computed over the sample scores themselves
    samples = log.full.samples or []
    return _floats(
        (s.scores[entry.scorer].value for s in samples if s.scores and entry.scorer in s.scores),
        entry,
    )


def _floats(values: Iterable[Any], entry: EvalScore) -> list[float] | None:
    to_float = value_to_float()
    floats: list[float] = []
    for value in values:
        kind = type(value)
        # plain numbers (nearly every reduction) need none of Inspect's conversions
        if kind is float or kind is int:
            number = float(value)
        else:
            # a dict-valued scorer logs one entry per key, named for the key
            if isinstance(value, dict):
                if entry.name not in value:
                    return None
                value = value[entry.name]
            if isinstance(value, list | dict):
                return None
            number = to_float(value)
        # Inspect leaves NaN (unscored) values out of its metrics
        if number == number:
            floats.append(number)
    return floats


def _computed_stderr(values: list[float] | None, metric_value: float) -> float | None:
    if values is None or len(values) < 2:
        return None
    n = len(values)
    mean = math.fsum(values) / n
    if not math.isclose(mean, metric_value, rel_tol=1e-9, abs_tol=1e-12):
        return None
    variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    return math.sqrt(variance / n)


def _counts(
    values: list[float] | None, metric_value: float, entry: EvalScore
) -> tuple[int, float] | None:
    """(samples, sum of scores) when every score lies in [0, 1] and they give the metric."""
    if not values or any(not 0 <= v <= 1 for v in values):
        return None
    if entry.scored_samples is not None and entry.scored_samples != len(values):
        return None
    total = math.fsum(values)
    if not math.isclose(total / len(values), metric_value, rel_tol=1e-9, abs_tol=1e-9):
        return None
    return len(values), float(round(total)) if math.isclose(total, round(total)) else total


def _label(score: Score) -> str:
    reduced = f" reduced by {score.reducer}" if score.reducer else ""
    return f"{score.scorer}/{score.metric}{reduced}"


def _describe(error: Exception) -> str:
    if isinstance(error, ValidationError) and error.errors():
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "top level"
        return f"{where}: {first['msg']}"
    return _shorten(str(error) or type(error).__name__)


def _shorten(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    return line if len(line) <= _DETAIL_LIMIT else line[: _DETAIL_LIMIT - 3] + "..."
