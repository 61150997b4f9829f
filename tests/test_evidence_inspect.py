"""Inspect logs, made by real offline evals, as the assessor will see them; and what is refused."""

from __future__ import annotations

import hashlib
import math
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.log import EvalError, read_eval_log, write_eval_log

from clearance.errors import EvidenceRefused
from clearance.evidence import load_evidence
from clearance.framework import EvalRun, Score
from tests.conftest import InspectLogs
from tests.inspect_logs import make_inspect_log, make_many_logs

# 10 of 20 right: sample std (ddof=1) / sqrt(n) of ten 1s and ten 0s
STDERR_HALF = math.sqrt((20 * 0.25 / 19) / 20)


def run_of(path: Path) -> EvalRun:
    evidence = load_evidence(path)
    assert isinstance(evidence, EvalRun)
    return evidence


def only(run: EvalRun, reducer: str | None = None) -> Score:
    (score,) = [s for s in run.scores if s.reducer == reducer]
    return score


def rewrite(source: Path, target: Path, **changes: Any) -> Path:
    """The same real log with some header fields changed, written by Inspect itself."""
    log = read_eval_log(str(source))
    write_eval_log(log.model_copy(update=changes), str(target))
    return target


def refusal(path: Path) -> str:
    with pytest.raises(EvidenceRefused) as caught:
        load_evidence(path)
    message = caught.value.message
    assert str(path) in message
    assert "\n" not in message
    return message


@pytest.mark.parametrize("fmt", ["eval", "json"])
def test_a_one_epoch_log_becomes_one_run(inspect_logs: InspectLogs, fmt: str) -> None:
    path = inspect_logs.eval if fmt == "eval" else inspect_logs.json
    run = run_of(path)
    assert run.source == "inspect"
    assert run.kind == "eval"
    assert (run.task, run.task_version, run.model) == ("ctf", 1, "mockllm/model")
    assert (run.epochs, run.samples) == (1, 20)
    (score,) = run.scores
    assert (score.scorer, score.metric, score.value) == ("includes", "accuracy", 0.5)
    assert (score.reducer, score.filter) == (None, None)
    assert score.stderr == pytest.approx(STDERR_HALF)


@pytest.mark.parametrize("fmt", ["eval", "json"])
def test_digest_is_the_sha256_of_the_bytes_and_name_the_file_name(
    inspect_logs: InspectLogs, fmt: str
) -> None:
    path = inspect_logs.eval if fmt == "eval" else inspect_logs.json
    run = run_of(path)
    assert run.digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert re.fullmatch("[0-9a-f]{64}", run.digest)
    assert run.name == path.name


def test_each_epochs_reducer_is_its_own_score(inspect_logs: InspectLogs) -> None:
    run = run_of(inspect_logs.reducers)
    assert (run.epochs, run.samples) == (3, 20)
    values = {s.reducer: s.value for s in run.scores}
    # 10 always right, 4 right on the first of 3 epochs only
    assert values == pytest.approx(
        {"mean": (10 + 4 / 3) / 20, "at_least_1": 14 / 20, "pass_at_2": (10 + 4 * 2 / 3) / 20}
    )
    assert all(s.scorer == "includes" and s.metric == "accuracy" for s in run.scores)
    assert all(s.stderr is not None and s.stderr > 0 for s in run.scores)


@pytest.mark.parametrize("fmt", ["eval", "json"])
def test_an_undeclared_reducer_over_several_epochs_is_inspects_default_mean(
    inspect_logs: InspectLogs, fmt: str
) -> None:
    path = inspect_logs.default_reducer_eval if fmt == "eval" else inspect_logs.default_reducer_json
    header = read_eval_log(str(path), header_only=True)
    assert header.results is not None
    assert header.results.scores[0].reducer is None  # what Inspect writes
    run = run_of(path)
    assert (run.epochs, run.samples) == (3, 20)
    score = only(run, "mean")
    assert score.value == pytest.approx((10 + 4 / 3) / 20)
    assert score.stderr == pytest.approx(only(run_of(inspect_logs.reducers), "mean").stderr)


def test_one_epoch_without_a_reducer_has_no_reducer(inspect_logs: InspectLogs) -> None:
    assert only(run_of(inspect_logs.eval)).reducer is None


@pytest.mark.parametrize("fmt", ["eval", "json"])
def test_a_missing_stderr_is_computed_from_the_samples_as_inspect_would(
    inspect_logs: InspectLogs, fmt: str
) -> None:
    path = inspect_logs.no_stderr_eval if fmt == "eval" else inspect_logs.no_stderr_json
    header = read_eval_log(str(path), header_only=True)
    assert header.results is not None
    assert "stderr" not in header.results.scores[0].metrics
    score = only(run_of(path))
    assert score.stderr == pytest.approx(only(run_of(inspect_logs.eval)).stderr)


def test_a_missing_stderr_is_computed_per_reducer(inspect_logs: InspectLogs) -> None:
    computed = {s.reducer: s.stderr for s in run_of(inspect_logs.reducers_no_stderr).scores}
    logged = {s.reducer: s.stderr for s in run_of(inspect_logs.reducers).scores}
    assert computed == pytest.approx(logged)
    assert len(set(logged.values())) == 3


def test_one_sample_has_no_stderr(tmp_path: Path) -> None:
    """Inspect logs a stderr of 0 for a single sample, which would claim perfect certainty."""
    (score,) = run_of(make_inspect_log(tmp_path, samples=1, correct=1)).scores
    assert (score.value, score.stderr) == (1.0, None)


