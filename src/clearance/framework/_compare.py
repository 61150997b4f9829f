"""An applicant's self-assessment against the register's own run: what differs, in words.

Both are the assessor's JSON output (`clearance assess --format json`, `assessment_to_dict`).
Three aspects can differ: the framework version assessed against, the evidence weighed, and the
outcome (the most open tier, each domain's level, each jurisdiction group's tier, conditions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from clearance.errors import InvalidInput

Aspect = Literal["framework", "evidence", "outcome"]


@dataclass(frozen=True)
class AssessmentDifference:
    """One way the self-assessment differs from the register's run."""

    aspect: Aspect
    text: str


def compare_assessments(
    register: Mapping[str, Any], applicant: Mapping[str, Any]
) -> tuple[AssessmentDifference, ...]:
    """Every difference of the applicant's self-assessment from the register's run, in order.

    A self-assessment that is not the assessor's JSON output is refused (InvalidInput).
    """
    theirs = _shape(applicant)
    ours = _shape(register)
    found: list[AssessmentDifference] = []
    if theirs["framework"]["sha256"] != ours["framework"]["sha256"]:
        found.append(
            AssessmentDifference(
                "framework",
                f"the self-assessment used {_framework(theirs)}; the register assessed against "
                f"{_framework(ours)}",
            )
        )
    their_evidence = {e["sha256"]: e.get("name", e["sha256"][:16]) for e in theirs["evidence"]}
    our_evidence = {e["sha256"]: e.get("name", e["sha256"][:16]) for e in ours["evidence"]}
    extra = sorted(their_evidence.keys() - our_evidence.keys())
    if extra:
        names = ", ".join(str(their_evidence[d]) for d in extra)
        found.append(
            AssessmentDifference(
                "evidence", f"the self-assessment weighed evidence not filed with it: {names}"
            )
        )
    missing = sorted(our_evidence.keys() - their_evidence.keys())
    if missing:
        names = ", ".join(str(our_evidence[d]) for d in missing)
        found.append(
            AssessmentDifference(
                "evidence", f"evidence filed but not in the self-assessment: {names}"
            )
        )
    if theirs["max_tier"] != ours["max_tier"]:
        found.append(
            AssessmentDifference(
                "outcome",
                f"most open tier: the self-assessment found {theirs['max_tier']}, the register "
                f"{ours['max_tier']}",
            )
        )
    found.extend(
        _keyed(
            "domain",
            "level",
            _by(theirs, "domains", "domain", "level"),
            _by(ours, "domains", "domain", "level"),
        )
    )
    found.extend(
        _keyed(
            "jurisdiction group",
            "tier",
            _by(theirs, "jurisdictions", "group", "max_tier"),
            _by(ours, "jurisdictions", "group", "max_tier"),
        )
    )
    their_conditions, our_conditions = set(theirs["conditions"]), set(ours["conditions"])
    for condition in sorted(our_conditions - their_conditions):
        found.append(
            AssessmentDifference("outcome", f"condition not in the self-assessment: {condition}")
        )
    for condition in sorted(their_conditions - our_conditions):
        found.append(
            AssessmentDifference("outcome", f"condition in the self-assessment only: {condition}")
        )
    return tuple(found)


def _keyed(
    noun: str, what: str, theirs: dict[str, str], ours: dict[str, str]
) -> list[AssessmentDifference]:
    found = []
    for key in sorted(theirs.keys() | ours.keys()):
        mine, yours = ours.get(key), theirs.get(key)
        if mine == yours:
            continue
        found.append(
            AssessmentDifference(
                "outcome",
                f"{noun} {key}: the self-assessment found {what} {yours or 'none'}, the register "
                f"{mine or 'none'}",
            )
        )
    return found


def _by(data: Mapping[str, Any], key: str, name: str, value: str) -> dict[str, str]:
    return {str(item[name]): str(item[value]) for item in data[key]}


def _framework(data: Mapping[str, Any]) -> str:
    framework = data["framework"]
    return (
        f"{framework.get('id', '?')} {framework.get('version', '?')} "
        f"(sha256:{str(framework['sha256'])[:16]}...)"
    )


def _shape(data: Mapping[str, Any]) -> dict[str, Any]:
    """The parts compared, checked; an error names the first part that is off."""
    problem = _problem(data)
    if problem:
        raise InvalidInput(
            f"self_assessment: not the assessor's JSON output (`clearance assess --format json`): "
            f"{problem}"
        )
    return {
        "framework": data["framework"],
        "evidence": data.get("evidence", []),
        "max_tier": data["max_tier"],
        "domains": data.get("domains", []),
        "jurisdictions": data.get("jurisdictions", []),
        "conditions": [str(c) for c in data.get("conditions", [])],
    }


def _problem(data: Mapping[str, Any]) -> str | None:
    framework = data.get("framework")
    if not isinstance(framework, Mapping) or not isinstance(framework.get("sha256"), str):
        return "it has no framework.sha256"
    if not isinstance(data.get("max_tier"), str):
        return "it has no max_tier"
    lists = {
        "evidence": ("sha256",),
        "domains": ("domain", "level"),
        "jurisdictions": ("group", "max_tier"),
    }
    for key, fields in lists.items():
        items = data.get(key, [])
        if not isinstance(items, list) or not all(
            isinstance(item, Mapping) and all(isinstance(item.get(f), str) for f in fields)
            for item in items
        ):
            return f"{key} is not a list of objects with {' and '.join(fields)}"
    if not isinstance(data.get("conditions", []), list):
        return "conditions is not a list"
    return None
