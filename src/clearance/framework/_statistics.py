"""The statistical rule: each metric's thresholds against the runs that report its score."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from clearance.framework._evidence import EvalRun, Score
from clearance.framework._intervals import clopper_pearson, normal_interval
from clearance.framework._schema import InspectSource, Metric

Outcome = Literal["reached", "cannot_rule_out", "ruled_out"]
IntervalKind = Literal["clopper_pearson", "normal", "none"]
"""How a test's interval was made: exact binomial from sample counts, value ± z·SE, or none."""

RULES: dict[str, str] = {
    "stat.reached": "the lower confidence bound is at or above the threshold",
    "stat.ruled_out": (
        "the upper confidence bound is below the threshold and the elicitation minimums are met"
    ),
    "stat.cannot_rule_out": "the confidence interval straddles the threshold",
    "stat.no_stderr": (
        "the score carries no sample counts and no non-zero standard error, so the level cannot "
        "be ruled out"
    ),
    "evidence.too_few_samples": (
        "the run has too few samples for any result to rule the level out at the framework's "
        "confidence"
    ),
    "elicitation.minimum_not_met": (
        "the score is below the threshold but the run had too few epochs or samples to rule it out"
    ),
    "evidence.missing": "no evidence was given for this metric, so the level cannot be ruled out",
    "evidence.incomparable_version": (
        "the only evidence for this metric ran a task version the metric does not accept"
    ),
}
"""Every rule the assessor applies to a metric, by id; outcomes cite these ids."""


# reached and cannot-rule-out both count as reached; among them, a clear result is the firmer one.
_STRENGTH: dict[Outcome, int] = {"ruled_out": 0, "cannot_rule_out": 1, "reached": 2}


@dataclass(frozen=True)
class LevelTest:
    """Whether one metric's evidence reaches one level, and by which rule."""

    level: str
    threshold: float
    outcome: Outcome
    rule: str
    evidence: str | None
    value: float | None
    lower: float | None
    upper: float | None
    interval: IntervalKind | None = None
    """How the interval was made; None when there was no evidence."""


@dataclass(frozen=True)
class RefusedEvidence:
    """Evidence that matched a metric's task but could not be counted for it."""

    digest: str
    name: str
    metric: str
    reason: str


def _score_for(metric: Metric, run: EvalRun) -> Score | None:
    source = metric.source
    for score in run.scores:
        if score.metric != source.metric:
            continue
        if isinstance(source, InspectSource):
            if score.scorer == source.scorer and score.reducer == source.reducer:
                return score
        elif score.filter == source.filter:
            return score
    return None


def _comparable(metric: Metric, run: EvalRun) -> bool:
    versions = metric.source.task_versions
    if not versions:
        return True
    return any(str(version) == str(run.task_version) for version in versions)


def threshold_tests(
    metric: Metric, runs: Sequence[EvalRun], confidence: float
) -> tuple[tuple[LevelTest, ...], list[RefusedEvidence], set[str]]:
    """Each threshold of a metric against every comparable run; the most capable result wins."""
    refused: list[RefusedEvidence] = []
    used: set[str] = set()
    candidates: list[tuple[EvalRun, Score, _Interval]] = []
    for run in runs:
        if run.source != metric.source.kind or run.task != metric.source.task:
            continue
        used.add(run.digest)
        if not _comparable(metric, run):
            accepted = ", ".join(str(v) for v in metric.source.task_versions)
            refused.append(
                RefusedEvidence(
                    run.digest,
                    run.name,
                    metric.id,
                    f"task version {run.task_version} is not comparable with metric "
                    f"{metric.id!r}, which accepts version(s) {accepted}",
                )
            )
            continue
        score = _score_for(metric, run)
        if score is None:
            refused.append(
                RefusedEvidence(
                    run.digest,
                    run.name,
                    metric.id,
                    f"the run reports no score {_score_name(metric)}",
                )
            )
            continue
        candidates.append((run, score, _interval(metric, score, confidence)))

    tests: list[LevelTest] = []
    for level_id, threshold in metric.thresholds.items():
        if not candidates:
            rule = "evidence.incomparable_version" if refused else "evidence.missing"
            tests.append(
                LevelTest(level_id, threshold, "cannot_rule_out", rule, None, None, None, None)
            )
            continue
        results = [
            _test_threshold(metric, level_id, threshold, run, score, interval)
            for run, score, interval in candidates
        ]
        tests.append(
            max(
                results,
                key=lambda t: (_STRENGTH[t.outcome], t.value or 0.0, t.evidence or ""),
            )
        )
    return tuple(tests), refused, used


@dataclass(frozen=True)
class _Interval:
    """A score's interval, how it was made, and the best a run of its size could ever show."""

    lower: float
    upper: float
    kind: IntervalKind
    best_upper: float | None
    """The upper bound had every sample scored 0 (exact intervals only)."""


def _interval(metric: Metric, score: Score, confidence: float) -> _Interval:
    """Exact from the sample counts where known; else value ± z·SE; else the whole range.

    A standard error of zero is treated as none: it comes from one sample, or from samples that
    all scored alike, and a zero-width interval would claim certainty that is not there. With
    neither counts nor a standard error the score could lie anywhere in the metric's range.
    """
    low_end, high_end = metric.range
    best_upper: float | None = None
    kind: IntervalKind
    if score.samples is not None and score.successes is not None:
        lower, upper = clopper_pearson(score.successes, score.samples, confidence)
        best_upper = min(high_end, clopper_pearson(0, score.samples, confidence)[1])
        kind = "clopper_pearson"
    elif score.stderr:
        lower, upper = normal_interval(score.value, score.stderr, confidence)
        kind = "normal"
    else:
        lower, upper, kind = low_end, high_end, "none"
    lower = round(max(low_end, lower), 12)
    upper = round(min(high_end, upper), 12)
    return _Interval(lower, upper, kind, None if best_upper is None else round(best_upper, 12))


def _test_threshold(
    metric: Metric,
    level_id: str,
    threshold: float,
    run: EvalRun,
    score: Score,
    interval: _Interval,
) -> LevelTest:
    """The statistical rule: reached, ruled out (with enough elicitation), or cannot rule out."""
    lower, upper = interval.lower, interval.upper

    def test(outcome: Outcome, rule: str) -> LevelTest:
        return LevelTest(
            level_id, threshold, outcome, rule, run.digest, score.value, lower, upper, interval.kind
        )

    if lower >= threshold:
        return test("reached", "stat.reached")
    if interval.kind == "none":
        return test("cannot_rule_out", "stat.no_stderr")
    if interval.best_upper is not None and interval.best_upper >= threshold:
        return test("cannot_rule_out", "evidence.too_few_samples")
    if upper >= threshold:
        return test("cannot_rule_out", "stat.cannot_rule_out")
    minimums = metric.elicitation
    if run.epochs < minimums.min_epochs or run.samples < minimums.min_samples:
        return test("cannot_rule_out", "elicitation.minimum_not_met")
    return test("ruled_out", "stat.ruled_out")


def _score_name(metric: Metric) -> str:
    source = metric.source
    if isinstance(source, InspectSource):
        reducer = f" reduced by {source.reducer}" if source.reducer else ""
        return f"{source.scorer}/{source.metric}{reducer}"
    return f"{source.metric},{source.filter}"
