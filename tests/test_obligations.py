"""Conditions as obligations: met in time, rejected, breached once with a consequence, appealed."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from clearance.errors import InvalidInput
from clearance.examples import example_path
from clearance.framework import framework_digest, parse_framework
from clearance.store import _tables as t
from tests.framework_data import SMALL, load
from tests.gateway_fixtures import WEIGHTS, Deployment
from tests.register_fixtures import Register
from tests.test_deployment_gateway import call
from tests.test_register_lifecycle import add_panelists

NARROW = "Patch the narrow jailbreak within 30 days and report the re-test to the register."
RULE = "rt-narrow-jailbreak"


def framework_with_terms(**terms: Any) -> bytes:
    """The example framework, version 2, whose narrow-jailbreak condition carries its terms."""
    data = yaml.safe_load(example_path().read_text())
    data["version"] = "2.0.0"
    condition = {
        "text": NARROW,
        "due_days": 30,
        "evidence": "Red-team results showing the jailbreak no longer reproduces.",
        "on_breach": {"action": "cap_tier", "tier": "approved_partners"},
    } | terms
    for rule in data["finding_rules"]:
        if rule["id"] == RULE:
            rule["conditions"] = [condition]
    return yaml.safe_dump(data).encode()


def upload(reg: Any, name: str, content: bytes, who: str = "dev") -> str:
    return str(reg.ok(who, "POST", f"/evidence?name={name}", content=content)["sha256"])


def file_case(reg: Any, model: str) -> dict[str, Any]:
    """A model with the example evidence (a narrow jailbreak among it), filed and assigned."""
    reg.ok(
        "dev", "POST", "/models", json={"name": model, "version": "1", "weights_digest": WEIGHTS}
    )
    digests = [
        upload(reg, path.name, path.read_bytes())
        for path in sorted(example_path("evidence").iterdir())
    ]
    declaration = upload(reg, "safeguards.json", example_path("safeguards.json").read_bytes())
    body = {
        "model": model,
        "requested_tier": "public",
        "requested_jurisdictions": ["tier-1"],
        "evidence": digests,
        "safeguards": declaration,
    }
    application: dict[str, Any] = reg.ok("dev", "POST", "/applications", json=body)
    reg.ok("reviewer", "POST", f"/applications/{application['id']}/assign", json={})
    return application


def decision_body(application: dict[str, Any], **extra: Any) -> dict[str, Any]:
    evidence = [application["evidence"][0]["sha256"]]
    return {
        "outcome": "approved_with_conditions",
        "tiers": {"tier-1": "public_safeguarded"},
        "conditions": [NARROW],
        "reasons": [{"text": "Per the assessment.", "rules": [RULE], "evidence": evidence}],
    } | extra


def decide(reg: Any, application: dict[str, Any], **extra: Any) -> dict[str, Any]:
    path = f"/applications/{application['id']}/decision"
    decided: dict[str, Any] = reg.ok(
        "reviewer", "POST", path, json=decision_body(application, **extra)
    )
    return decided


def retest(reg: Any) -> str:
    findings = {
        "schema": "clearance/findings/v1",
        "model": "atlas",
        "findings": [
            {
                "id": "RT-2026-014",
                "title": "Role-play prompt bypasses refusals (re-test)",
                "category": "jailbreak",
                "scope": "narrow",
                "severity": "medium",
                "reproduced": False,
                "mitigated": True,
                "domain": "cyber",
            }
        ],
    }
    return upload(reg, "retest.json", json.dumps(findings).encode())


def run_clock(reg: Any) -> list[dict[str, str]]:
    return list(reg.ok("admin", "POST", "/clock/run")["applied"])


def events_of(reg: Any, kind: str) -> list[dict[str, Any]]:
    return [e for e in reg.ok(None, "GET", "/events?limit=500")["items"] if e["kind"] == kind]


def statement_kinds(reg: Register) -> list[str]:
    store = reg.client.app.state.context.store  # type: ignore[attr-defined]
    with store.read() as tx:
        return list(tx.connection.scalars(select(t.statements.c.kind)))


@pytest.fixture
def terms(register: Register) -> Register:
    """The register with the framework whose narrow-jailbreak condition has terms."""
    register.ok("admin", "POST", "/frameworks", content=framework_with_terms())
    return register


def test_conditions_with_terms_load_and_plain_ones_keep_the_digest() -> None:
    framework = parse_framework(framework_with_terms().decode(), "terms.yaml")
    rule = next(r for r in framework.finding_rules if r.id == RULE)
    (condition,) = rule.required()
    assert (condition.due_days, condition.on_breach and condition.on_breach.tier) == (
        30,
        "approved_partners",
    )
    plain = load(SMALL)
    assert framework_digest(plain) == framework_digest(load(SMALL))  # pinned elsewhere too
    for bad in ({"action": "cap_tier", "tier": "public"}, {"action": "halt", "tier": "internal"}):
        with pytest.raises(InvalidInput) as refused:
            parse_framework(framework_with_terms(on_breach=bad).decode(), "bad.yaml")
        assert "finding_rules[1].conditions[0].on_breach" in refused.value.message
        assert "more problem" not in refused.value.message


def test_an_obligation_met_in_time_has_no_consequence(terms: Register) -> None:
    reg = terms
    application = file_case(reg, "atlas-met")
    decision = decide(reg, application)
    (obligation,) = decision["obligations"]
    assert obligation["rule"] == RULE and obligation["text"] == NARROW
    assert obligation["due_at"].startswith("2026-07-01")  # 30 days after 2026-06-01
    assert obligation["on_breach"] == {"action": "cap_tier", "tier": "approved_partners"}
    assert obligation["evidence"].startswith("Red-team results")
    assert decision["departure"] is False and decision["condition_departures"] == []
    listed = reg.ok(None, "GET", "/models/atlas-met/obligations")
    assert listed["counts"]["open"] == 1 and listed["items"][0]["id"] == obligation["id"]
    assert reg.ok(None, "GET", f"/decisions/{decision['id']}")["obligations"][0]["state"] == "open"

    path = f"/obligations/{obligation['id']}/fulfilments"
    digest = retest(reg)
    body = {"text": "The jailbreak is patched; the re-test is attached.", "evidence": [digest]}
    assert reg.call("rival", "POST", path, json=body).status_code == 403
    unknown = reg.call("dev", "POST", path, json=body | {"evidence": ["0" * 64]})
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "evidence[0]"
    filed = reg.ok("dev", "POST", path, json=body)
    assert filed["state"] == "under_review"
    fulfilment = filed["fulfilments"][0]
    review = f"{path}/{fulfilment['id']}/review"
    accept = {"accepted": True, "reasons": "The re-test shows the jailbreak no longer reproduces."}
    assert reg.call("dev", "POST", review, json=accept).status_code == 403
    met = reg.ok("reviewer", "POST", review, json=accept)
    assert met["state"] == "met" and met["fulfilments"][0]["state"] == "accepted"
    assert reg.call("reviewer", "POST", review, json=accept).status_code == 409

    reg.clock.advance(days=31)
    assert [d for d in run_clock(reg) if d["kind"] == "obligation_breached"] == []
    status = reg.ok(None, "GET", "/models/atlas-met/status")
    assert (status["status"], status["directive_id"]) == ("approved", None)
    assert reg.ok(None, "GET", "/models/atlas-met/obligations")["counts"]["met"] == 1
    assert len(events_of(reg, "obligation.fulfilment_accepted")) == 1
    page = reg.client.get("/models/atlas-met").text
    assert "Obligations" in page and NARROW in page and "met" in page


def test_a_rejected_fulfilment_then_the_due_date_breaches_once(terms: Register) -> None:
    reg = terms
    org = reg.ids["Atlas Labs"]
    reg.ok("dev", "POST", f"/organizations/{org}/webhooks", json={"url": "https://atlas.test/h"})
    application = file_case(reg, "atlas-late")
    (obligation,) = decide(reg, application)["obligations"]
    path = f"/obligations/{obligation['id']}/fulfilments"
    body = {"text": "Patched, we believe.", "evidence": [retest(reg)]}
    filed = reg.ok("dev", "POST", path, json=body)
    review = f"{path}/{filed['fulfilments'][0]['id']}/review"
    empty = reg.call("reviewer", "POST", review, json={"accepted": False, "reasons": ""})
    assert empty.status_code == 422  # a rejection says why
    rejected = reg.ok(
        "reviewer",
        "POST",
        review,
        json={"accepted": False, "reasons": "The re-test covers another prompt family."},
    )
    assert rejected["state"] == "open"
    assert rejected["fulfilments"][0]["reasons"] == "The re-test covers another prompt family."

    reg.clock.advance(days=29)
    assert [d for d in run_clock(reg) if d["kind"] == "obligation_breached"] == []
    reg.clock.advance(days=2)
    applied = run_clock(reg)
    assert {"kind": "obligation_breached", "subject": obligation["id"]} in applied
    assert [d for d in run_clock(reg) if d["kind"] == "obligation_breached"] == []
    reg.clock.advance(days=5)  # a later run, after a jump, applies nothing again
    assert [d for d in run_clock(reg) if d["kind"] == "obligation_breached"] == []

    breached = reg.ok(None, "GET", f"/obligations/{obligation['id']}")
    assert breached["state"] == "breached" and breached["consequence_id"]
    directive = reg.ok(None, "GET", f"/directives/{breached['consequence_id']}")
    assert (directive["action"], directive["state"], directive["issued_by"]) == (
        "restrict",
        "active",
        "scheduler",
    )
    assert directive["scope"]["tiers"] == ["approved_partners"] and directive["urgent"] is True
    status = reg.ok(None, "GET", "/models/atlas-late/status")
    assert status["status"] == "restricted" and status["directive_id"] == directive["id"]
    assert len(events_of(reg, "obligation.breached")) == 1
    issued = [e for e in events_of(reg, "directive.issued") if e["subject"] == directive["id"]]
    assert len(issued) == 1 and issued[0]["data"]["obligation"] == obligation["id"]
    assert statement_kinds(reg).count("obligation.breached") == 1  # in the transparency log
    notices = reg.ok("dev", "GET", f"/organizations/{org}/webhooks/messages")["items"]
    assert [m["type"] for m in notices].count("obligation.breached") == 1  # the developer told
    late = reg.call("dev", "POST", path, json=body)
    assert late.status_code == 409 and "breached" in late.json()["error"]["message"]
    counts = reg.ok(None, "GET", "/models/atlas-late/obligations")["counts"]
    assert (counts["open"], counts["breached"]) == (0, 1)
    page = reg.client.get("/models/atlas-late").text
    assert "breached" in page and directive["id"] in page


def test_the_consequence_is_appealed_like_a_directive(terms: Register) -> None:
    reg = terms
    application = file_case(reg, "atlas-appeal")
    (obligation,) = decide(reg, application)["obligations"]
    reg.clock.advance(days=31)
    run_clock(reg)
    directive_id = reg.ok(None, "GET", f"/obligations/{obligation['id']}")["consequence_id"]
    path = f"/directives/{directive_id}/appeals"
    grounds = {"grounds": "The re-test was filed; the cap is disproportionate."}
    early = reg.call("dev", "POST", path, json=grounds)
    assert early.status_code == 409 and "hearing" in early.json()["error"]["message"]
    hearing = reg.ok(None, "GET", "/hearings?model=atlas-appeal")["items"][0]
    assert hearing["act_id"] == directive_id and hearing["urgent"] is True
    reg.ok(
        "admin",
        "POST",
        f"/hearings/{hearing['id']}/outcome",
        json={"outcome": "confirm", "reasons": [{"text": "The obligation was not met."}]},
    )
    appeal = reg.ok("dev", "POST", path, json=grounds)
    assert appeal["act"] == "directive" and appeal["act_id"] == directive_id
    panel = add_panelists(reg)
    reg.ok("admin", "POST", f"/appeals/{appeal['id']}/panel", json={"members": panel})
    for who in ("panelist", "panelist-2", "panelist-3"):
        reg.ok(
            who,
            "POST",
            f"/appeals/{appeal['id']}/votes",
            json={"vote": "overturned", "text": f"{who}: the cap goes beyond the finding."},
        )
    assert reg.ok(None, "GET", f"/directives/{directive_id}")["state"] == "set_aside"
    status = reg.ok(None, "GET", "/models/atlas-appeal/status")
    assert (status["status"], status["tier"]) == ("approved", "public_safeguarded")


def test_a_required_condition_dropped_or_weakened_needs_a_justification(terms: Register) -> None:
    reg = terms
    application = file_case(reg, "atlas-drop")
    path = f"/applications/{application['id']}/decision"
    dropped = decision_body(application, outcome="approved", conditions=[])
    weaker = [
        {"text": NARROW, "due_days": 60},
        {"text": NARROW, "due_days": None},
        {"text": NARROW, "on_breach": None},
        {"text": NARROW, "on_breach": {"action": "cap_tier", "tier": "public_safeguarded"}},
        {"text": "Patch it eventually.", "rule": RULE},
    ]
    for body in (dropped, *(decision_body(application, conditions=[w]) for w in weaker)):
        refused = reg.call("reviewer", "POST", path, json=body)
        assert refused.status_code == 422, body
        error = refused.json()["error"]
        assert error["field"] == "justification" and RULE in error["message"]
    stricter = {"text": NARROW, "due_days": 10, "on_breach": {"action": "halt"}}
    unknown = decision_body(application, conditions=[{"text": "x", "rule": "no-such-rule"}])
    assert reg.call("reviewer", "POST", path, json=unknown).status_code == 422
    assert reg.ok(None, "GET", f"/applications/{application['id']}")["state"] == "under_review"

    justified = dropped | {"justification": "The jailbreak was patched before the decision."}
    decision = reg.ok("reviewer", "POST", path, json=justified)
    assert decision["departure"] is True and decision["obligations"] == []
    assert decision["condition_departures"] == [
        {
            "rule": RULE,
            "text": NARROW,
            "change": "dropped",
            "detail": "not among the decision's conditions",
        }
    ]
    made = events_of(reg, "decision.made")[-1]
    assert made["data"]["condition_departures"][0]["rule"] == RULE  # in the signed statement

    other = file_case(reg, "atlas-strict")
    added = {"text": "Report usage monthly.", "evidence": "Monthly usage reports."}
    decision = decide(reg, other, conditions=[stricter, added])
    assert decision["departure"] is False
    strict, own = decision["obligations"]
    assert strict["rule"] == RULE and strict["on_breach"] == {"action": "halt", "tier": None}
    assert strict["due_at"].startswith("2026-06-11")
    assert own["rule"] is None and own["due_at"] is None and own["on_breach"] is None

    # a continuing obligation stays in force once evidence is accepted, and is never overdue
    filed = reg.ok(
        "dev",
        "POST",
        f"/obligations/{own['id']}/fulfilments",
        json={"text": "June usage report.", "evidence": [retest(reg)]},
    )
    review = f"/obligations/{own['id']}/fulfilments/{filed['fulfilments'][0]['id']}/review"
    accepted = reg.ok("reviewer", "POST", review, json={"accepted": True, "reasons": "Received."})
    assert (accepted["state"], accepted["met_at"]) == ("open", None)
    reg.clock.advance(days=100)
    breached = [d["subject"] for d in run_clock(reg) if d["kind"] == "obligation_breached"]
    assert breached == [strict["id"]]  # the stricter terms the reviewer set took effect
    assert reg.ok(None, "GET", "/models/atlas-strict/status")["status"] == "halted"


@pytest.fixture
def deployed(clocked_deployment: Deployment) -> Deployment:
    clocked_deployment.reg.ok("admin", "POST", "/frameworks", content=framework_with_terms())
    return clocked_deployment


def test_a_breach_takes_effect_at_the_gateway(deployed: Deployment) -> None:
    reg = deployed.reg
    capped = file_case(reg, "atlas-capped")
    decide(reg, capped)
    halted = file_case(reg, "atlas-halted")
    own = {"text": "File the incident process.", "due_days": 10, "on_breach": {"action": "halt"}}
    decide(reg, halted, conditions=[NARROW, own])
    deployed.wait_for_snapshot_with(
        lambda s: all(
            m in s.models and s.models[m].tiers for m in ("atlas-capped", "atlas-halted")
        ),
        timeout=5,
    )
    assert call(deployed, "partner", "atlas-capped") == "allowed"
    assert call(deployed, "partner", "atlas-halted") == "allowed"

    reg.clock.advance(days=11)
    breached = [d for d in run_clock(reg) if d["kind"] == "obligation_breached"]
    assert len(breached) == 1  # only the 10-day obligation is due
    deployed.wait_for_snapshot_with(
        lambda s: s.models["atlas-halted"].status == "halted", timeout=5
    )
    assert call(deployed, "partner", "atlas-halted") != "allowed"
    assert call(deployed, "partner", "atlas-capped") == "allowed"

    reg.clock.advance(days=20)
    run_clock(reg)
    deployed.wait_for_snapshot_with(
        lambda s: s.models["atlas-capped"].status == "restricted", timeout=5
    )
    assert call(deployed, "partner", "atlas-capped") == "no_grant"  # partners only, by grant
    assert call(deployed, "dev", "atlas-capped") == "allowed"  # the developer's own use stays


def test_a_new_decision_ends_the_obligations_of_the_one_it_replaces(terms: Register) -> None:
    reg = terms
    first = file_case(reg, "atlas-again")
    (old,) = decide(reg, first)["obligations"]
    application = reg.ok(
        "dev",
        "POST",
        "/applications",
        json={
            "model": "atlas-again",
            "requested_tier": "public",
            "requested_jurisdictions": ["tier-1"],
            "evidence": [e["sha256"] for e in first["evidence"]],
            "safeguards": first["safeguards_declaration"],
        },
    )
    reg.ok("reviewer", "POST", f"/applications/{application['id']}/assign", json={})
    (new,) = decide(reg, application)["obligations"]
    assert reg.ok(None, "GET", f"/obligations/{old['id']}")["state"] == "ended"
    assert [e["subject"] for e in events_of(reg, "obligation.ended")] == [old["id"]]
    reg.ok(
        "dev",
        "POST",
        f"/obligations/{new['id']}/fulfilments",
        json={"text": "Re-test attached.", "evidence": [retest(reg)]},
    )
    reg.clock.advance(days=31)
    assert [d for d in run_clock(reg) if d["kind"] == "obligation_breached"] == []
    assert reg.ok(None, "GET", "/models/atlas-again/status")["status"] == "approved"
