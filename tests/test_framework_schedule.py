"""Framework versions take effect on their effective date, once; the procedure's new fields."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from clearance.errors import InvalidInput
from clearance.examples import example_path
from clearance.framework import parse_framework
from tests.register_fixtures import Register
from tests.test_register_clock import run_clock
from tests.test_register_lifecycle import events_of, file_application


def versions(reg: Register) -> dict[str, dict[str, Any]]:
    return {v["version"]: v for v in reg.ok(None, "GET", "/frameworks")["items"]}


def test_a_future_version_is_scheduled_then_current_once(register: Register) -> None:
    reg = register
    newer = yaml.safe_load(example_path().read_text())
    newer["version"] = "2.0.0"
    newer["effective_date"] = "2026-06-10"
    published = reg.ok("admin", "POST", "/frameworks", content=yaml.safe_dump(newer).encode())
    assert published["state"] == "scheduled"
    listed = versions(reg)
    assert (listed["1.0.0"]["state"], listed["2.0.0"]["state"]) == ("current", "scheduled")
    assert listed["2.0.0"]["effective_date"] == "2026-06-10"
    before = file_application(reg)
    assert before["framework_digest"] == listed["1.0.0"]["sha256"]  # filed under what is current

    reg.clock.advance(days=8)  # 2026-06-09
    assert run_clock(reg) == []
    reg.clock.advance(days=1)
    assert run_clock(reg) == [{"kind": "framework_effective", "subject": published["sha256"]}]
    assert run_clock(reg) == []
    listed = versions(reg)
    assert (listed["1.0.0"]["state"], listed["2.0.0"]["state"]) == ("superseded", "current")
    assert reg.ok(None, "GET", "/frameworks/current")["sha256"] == published["sha256"]
    assert len(events_of(reg, "framework.effective")) == 1
    # applications filed before keep their version; new ones take the current one
    kept = reg.ok(None, "GET", f"/applications/{before['id']}")
    assert kept["framework_digest"] == listed["1.0.0"]["sha256"]
    assert file_application(reg, "atlas-3")["framework_digest"] == published["sha256"]


def _procedure(**fields: Any) -> Any:
    data = yaml.safe_load(example_path().read_text())
    data["procedure"].update(fields)
    return parse_framework(yaml.safe_dump(data))


def test_hearing_within_days_moved_and_still_read_at_its_old_place() -> None:
    data = yaml.safe_load(example_path().read_text())
    del data["procedure"]["hearing_within_days"]
    data["procedure"]["directive"]["hearing_within_days"] = 7
    framework = parse_framework(yaml.safe_dump(data))
    assert framework.procedure.hearing_within_days == 7
    assert "hearing_within_days" not in framework.procedure.directive.model_dump()
    data["procedure"]["hearing_within_days"] = 9
    with pytest.raises(InvalidInput, match="given twice"):
        parse_framework(yaml.safe_dump(data))


def test_panel_size_must_allow_a_majority() -> None:
    assert _procedure(appeal_panel_size=5).procedure.appeal_panel_size == 5
    with pytest.raises(InvalidInput, match="odd"):
        _procedure(appeal_panel_size=4)
    with pytest.raises(InvalidInput, match="appeal_on_missed"):
        _procedure(appeal_on_missed="ignore")