def test_a_log_is_read_for_what_it_is_whatever_its_name(
    inspect_logs: InspectLogs, tmp_path: Path
) -> None:
    renamed = tmp_path / "results.bin"
    shutil.copyfile(inspect_logs.eval, renamed)
    assert run_of(renamed).scores == run_of(inspect_logs.eval).scores


def test_a_failed_eval_is_refused_with_its_status_and_error(inspect_logs: InspectLogs) -> None:
    message = refusal(inspect_logs.failed)
    assert "status 'error'" in message
    assert "sandbox unavailable" in message


@pytest.mark.parametrize("status", ["cancelled", "started"])
def test_an_unfinished_eval_is_refused_with_its_status(
    inspect_logs: InspectLogs, tmp_path: Path, status: str
) -> None:
    path = rewrite(inspect_logs.eval, tmp_path / "unfinished.eval", status=status)
    assert f"status {status!r}" in refusal(path)


def test_an_error_message_is_cut_to_one_line(inspect_logs: InspectLogs, tmp_path: Path) -> None:
    error = EvalError(message="boom\n" + "x" * 1000, traceback="", traceback_ansi="")
    path = rewrite(inspect_logs.eval, tmp_path / "error.eval", status="error", error=error)
    message = refusal(path)
    assert "boom" in message
    assert len(message) < len(str(path)) + 200


@pytest.mark.parametrize("fmt", ["eval", "json"])
def test_a_log_without_results_is_refused(
    inspect_logs: InspectLogs, tmp_path: Path, fmt: str
) -> None:
    path = rewrite(inspect_logs.eval, tmp_path / f"no-results.{fmt}", results=None)
    assert "no results" in refusal(path)


def test_a_log_with_invalidated_samples_is_refused(
    inspect_logs: InspectLogs, tmp_path: Path
) -> None:
    path = rewrite(inspect_logs.eval, tmp_path / "invalidated.eval", invalidated=True)
    assert "invalidated" in refusal(path)


@pytest.mark.parametrize("fmt", ["eval", "json"])
def test_a_truncated_log_is_refused(inspect_logs: InspectLogs, tmp_path: Path, fmt: str) -> None:
    source = inspect_logs.eval if fmt == "eval" else inspect_logs.json
    data = source.read_bytes()
    path = tmp_path / f"truncated.{fmt}"
    path.write_bytes(data[: len(data) // 2])
    message = refusal(path)
    assert "truncated" in message or "not valid JSON" in message


def test_a_nan_metric_is_refused(inspect_logs: InspectLogs, tmp_path: Path) -> None:
    log = read_eval_log(str(inspect_logs.eval))
    assert log.results is not None
    log.results.scores[0].metrics["accuracy"].value = math.nan
    write_eval_log(log, str(tmp_path / "nan.eval"))
    assert "not a finite number" in refusal(tmp_path / "nan.eval")


def test_many_logs_are_distinct_real_runs_and_copies(tmp_path: Path) -> None:
    paths = make_many_logs(tmp_path, 3, samples=4, real_runs=2, processes=1)
    runs = [run_of(path) for path in paths]
    assert len({run.digest for run in runs}) == 3
    assert [run.scores[0].value for run in runs] == [0.0, 0.25, 0.0]
    assert all(run.samples == 4 for run in runs)


@pytest.mark.parametrize("fmt", ["eval", "json"])
def test_sample_counts_come_with_a_proportion(inspect_logs: InspectLogs, fmt: str) -> None:
    path = inspect_logs.eval if fmt == "eval" else inspect_logs.json
    score = only(run_of(path))
    assert (score.samples, score.successes) == (20, 10)


def test_sample_counts_per_reducer(inspect_logs: InspectLogs) -> None:
    counts = {s.reducer: (s.samples, s.successes) for s in run_of(inspect_logs.reducers).scores}
    # at_least_1 scores each sample 0 or 1; mean and pass_at_2 give fractions, summed
    assert counts["at_least_1"] == (20, 14)
    assert counts["mean"] == (20, pytest.approx(10 + 4 / 3))
    assert counts["pass_at_2"] == (20, pytest.approx(10 + 4 * 2 / 3))
    no_stderr = {
        s.reducer: (s.samples, s.successes) for s in run_of(inspect_logs.reducers_no_stderr).scores
    }
    assert no_stderr == counts


def test_sample_counts_need_no_sample_read(inspect_logs: InspectLogs, tmp_path: Path) -> None:
    """The counts come from the reductions the header holds, not from the samples."""
    log = read_eval_log(str(inspect_logs.reducers))
    stripped = tmp_path / "no-samples.eval"
    write_eval_log(log.model_copy(update={"samples": None}), str(stripped))
    assert read_eval_log(str(stripped)).samples in (None, [])
    assert [(s.samples, s.successes) for s in run_of(stripped).scores] == [
        (s.samples, s.successes) for s in run_of(inspect_logs.reducers).scores
    ]


def test_zero_of_ten_keeps_its_counts_though_inspect_logs_a_zero_stderr(tmp_path: Path) -> None:
    from clearance.framework import assess
    from tests.framework_data import load, small

    path = make_inspect_log(tmp_path, samples=10, correct=0)
    (score,) = run_of(path).scores
    assert (score.value, score.samples, score.successes) == (0.0, 10, 0)
    data = small()
    data["metrics"][0]["source"]["scorer"] = "includes"
    data["metrics"][0]["thresholds"] = {"c1": 0.3, "c2": 0.8}
    data["metrics"][0]["elicitation"] = {"min_samples": 10}
    result = assess(load(data), [run_of(path)])
    tests = {t.level: (t.outcome, t.rule) for _, t in result.domains[0].tests}
    assert tests["c1"] == ("cannot_rule_out", "evidence.too_few_samples")
