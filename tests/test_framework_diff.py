"""`diff_frameworks` and `clearance framework diff`: what changed, in words."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from clearance.framework import diff_frameworks
from tests.framework_data import SMALL, as_yaml, load, small


def test_identical_frameworks_have_no_changes() -> None:
    assert diff_frameworks(load(SMALL), load(SMALL)) == ()


def changed_framework() -> dict[str, object]:
    data = small(version="1.1", supersedes="1.0")
    data["metrics"][0]["thresholds"]["c1"] = 0.4
    data["domains"][0]["levels"][1]["max_tier"] = "approved_partners"
    data["jurisdictions"][0]["members"] = ["US", "GB", "CA"]
    data["procedure"] = {"decision_days": 60, "deemed_approval": {"enabled": False}}
    data["safeguards"].append({"id": "kyc", "name": "Know your customer"})
    return data


def test_changes_are_described_in_words() -> None:
    texts = [c.text for c in diff_frameworks(load(SMALL), load(changed_framework()))]
    assert "version: 1.0 -> 1.1" in texts
    assert "metric ctf: threshold for c1 lowered from 0.5 to 0.4" in texts
    assert (
        "cyber c1: most open tier with safeguards: public_safeguarded -> approved_partners" in texts
    )
    assert "group t1 members: added CA" in texts
    assert "procedure.decision_days: 90 -> 60" in texts
    assert "procedure.deemed_approval.enabled: True -> False" in texts
    assert "safeguard kyc added" in texts


def test_making_a_domains_evidence_confidential_is_a_change() -> None:
    data = small()
    data["domains"][0]["confidential_evidence"] = True
    (change,) = diff_frameworks(load(SMALL), load(data))
    assert change.path == "domains.cyber.confidential_evidence"
    assert (change.old, change.new) == (False, True)


def test_levels_added_and_removed() -> None:
    data = small()
    data["domains"][0]["levels"].pop()
    data["metrics"][0]["thresholds"].pop("c2")
    changes = diff_frameworks(load(SMALL), load(data))
    areas = {c.area for c in changes}
    assert {"levels", "thresholds"} <= areas
    assert "domain cyber levels: c0 < c1 < c2 -> c0 < c1" in [c.text for c in changes]
    assert "metric ctf: threshold for c2 removed (was 0.8)" in [c.text for c in changes]


def test_cli_diff_prints_changes(tmp_path: Path) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(as_yaml(SMALL))
    new.write_text(as_yaml(changed_framework()))
    result = subprocess.run(
        [sys.executable, "-m", "clearance", "framework", "diff", str(old), str(new)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "small 1.0 -> small 1.1" in result.stdout
    assert "threshold for c1 lowered from 0.5 to 0.4" in result.stdout
