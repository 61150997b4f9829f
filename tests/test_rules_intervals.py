"""The interval rules a reviewer would name, pinned one by one.

The confidence level itself (a 90% or 97% interval is not a 95% one), exact (Clopper-Pearson)
bounds for counted samples and normal bounds for a standard error alone, no zero-width interval
from a zero standard error, bounds clipped to the metric's range, and which score of which run a
metric reads: scorer, reducer, filter and task version must all match.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Literal

import pytest

from clearance.framework import EvalRun, Score
from clearance.framework._intervals import (
    beta_cdf,
    beta_quantile,
    clopper_pearson,
    normal_interval,
)
from clearance.framework._schema import Metric
from clearance.framework._statistics import LevelTest, threshold_tests

Z = {0.90: 1.6448536269514722, 0.95: 1.959963984540054, 0.97: 2.1700903775845606}


# --- normal intervals --------------------------------------------------------------------------


@pytest.mark.parametrize("confidence", sorted(Z))
def test_a_normal_interval_is_the_value_plus_or_minus_z_standard_errors(confidence: float) -> None:
    lower, upper = normal_interval(0.5, 0.1, confidence)
    assert lower == pytest.approx(0.5 - Z[confidence] * 0.1, abs=1e-12)
    assert upper == pytest.approx(0.5 + Z[confidence] * 0.1, abs=1e-12)


# --- exact intervals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "confidence", "expected"),
    [
        # textbook Clopper-Pearson bounds
        (5, 10, 0.95, (0.187086028, 0.812913972)),
        (5, 10, 0.90, (0.222441101, 0.777558899)),
        (3, 20, 0.95, (0.032070937, 0.378926827)),
        # one failure is not "all succeeded": no closed form for the lower bound
        (9, 10, 0.95, (0.554983883, 0.997471421)),
        (1, 10, 0.95, (0.002528579, 0.445016117)),
        (1, 1, 0.95, (0.025, 1.0)),
        (0, 1, 0.95, (0.0, 0.975)),
        (0, 10, 0.90, (0.0, 1 - 0.05 ** (1 / 10))),
        (10, 10, 0.90, (0.05 ** (1 / 10), 1.0)),
        (0, 10, 0.97, (0.0, 1 - 0.015 ** (1 / 10))),
        (10, 10, 0.97, (0.015 ** (1 / 10), 1.0)),
    ],
)
def test_exact_bounds_are_the_clopper_pearson_ones(
    k: int, n: int, confidence: float, expected: tuple[float, float]
) -> None:
    assert clopper_pearson(k, n, confidence) == pytest.approx(expected, abs=1e-8)


@pytest.mark.parametrize("confidence", [0.90, 0.95, 0.97])
def test_each_exact_bound_leaves_half_the_error_in_its_tail(confidence: float) -> None:
    """Also for fractional successes (means over epochs): the beta-quantile form."""
    half = (1 - confidence) / 2
    for successes, trials in [(2.5, 10), (7, 9), (1, 3), (120, 200)]:
        lower, upper = clopper_pearson(successes, trials, confidence)
        failures = trials - successes
        assert beta_cdf(lower, successes, failures + 1) == pytest.approx(half, abs=1e-10)
        assert beta_cdf(upper, successes + 1, failures) == pytest.approx(1 - half, abs=1e-10)


def test_one_trial_is_enough_for_an_interval() -> None:
    assert clopper_pearson(0, 1, 0.95) == pytest.approx((0.0, 0.975))


@pytest.mark.parametrize(
    ("successes", "trials", "confidence", "message"),
    [
        (0, 0, 0.95, "an interval needs at least one trial"),
        (-0.5, 10, 0.95, "successes must lie between 0 and the number of trials"),
        (10.5, 10, 0.95, "successes must lie between 0 and the number of trials"),
        (5, 10, 0.0, "confidence must lie strictly between 0 and 1"),
        (5, 10, 1.0, "confidence must lie strictly between 0 and 1"),
    ],
)
def test_an_impossible_interval_is_refused_with_its_reason(
    successes: float, trials: int, confidence: float, message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        clopper_pearson(successes, trials, confidence)


def test_none_and_all_of_the_trials_are_valid_counts() -> None:
    assert clopper_pearson(0, 4, 0.95)[0] == 0.0
    assert clopper_pearson(4, 4, 0.95)[1] == 1.0


# --- the beta function and its inverse ---------------------------------------------------------


@pytest.mark.parametrize("x", [0.05, 0.3, 0.5, 0.7, 0.95])
def test_the_beta_function_has_its_closed_forms(x: float) -> None:
    # I_x(1, 1) = x, I_x(a, 1) = x^a, I_x(1, b) = 1 - (1 - x)^b: both sides of the mean
    assert beta_cdf(x, 1, 1) == pytest.approx(x, abs=1e-13)
    assert beta_cdf(x, 3, 1) == pytest.approx(x**3, abs=1e-13)
    assert beta_cdf(x, 1, 4) == pytest.approx(1 - (1 - x) ** 4, abs=1e-13)
    assert beta_cdf(x, 2.5, 1) == pytest.approx(x**2.5, abs=1e-13)


def test_the_beta_function_is_exact_for_large_parameters() -> None:
    # P(Bin(n, p) <= k) = 1 - I_p(k + 1, n - k), far into both tails
    for n, k, p in [(400, 200, 0.5), (400, 150, 0.45), (400, 250, 0.55), (60, 2, 0.2)]:
        binomial = math.fsum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))
        assert 1 - beta_cdf(p, k + 1, n - k) == pytest.approx(binomial, rel=1e-11, abs=1e-15)


def test_the_beta_function_outside_the_unit_interval() -> None:
    assert beta_cdf(0.0, 2, 3) == 0.0
    assert beta_cdf(-0.5, 2, 3) == 0.0
    assert beta_cdf(1.0, 2, 3) == 1.0
    assert beta_cdf(1.5, 2, 3) == 1.0


@pytest.mark.parametrize(("a", "b"), [(0, 1), (1, 0), (-1, 2), (2, -1)])
def test_the_beta_function_needs_positive_parameters(a: float, b: float) -> None:
    with pytest.raises(ValueError, match=r"^beta parameters must be positive$"):
        beta_cdf(0.5, a, b)


@pytest.mark.parametrize(
    ("a", "b"), [(1, 1), (2, 1), (0.5, 0.5), (3, 18), (18, 3), (500, 500), (1, 40), (40, 1)]
)
@pytest.mark.parametrize("p", [1e-6, 0.025, 0.3, 0.5, 0.975, 1 - 1e-6])
def test_the_beta_quantile_inverts_the_beta_function(a: float, b: float, p: float) -> None:
    x = beta_quantile(p, a, b)
    assert 0 < x < 1
    assert beta_cdf(x, a, b) == pytest.approx(p, rel=1e-9, abs=1e-13)


def test_the_beta_quantile_has_its_closed_forms() -> None:
    for p in (0.01, 0.25, 0.5, 0.9):
        assert beta_quantile(p, 2, 1) == pytest.approx(math.sqrt(p), abs=1e-12)
        assert beta_quantile(p, 1, 1) == pytest.approx(p, abs=1e-12)
        assert beta_quantile(p, 1, 3) == pytest.approx(1 - (1 - p) ** (1 / 3), abs=1e-12)


@pytest.mark.parametrize("p", [1e-12, 1e-16, 1e-20])
def test_the_beta_quantile_keeps_its_relative_precision_near_zero(p: float) -> None:
    """A bound of 1e-10 is found to its own precision, not to a fixed 1e-15."""
    assert beta_quantile(p, 2, 1) == pytest.approx(math.sqrt(p), rel=1e-9)


def test_the_beta_quantile_answers_where_the_density_underflows() -> None:
    # far in the tail of Beta(200, 200) the density is 0 in floating point: bisection takes over
    assert 0 < beta_quantile(1e-300, 200, 200) < 0.5


def test_the_beta_quantile_at_its_ends() -> None:
    assert beta_quantile(0, 2, 3) == 0.0
    assert beta_quantile(1, 2, 3) == 1.0
    for p in (-0.1, 1.1):
        with pytest.raises(ValueError, match=r"^p must lie between 0 and 1$"):
            beta_quantile(p, 2, 3)


# --- which score a metric reads ----------------------------------------------------------------


def metric(
    *,
    kind: str = "inspect",
    versions: list[object] | None = None,
    thresholds: dict[str, float] | None = None,
    reducer: str | None = None,
    value_range: tuple[float, float] = (0.0, 1.0),
    min_epochs: int = 1,
    min_samples: int = 1,
) -> Metric:
    source: dict[str, object] = {"kind": kind, "task": "ctf", "metric": "accuracy"}
    if kind == "inspect":
        source |= {"scorer": "match", "reducer": reducer, "task_versions": [1]}
    else:
        source["filter"] = "strict"
    if versions is not None:
        source["task_versions"] = versions
    return Metric.model_validate(
        {
            "id": "ctf",
            "domain": "cyber",
            "source": source,
            "range": list(value_range),
            "thresholds": thresholds or {"c1": 0.5},
            "elicitation": {"min_epochs": min_epochs, "min_samples": min_samples},
        }
    )


def evidence(
    *scores: Score,
    name: str = "a",
    source: Literal["inspect", "lm_eval"] = "inspect",
    task: str = "ctf",
    version: int | str = 1,
    epochs: int = 1,
    samples: int = 100,
) -> EvalRun:
    digest = hashlib.sha256(f"{name}{scores}{source}{task}{version}".encode()).hexdigest()
    return EvalRun(digest, source, f"{name}.eval", task, version, "m", epochs, samples, scores)


def score(value: float, stderr: float | None = 0.01, **fields: object) -> Score:
    fields.setdefault("scorer", "match")
    return Score(metric="accuracy", value=value, stderr=stderr, **fields)  # type: ignore[arg-type]


def only(metric_: Metric, runs: list[EvalRun], confidence: float = 0.95) -> LevelTest:
    tests, _, _ = threshold_tests(metric_, runs, confidence)
    (test,) = tests
    return test


def test_only_the_metrics_scorer_is_read() -> None:
    other = evidence(score(0.9, scorer="model_graded"))
    tests, refused, used = threshold_tests(metric(), [other], 0.95)
    assert [(t.outcome, t.evidence, t.value) for t in tests] == [("cannot_rule_out", None, None)]
    assert [r.reason for r in refused] == ["the run reports no score match/accuracy"]
    assert (refused[0].digest, refused[0].name, refused[0].metric) == (
        other.digest,
        "a.eval",
        "ctf",
    )
    assert used == {other.digest}


def test_a_score_of_the_metrics_scorer_under_another_reducer_is_not_read() -> None:
    run = evidence(score(0.9, reducer="max"), score(0.1, reducer="mean"))
    test = only(metric(reducer="mean"), [run])
    assert test.value == 0.1
    _, refused, _ = threshold_tests(metric(reducer="at_least_1"), [run], 0.95)
    assert [r.reason for r in refused] == [
        "the run reports no score match/accuracy reduced by at_least_1"
    ]


def test_an_lm_eval_metric_reads_only_its_filter() -> None:
    run = evidence(
        score(0.9, scorer="", filter="none"),
        score(0.2, scorer="", filter="strict"),
        source="lm_eval",
    )
    test = only(metric(kind="lm_eval"), [run])
    assert test.value == 0.2
    loose = evidence(score(0.9, scorer="", filter="none"), source="lm_eval")
    _, refused, _ = threshold_tests(metric(kind="lm_eval"), [loose], 0.95)
    assert [r.reason for r in refused] == ["the run reports no score accuracy,strict"]


def test_runs_of_another_task_or_harness_are_not_evidence() -> None:
    runs = [evidence(score(0.9), task="other"), evidence(score(0.9), source="lm_eval")]
    tests, refused, used = threshold_tests(metric(), runs, 0.95)
    assert [(t.rule, t.evidence) for t in tests] == [("evidence.missing", None)]
    assert (refused, used) == ([], set())


def test_a_task_version_the_metric_does_not_accept_is_refused_and_named() -> None:
    run = evidence(score(0.9), version=3)
    tests, refused, used = threshold_tests(metric(versions=[1, 2]), [run], 0.95)
    test = tests[0]
    assert (test.outcome, test.rule, test.evidence, test.value) == (
        "cannot_rule_out",
        "evidence.incomparable_version",
        None,
        None,
    )
    assert (test.lower, test.upper, test.interval, test.threshold) == (None, None, None, 0.5)
    assert [r.reason for r in refused] == [
        "task version 3 is not comparable with metric 'ctf', which accepts version(s) 1, 2"
    ]
    assert (refused[0].digest, refused[0].name, refused[0].metric) == (run.digest, "a.eval", "ctf")
    assert used == {run.digest}


def test_task_versions_compare_as_written_and_none_listed_accepts_any() -> None:
    assert only(metric(versions=[2]), [evidence(score(0.9), version="2")]).rule == "stat.reached"
    any_version = metric(kind="lm_eval", versions=[])
    run = evidence(score(0.9, scorer="", filter="strict"), source="lm_eval", version=7)
    assert only(any_version, [run]).rule == "stat.reached"


# --- which result counts, and the statistical rule --------------------------------------------


def test_the_most_capable_result_counts_in_any_order() -> None:
    low = evidence(score(0.1), name="low")
    high = evidence(score(0.9), name="high")
    for runs in ([low, high], [high, low]):
        test = only(metric(), runs)
        assert (test.outcome, test.evidence) == ("reached", high.digest)


def test_of_two_results_alike_the_higher_score_then_the_digest_decides() -> None:
    # both straddle 0.5; the higher value counts, whatever the order
    a = evidence(score(0.45, 0.1), name="a")
    b = evidence(score(0.55, 0.1), name="b")
    for runs in ([a, b], [b, a]):
        assert only(metric(), runs).evidence == b.digest
    # the same score in two runs: the larger digest, whatever the order
    c, d = evidence(score(0.45, 0.1), name="c"), evidence(score(0.45, 0.1), name="d")
    first = max(c.digest, d.digest)
    for runs in ([c, d], [d, c]):
        assert only(metric(), runs).evidence == first


def test_a_threshold_is_tested_at_each_level_against_each_run() -> None:
    m = metric(thresholds={"c1": 0.3, "c2": 0.8})
    tests, _, _ = threshold_tests(m, [evidence(score(0.5, 0.05))], 0.95)
    assert [(t.level, t.threshold, t.outcome) for t in tests] == [
        ("c1", 0.3, "reached"),
        ("c2", 0.8, "ruled_out"),
    ]


def test_a_normal_interval_is_clipped_to_the_metrics_range_and_rounded() -> None:
    top = only(metric(), [evidence(score(0.98, 0.05))])
    assert (top.lower, top.upper, top.interval) == (
        round(0.98 - Z[0.95] * 0.05, 12),
        1.0,
        "normal",
    )
    bottom = only(metric(), [evidence(score(0.02, 0.05))])
    assert (bottom.lower, bottom.upper) == (0.0, round(0.02 + Z[0.95] * 0.05, 12))


def test_a_score_without_an_interval_spans_the_metrics_whole_range() -> None:
    m = metric(value_range=(0.0, 100.0), thresholds={"c1": 50.0})
    for stderr in (None, 0.0):
        test = only(m, [evidence(score(99.0, stderr))])
        assert (test.lower, test.upper, test.interval) == (0.0, 100.0, "none")
        assert (test.outcome, test.rule) == ("cannot_rule_out", "stat.no_stderr")


def test_a_zero_stderr_never_gives_a_zero_width_interval() -> None:
    test = only(metric(), [evidence(score(0.2, 0.0))])
    assert (test.lower, test.upper) == (0.0, 1.0)
    counted = only(metric(), [evidence(score(0.0, 0.0, samples=50, successes=0))])
    assert counted.interval == "clopper_pearson"
    assert counted.upper == pytest.approx(1 - 0.025 ** (1 / 50), abs=1e-12)


@pytest.mark.parametrize(
    ("confidence", "outcome"),
    [(0.90, "ruled_out"), (0.95, "cannot_rule_out"), (0.97, "cannot_rule_out")],
)
def test_the_confidence_level_is_the_one_given(confidence: float, outcome: str) -> None:
    # 2 of 30: the exact upper bound is 0.191 at 90%, 0.221 at 95% and 0.240 at 97%
    counted = score(2 / 30, None, samples=30, successes=2)
    test = only(metric(thresholds={"c1": 0.2}), [evidence(counted)], confidence)
    assert test.outcome == outcome
    assert test.upper == pytest.approx(clopper_pearson(2, 30, confidence)[1], abs=1e-12)


def test_a_run_too_small_to_rule_out_is_named_before_the_straddle() -> None:
    # 1 of 10 straddles 0.3 and even 0 of 10 could not rule it out (upper bound 0.31)
    test = only(
        metric(thresholds={"c1": 0.3}), [evidence(score(0.1, None, samples=10, successes=1))]
    )
    assert (test.outcome, test.rule) == ("cannot_rule_out", "evidence.too_few_samples")
    # exactly on the best a run of its size could show: still too few
    best = round(1 - 0.025 ** (1 / 10), 12)
    zero = evidence(score(0.0, None, samples=10, successes=0))
    assert only(metric(thresholds={"c1": best}), [zero]).rule == "evidence.too_few_samples"
    above = only(metric(thresholds={"c1": best + 1e-9}), [zero])
    assert (above.outcome, above.rule) == ("ruled_out", "stat.ruled_out")


@pytest.mark.parametrize(("epochs", "samples"), [(2, 100), (3, 39)])
def test_a_low_score_with_too_little_elicitation_cannot_rule_out(epochs: int, samples: int) -> None:
    m = metric(min_epochs=3, min_samples=40)
    low = evidence(score(0.1, 0.01), epochs=epochs, samples=samples)
    test = only(m, [low])
    assert (test.outcome, test.rule) == ("cannot_rule_out", "elicitation.minimum_not_met")
    enough = only(m, [evidence(score(0.1, 0.01), epochs=3, samples=40)])
    assert (enough.outcome, enough.rule) == ("ruled_out", "stat.ruled_out")


def test_a_run_that_cannot_be_read_does_not_hide_the_runs_after_it() -> None:
    good = evidence(score(0.9), name="good")
    unread = [
        evidence(score(0.9, scorer="model_graded"), name="other"),
        evidence(score(0.9), name="old", version=3),
    ]
    for first in unread:
        test = only(metric(), [first, good])
        assert (test.outcome, test.evidence) == ("reached", good.digest)


def test_a_score_of_zero_ranks_below_any_higher_score() -> None:
    # neither has an interval, so both cannot rule out: the higher score is the one that counts
    zero = evidence(score(0.0, None), name="zero")
    some = evidence(score(0.3, None), name="some")
    for runs in ([zero, some], [some, zero]):
        assert only(metric(), runs).evidence == some.digest
