"""The applicant's self-assessment, checked at filing against the register's own run.

Differences (framework version, evidence set, outcome) are kept with the application and shown
to the reviewer (the API and the review queue) and on the decision page.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from clearance.errors import InvalidInput
from clearance.evidence import load_evidence
from clearance.examples import example_path
from clearance.framework import assess, assessment_to_dict, compare_assessments, parse_framework
from tests.register_fixtures import Register

EVIDENCE = example_path("evidence")
FILES = ("ctf_professional.eval", "bio_protocols.eval")


def own_run(files: tuple[str, ...] = FILES, framework_text: str | None = None) -> dict[str, Any]:
    """What `clearance assess FRAMEWORK FILES --format json` prints for the applicant."""
    framework = parse_framework(framework_text or example_path().read_text())
    return assessment_to_dict(assess(framework, [load_evidence(EVIDENCE / f) for f in files]))


def lower_cbrn_threshold() -> str:
    data = yaml.safe_load(example_path().read_text())
    data["version"] = "1.0.9-draft"
    for metric in data["metrics"]:
        if metric["id"] == "cbrn-protocol-troubleshooting":
            metric["thresholds"]["cbrn-high"] = 0.2
    return yaml.safe_dump(data, sort_keys=False)


def test_the_same_run_has_no_differences() -> None:
    assert compare_assessments(own_run(), own_run()) == ()


def test_each_kind_of_difference_is_named() -> None:
    theirs = own_run(FILES[:1], lower_cbrn_threshold())
    found = [(d.aspect, d.text) for d in compare_assessments(own_run(), theirs)]
    framework, evidence, outcome = found
    assert framework[0] == "framework"
    assert (
        "frontier-example 1.0.9-draft" in framework[1] and "frontier-example 1.0.0" in framework[1]
    )
    assert evidence == (
        "evidence",
        "evidence filed but not in the self-assessment: bio_protocols.eval",
    )
    # without the protocol results the applicant could not rule out the critical level
    assert outcome == (
        "outcome",
        "domain cbrn: the self-assessment found level cbrn-critical, the register cbrn-high",
    )


def test_an_outcome_difference_is_named() -> None:
    theirs = copy.deepcopy(own_run())
    theirs["max_tier"] = "public"
    theirs["domains"][0]["level"] = "cyber-baseline"
    theirs["jurisdictions"][0]["max_tier"] = "public"
    theirs["conditions"] = ["Report monthly."]
    texts = [d.text for d in compare_assessments(own_run(), theirs) if d.aspect == "outcome"]
    assert texts[0].startswith("most open tier: the self-assessment found public, the register ")
    assert any(
        t.startswith("domain cyber: the self-assessment found level cyber-baseline") for t in texts
    )
    assert any(
        t.startswith("jurisdiction group tier-1: the self-assessment found tier public")
        for t in texts
    )
    assert "condition in the self-assessment only: Report monthly." in texts


def test_evidence_weighed_but_not_filed_is_named() -> None:
    texts = [d.text for d in compare_assessments(own_run(FILES[:1]), own_run())]
    assert "the self-assessment weighed evidence not filed with it: bio_protocols.eval" in texts


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        ({}, "no framework.sha256"),
        ({"framework": {"sha256": "x"}}, "no max_tier"),
        ({"framework": {"sha256": "x"}, "max_tier": "public", "evidence": "all"}, "evidence is"),
        (
            {"framework": {"sha256": "x"}, "max_tier": "public", "domains": [{"domain": 1}]},
            "domains is",
        ),
    ],
)
def test_something_else_than_the_assessors_output_is_refused(
    broken: dict[str, Any], problem: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        compare_assessments(own_run(), broken)
    assert caught.value.message.startswith("self_assessment: not the assessor's JSON output")
    assert problem in caught.value.message


def file(reg: Register, model: str, files: tuple[str, ...], self_assessment: Any) -> Any:
    reg.ok(
        "dev", "POST", "/models", json={"name": model, "version": "1", "weights_digest": "c" * 64}
    )
    digests = [
        reg.ok("dev", "POST", f"/evidence?name={f}", content=(EVIDENCE / f).read_bytes())["sha256"]
        for f in files
    ]
    body = {
        "model": model,
        "requested_tier": "approved_partners",
        "requested_jurisdictions": ["tier-1"],
        "evidence": digests,
        "self_assessment": self_assessment,
    }
    return reg.call("dev", "POST", "/applications", json=body)


def test_filing_records_whether_the_self_assessment_matches(register: Register) -> None:
    reg = register
    matching = file(reg, "atlas-same", FILES, own_run()).json()
    assert matching["self_assessment_differences"] == []
    differing = file(reg, "atlas-diff", FILES, own_run(FILES[:1], lower_cbrn_threshold())).json()
    aspects = [d["aspect"] for d in differing["self_assessment_differences"]]
    assert aspects[:2] == ["framework", "evidence"]
    none = file(reg, "atlas-none", FILES, None).json()
    assert none["self_assessment_differences"] == []
    filed = {
        e["subject"]: e["data"]["self_assessment"]
        for e in reg.ok(None, "GET", "/events?limit=500")["items"]
        if e["kind"] == "application.filed"
    }
    assert filed == {
        matching["id"]: "matches",
        differing["id"]: "differs",
        none["id"]: "none",
    }
    stored = reg.ok(None, "GET", f"/applications/{differing['id']}")
    assert stored["self_assessment_differences"] == differing["self_assessment_differences"]


def test_a_self_assessment_that_is_not_one_is_refused_and_nothing_is_filed(
    register: Register,
) -> None:
    refused = file(register, "atlas-bad", FILES, {"max_tier": "public"})
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["field"] == "self_assessment" and "framework.sha256" in error["message"]
    assert register.ok(None, "GET", "/applications")["items"] == []


def test_differences_are_shown_to_the_reviewer_and_on_the_decision_page(
    register: Register,
) -> None:
    reg = register
    application = file(reg, "atlas-diff", FILES, own_run(FILES[:1], lower_cbrn_threshold())).json()
    signed_in = reg.client.post("/signin", data={"api_key": reg.keys["reviewer"], "next": "/queue"})
    assert signed_in.status_code == 200
    queue = signed_in.text
    assert "differs" in queue and "evidence filed but not in the self-assessment" in queue
    reg.client.post("/signout")
    reg.ok("reviewer", "POST", f"/applications/{application['id']}/assign", json={})
    decision = reg.ok(
        "reviewer",
        "POST",
        f"/applications/{application['id']}/decision",
        json={
            "outcome": "approved",
            "tier": application["assessment"]["max_tier"],
            "jurisdictions": ["tier-1"],
            "reasons": [{"text": "As assessed.", "rules": ["stat.cannot_rule_out"]}],
            "justification": "Partners only.",
        },
    )
    page = reg.client.get(f"/decisions/{decision['id']}").text
    assert "The applicant's self-assessment" in page
    for difference in application["self_assessment_differences"]:
        assert difference["text"] in page
    for model, self_assessment, words in (
        ("atlas-same", own_run(), "matches the register's run at filing"),
        ("atlas-none", None, "The applicant filed no self-assessment."),
    ):
        other = file(reg, model, FILES, self_assessment).json()
        reg.ok("reviewer", "POST", f"/applications/{other['id']}/assign", json={})
        made = reg.ok(
            "reviewer",
            "POST",
            f"/applications/{other['id']}/decision",
            json={
                "outcome": "approved",
                "tier": other["assessment"]["max_tier"],
                "jurisdictions": ["tier-1"],
                "reasons": [{"text": "As assessed.", "rules": ["stat.cannot_rule_out"]}],
                "justification": "Partners only.",
            },
        )
        assert words in reg.client.get(f"/decisions/{made['id']}").text
