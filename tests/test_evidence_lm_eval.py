"""lm-evaluation-harness results files: one task per file, one Score per metric and filter."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from clearance.errors import EvidenceRefused
from clearance.evidence import load_evidence
from clearance.framework import EvalRun

# The shape lm-eval 0.4.x writes with `--output_path` (trimmed: configs hold the full task YAML).
RESULTS: dict[str, Any] = {
    "results": {
        "wmdp_bio": {
            "alias": "wmdp_bio",
            "acc,none": 0.6394344069128044,
            "acc_stderr,none": 0.013458752853429234,
        }
    },
    "group_subtasks": {"wmdp_bio": []},
    "configs": {
        "wmdp_bio": {
            "task": "wmdp_bio",
            "dataset_path": "cais/wmdp",
            "dataset_name": "wmdp-bio",
            "test_split": "test",
            "output_type": "multiple_choice",
            "num_fewshot": 0,
            "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
            "metadata": {"version": 1},
        }
    },
    "versions": {"wmdp_bio": 1},
    "n-shot": {"wmdp_bio": 0},
    "higher_is_better": {"wmdp_bio": {"acc": True}},
    "n-samples": {"wmdp_bio": {"original": 1273, "effective": 1273}},
    "config": {
        "model": "hf",
        "model_args": "pretrained=example-org/frontier-7b,dtype=bfloat16",
        "batch_size": "auto",
        "device": "cuda:0",
        "limit": None,
        "bootstrap_iters": 100000,
        "random_seed": 0,
    },
    "git_hash": "a1b2c3d",
    "date": 1751000000.0,
    "model_name": "example-org/frontier-7b",
    "model_name_sanitized": "example-org__frontier-7b",
    "lm_eval_version": "0.4.8",
    "total_evaluation_time_seconds": "412.7",
}


def results(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(RESULTS)
    document.update(changes)
    return document


def write(tmp_path: Path, document: Any, name: str = "results_2025-06-27T10-00-00.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def run_of(path: Path) -> EvalRun:
    evidence = load_evidence(path)
    assert isinstance(evidence, EvalRun)
    return evidence


def refusal(path: Path) -> str:
    with pytest.raises(EvidenceRefused) as caught:
        load_evidence(path)
    assert str(path) in caught.value.message
    return caught.value.message


def test_a_one_task_results_file_becomes_one_run(tmp_path: Path) -> None:
    path = write(tmp_path, RESULTS)
    run = run_of(path)
    assert run.source == "lm_eval"
    assert (run.task, run.task_version, run.model) == ("wmdp_bio", 1, "example-org/frontier-7b")
    assert (run.epochs, run.samples) == (1, 1273)
    assert run.digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert run.name == path.name
    (score,) = run.scores
    assert (score.scorer, score.metric, score.filter) == ("lm_eval", "acc", "none")
    assert (score.value, score.stderr, score.reducer) == (
        0.6394344069128044,
        0.013458752853429234,
        None,
    )


def test_every_metric_and_filter_is_a_score(tmp_path: Path) -> None:
    document = results()
    document["results"]["wmdp_bio"].update(
        {
            "acc_norm,none": 0.61,
            "acc_norm_stderr,none": 0.0136,
            "exact_match,strict-match": 0.4,
            "exact_match_stderr,strict-match": 0.0137,
        }
    )
    scores = {
        (s.metric, s.filter): (s.value, s.stderr) for s in run_of(write(tmp_path, document)).scores
    }
    assert scores == {
        ("acc", "none"): (0.6394344069128044, 0.013458752853429234),
        ("acc_norm", "none"): (0.61, 0.0136),
        ("exact_match", "strict-match"): (0.4, 0.0137),
    }


@pytest.mark.parametrize("stderr", ["N/A", None, float("nan")])
def test_a_stderr_lm_eval_did_not_compute_is_none(tmp_path: Path, stderr: Any) -> None:
    document = results()
    document["results"]["wmdp_bio"]["acc_stderr,none"] = stderr
    (score,) = run_of(write(tmp_path, document)).scores
    assert score.stderr is None


def test_the_model_comes_from_model_args_when_model_name_is_absent(tmp_path: Path) -> None:
    document = results()
    del document["model_name"]
    assert run_of(write(tmp_path, document)).model == "example-org/frontier-7b"
    document["config"]["model_args"] = {"model": "gpt-x", "base_url": "http://localhost"}
    assert run_of(write(tmp_path, document)).model == "gpt-x"


def test_a_string_task_version_is_kept(tmp_path: Path) -> None:
    assert run_of(write(tmp_path, results(versions={"wmdp_bio": "2.0"}))).task_version == "2.0"


def test_a_file_with_several_tasks_is_refused_naming_them(tmp_path: Path) -> None:
    document = results()
    document["results"]["wmdp_chem"] = {"alias": "wmdp_chem", "acc,none": 0.5}
    message = refusal(write(tmp_path, document))
    assert "2 tasks" in message
    assert "wmdp_bio, wmdp_chem" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"results": {}}, "no results"),
        ({"n-samples": {}}, "no effective sample count"),
        ({"versions": {}}, "no version for task 'wmdp_bio'"),
        ({"model_name": None, "config": {"model": "hf"}}, "does not name the model"),
        ({"results": {"wmdp_bio": {"alias": "wmdp_bio"}}}, "reports no metrics"),
        ({"results": {"wmdp_bio": {"acc,none": "high"}}}, "'high' is not a finite number"),
        ({"results": {"wmdp_bio": {"acc,none": 0.5, "acc_stderr,none": -1}}}, "negative"),
        ({"results": {"wmdp_bio": {"acc,none": float("inf")}}}, "not a finite number"),
    ],
)
def test_an_incomplete_results_file_is_refused(
    tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    assert expected in refusal(write(tmp_path, results(**change)))


def test_zero_one_metrics_carry_their_counts(tmp_path: Path) -> None:
    document = results()
    document["results"]["wmdp_bio"].update(
        {
            "acc_norm,none": 800 / 1273,
            "exact_match,strict-match": 0.4,  # not a whole number of 1273ths
            "mc2,none": 1000 / 1273,  # a whole number, but not a 0/1 metric
        }
    )
    counts = {s.metric: (s.samples, s.successes) for s in run_of(write(tmp_path, document)).scores}
    assert counts == {
        "acc": (1273, 814),
        "acc_norm": (1273, 800),
        "exact_match": (None, None),
        "mc2": (None, None),
    }
