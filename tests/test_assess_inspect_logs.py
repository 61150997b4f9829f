"""The assessor on real Inspect logs, read by the adapter: every rule path, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from clearance.evidence import load_evidence
from clearance.framework import assess
from tests.framework_data import as_yaml, load, small
from tests.inspect_logs import make_inspect_log


def framework_data(min_epochs: int = 1) -> dict[str, object]:
    data = small()
    data["metrics"][0]["source"]["scorer"] = "includes"
    data["metrics"][0]["elicitation"] = {"min_epochs": min_epochs, "min_samples": 20}
    return data


@dataclass(frozen=True)
class Logs:
    reached: Path
    ruled_out: Path
    straddles: Path
    version_2: Path
    three_epochs_low: Path
    failed: Path


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Logs:
    folder = tmp_path_factory.mktemp("rule-paths")
    return Logs(
        # 20 of 20: the exact 95% lower bound is 0.83, above the 0.8 threshold (19 of 20: 0.75)
        reached=make_inspect_log(folder, samples=20, correct=20),
        ruled_out=make_inspect_log(folder, samples=20, correct=1),
        straddles=make_inspect_log(folder, samples=20, correct=10),
        version_2=make_inspect_log(folder, samples=20, correct=1, task_version=2),
        three_epochs_low=make_inspect_log(
            folder, samples=20, correct=1, epochs=3, reducers=["mean"]
        ),
        failed=make_inspect_log(folder, samples=4, correct=0, fail=True),
    )


def outcome(path: Path, min_epochs: int = 1) -> dict[str, tuple[str, str]]:
    result = assess(load(framework_data(min_epochs)), [load_evidence(path)])
    return {t.level: (t.outcome, t.rule) for _, t in result.domains[0].tests}


def test_reached(logs: Logs) -> None:
    assert outcome(logs.reached)["c2"] == ("reached", "stat.reached")


def test_ruled_out(logs: Logs) -> None:
    assert outcome(logs.ruled_out) == {
        "c1": ("ruled_out", "stat.ruled_out"),
        "c2": ("ruled_out", "stat.ruled_out"),
    }


def test_cannot_rule_out(logs: Logs) -> None:
    assert outcome(logs.straddles)["c1"] == ("cannot_rule_out", "stat.cannot_rule_out")


def test_too_few_epochs(logs: Logs) -> None:
    assert outcome(logs.ruled_out, min_epochs=3)["c1"] == (
        "cannot_rule_out",
        "elicitation.minimum_not_met",
    )


def test_enough_epochs_with_a_reducer(logs: Logs) -> None:
    data = framework_data(min_epochs=3)
    data["metrics"][0]["source"]["reducer"] = "mean"
    result = assess(load(data), [load_evidence(logs.three_epochs_low)])
    assert result.domains[0].tests[0][1].outcome == "ruled_out"


def test_incomparable_version(logs: Logs) -> None:
    assert outcome(logs.version_2)["c1"] == ("cannot_rule_out", "evidence.incomparable_version")


def clearance(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clearance", *args], capture_output=True, text=True, check=False
    )


def test_cli_assess_json_is_byte_identical_in_any_order(logs: Logs, tmp_path: Path) -> None:
    framework = tmp_path / "fw.yaml"
    framework.write_text(as_yaml(framework_data()))
    paths = [str(logs.reached), str(logs.version_2), str(logs.ruled_out)]
    first = clearance("assess", str(framework), *paths, "--format", "json")
    second = clearance("assess", str(framework), *reversed(paths), "--format", "json")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    data = json.loads(first.stdout)
    assert data["domains"][0]["level"] == "c2"
    assert [r["name"] for r in data["refused_evidence"]] == [logs.version_2.name]


def test_cli_assess_text(logs: Logs, tmp_path: Path) -> None:
    framework = tmp_path / "fw.yaml"
    framework.write_text(as_yaml(framework_data()))
    result = clearance("assess", str(framework), str(logs.ruled_out))
    assert result.returncode == 0, result.stderr
    assert "Cyber: Baseline (c0)." in result.stdout
    assert "ruled out (stat.ruled_out" in result.stdout


def test_cli_refuses_an_unfinished_run(logs: Logs, tmp_path: Path) -> None:
    framework = tmp_path / "fw.yaml"
    framework.write_text(as_yaml(framework_data()))
    result = clearance("assess", str(framework), str(logs.reached), str(logs.failed))
    assert result.returncode == 2
    assert result.stdout == ""
    assert str(logs.failed.name) in result.stderr and "error" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_refuses_a_truncated_log(logs: Logs, tmp_path: Path) -> None:
    framework = tmp_path / "fw.yaml"
    framework.write_text(as_yaml(framework_data()))
    truncated = tmp_path / "cut.eval"
    truncated.write_bytes(logs.reached.read_bytes()[:500])
    result = clearance("assess", str(framework), str(truncated))
    assert result.returncode == 2
    assert "cut.eval" in result.stderr and "Traceback" not in result.stderr


def test_shipped_examples_assess(tmp_path: Path) -> None:
    folder = tmp_path / "example"
    copied = clearance("examples", str(folder))
    assert copied.returncode == 0, copied.stderr
    evidence = sorted(str(p) for p in (folder / "evidence").iterdir())
    result = clearance(
        "assess",
        str(folder / "frontier-example.yaml"),
        *evidence,
        "--safeguards",
        str(folder / "safeguards.json"),
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    levels = {d["domain"]: d["level"] for d in data["domains"]}
    assert levels == {"cyber": "cyber-high", "cbrn": "cbrn-baseline", "ai-rd": "ai-rd-baseline"}
    assert data["max_tier"] == "public_safeguarded"
    assert data["refused_evidence"] == [] and data["unused_evidence"] == []
    again = clearance("examples", str(folder))
    assert again.returncode == 2 and "not an empty folder" in again.stderr


def test_parallel_loading_matches_serial(logs: Logs) -> None:
    from clearance.evidence import load_many

    paths = [logs.reached, logs.ruled_out, logs.straddles, logs.version_2] * 3
    seen: list[Path] = []
    parallel = load_many(paths, processes=2, progress=seen.append)
    assert parallel == [load_evidence(path) for path in paths]
    assert seen == paths


def test_parallel_loading_reports_the_refused_file(logs: Logs) -> None:
    from clearance.errors import EvidenceRefused
    from clearance.evidence import load_many

    paths = [logs.reached] * 8 + [logs.failed]
    with pytest.raises(EvidenceRefused) as info:
        load_many(paths, processes=2)
    assert logs.failed.name in info.value.message
