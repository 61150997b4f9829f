"""The whole lifecycle through the HTTP API, on SQLite and PostgreSQL: answer, state and events."""

from __future__ import annotations

import json
from typing import Any

from tests.register_fixtures import Register

WEIGHTS = "ab" * 32


def findings(general: bool) -> bytes:
    finding = {
        "id": "RT-1",
        "title": "Role-play jailbreak",
        "category": "jailbreak",
        "scope": "general" if general else "narrow",
        "severity": "high",
        "reproduced": True,
        "mitigated": False,
    }
    return json.dumps(
        {"schema": "clearance/findings/v1", "model": "atlas", "findings": [finding]}
    ).encode()


def file_application(reg: Register, model: str = "atlas-2") -> dict[str, Any]:
    reg.ok(
        "dev", "POST", "/models", json={"name": model, "version": "2.0", "weights_digest": WEIGHTS}
    )
    upload = reg.ok("dev", "POST", "/evidence?name=findings.json", content=findings(general=False))
    body = {
        "model": model,
        "requested_tier": "public",
        "requested_jurisdictions": ["tier-1", "tier-2"],
        "evidence": [upload["sha256"]],
    }
    return reg.ok("dev", "POST", "/applications", json=body) | {"evidence_sha256": upload["sha256"]}


def approve_for_partners(reg: Register, application: dict[str, Any]) -> dict[str, Any]:
    """Take the case and approve it for partners in tier-1 (a justified departure)."""
    reg.ok("reviewer", "POST", f"/applications/{application['id']}/assign", json={})
    body = {
        "outcome": "approved",
        "tiers": {"tier-1": "approved_partners"},
        "reasons": [{"text": "Partners only.", "evidence": [application["evidence_sha256"]]}],
        "justification": "Vetted partners under monitoring.",
    }
    decision: dict[str, Any] = reg.ok(
        "reviewer", "POST", f"/applications/{application['id']}/decision", json=body
    )
    return decision


def add_panelists(reg: Register) -> list[str]:
    """Two more appeal panel members, so that with `panelist` a panel of three can sit."""
    for name in ("panelist-2", "panelist-3"):
        if name not in reg.ids:
            reg.add_principal(name, "Release Authority", "appeal_panel")
    return [reg.ids["panelist"], reg.ids["panelist-2"], reg.ids["panelist-3"]]


def events_of(reg: Register, kind: str) -> list[dict[str, Any]]:
    return [e for e in reg.ok(None, "GET", "/events?limit=500")["items"] if e["kind"] == kind]


def test_lifecycle_end_to_end(register: Register) -> None:
    reg = register
    application = file_application(reg)
    app_id = application["id"]
    assert application["state"] == "filed"
    assert application["deadline"].startswith("2026-08-30")  # 90 days after 2026-06-01
    assert application["assessment"]["max_tier"] == "halted"  # no evaluations: cannot rule out
    assert reg.ok(None, "GET", "/models/atlas-2/status")["status"] == "pending"
    assert len(events_of(reg, "application.filed")) == 1

    # a conflicted reviewer cannot take the case; the independent one can
    refused = reg.call("conflicted", "POST", f"/applications/{app_id}/assign", json={})
    assert refused.status_code == 403
    assert "conflict of interest" in refused.json()["error"]["message"]
    assert reg.ok("reviewer", "POST", f"/applications/{app_id}/assign", json={})["state"] == (
        "under_review"
    )

    # an information request stops the clock; the answer moves the deadline by the time it stood
    question = reg.ok(
        "reviewer",
        "POST",
        f"/applications/{app_id}/information-requests",
        json={"question": "Send the cyber range results."},
    )
    assert reg.ok(None, "GET", f"/applications/{app_id}")["state"] == "information_requested"
    reg.clock.advance(days=10)
    reg.ok(
        "dev",
        "POST",
        f"/information-requests/{question['id']}/answer",
        json={"response": "Attached."},
    )
    answered = reg.ok(None, "GET", f"/applications/{app_id}")
    assert answered["state"] == "under_review"
    assert answered["deadline"].startswith("2026-09-09")
    assert answered["information_requests"][0]["response"] == "Attached."

    # a departure from the assessor needs a justification
    decision_body: dict[str, Any] = {
        "outcome": "approved_with_conditions",
        "tier": "approved_partners",
        "jurisdictions": ["tier-1"],
        "conditions": ["Report usage monthly."],
        "reasons": [
            {
                "text": "Cyber evaluations are missing; partners only until they are filed.",
                "rules": ["evidence.missing", "cyber-critical"],
                "evidence": [application["evidence_sha256"]],
            }
        ],
    }
    missing = reg.call("reviewer", "POST", f"/applications/{app_id}/decision", json=decision_body)
    assert missing.status_code == 422
    assert missing.json()["error"]["field"] == "justification"
    bad_rule = decision_body | {"reasons": [{"text": "x", "rules": ["no-such-rule"]}]}
    assert (
        reg.call("reviewer", "POST", f"/applications/{app_id}/decision", json=bad_rule).status_code
        == 422
    )
    decision_body["justification"] = "Restricted partners under monitoring pose acceptable risk."
    decision = reg.ok("reviewer", "POST", f"/applications/{app_id}/decision", json=decision_body)
    assert decision["departure"] is True and decision["assessed_tier"] == "halted"
    status = reg.ok(None, "GET", "/models/atlas-2/status")
    assert (status["status"], status["tier"]) == ("approved", "approved_partners")
    assert len(events_of(reg, "decision.made")) == 1

    # appeal: a panel of three that excludes the decider; the majority rules
    appeal = reg.ok(
        "dev", "POST", f"/decisions/{decision['id']}/appeals", json={"grounds": "Tier too low."}
    )
    panel = add_panelists(reg)
    excluded = reg.call(
        "admin",
        "POST",
        f"/appeals/{appeal['id']}/panel",
        json={"members": [reg.ids["reviewer"], *panel[:2]]},
    )
    assert excluded.status_code == 403
    reg.ok("admin", "POST", f"/appeals/{appeal['id']}/panel", json={"members": panel})
    for who, vote in (("panelist", "upheld"), ("panelist-2", "overturned")):
        text = f"{who}: the reasons {'follow' if vote == 'upheld' else 'do not follow'} the rules."
        reg.ok(who, "POST", f"/appeals/{appeal['id']}/votes", json={"vote": vote, "text": text})
    ruling = reg.ok(
        "panelist-3",
        "POST",
        f"/appeals/{appeal['id']}/votes",
        json={"vote": "upheld", "text": "The reasons follow the framework."},
    )
    assert ruling["state"] == "upheld"
    assert [v["vote"] for v in ruling["votes"]] == ["upheld", "overturned", "upheld"]
    assert reg.ok(None, "GET", f"/decisions/{decision['id']}")["final"] is True

    # halt, then restore to named organizations in one act
    halted = reg.ok(
        "admin",
        "POST",
        "/directives",
        json={
            "action": "halt",
            "model": "atlas-2",
            "grounds": "Risk report under review.",
            "urgent": True,
        },
    )
    assert halted["hearing_date"].startswith("2026-06-25")
    assert reg.ok(None, "GET", "/models/atlas-2/status")["status"] == "halted"
    restored = reg.ok(
        "admin",
        "POST",
        "/directives",
        json={
            "action": "restore",
            "model": "atlas-2",
            "grounds": "Hearing held; restored to agencies.",
            "organizations": ["Agency One", "Quiet Partner"],
        },
    )
    assert restored["grants_issued"] == 2
    status = reg.ok(None, "GET", "/models/atlas-2/status")
    assert status["status"] == "restricted"
    assert len(status["restricted_to"]["organizations"]) == 2
    assert reg.ok(None, "GET", f"/directives/{halted['id']}")["state"] == "superseded"
    assert reg.ok(None, "GET", "/models/atlas-2/grants")["active"] == 2

    # access request decided case by case
    request = reg.ok(
        "partner",
        "POST",
        "/access-requests",
        json={"model": "atlas-2", "use_case": "cyber-defense"},
    )
    decided = reg.ok(
        "reviewer",
        "POST",
        f"/access-requests/{request['id']}/decision",
        json={
            "granted": True,
            "reasons": "Defensive use by a vetted agency.",
            "limits": {"requests_per_minute": 60},
            "expires_at": "2026-12-01T00:00:00Z",
        },
    )
    assert decided["grant"]["limits"]["requests_per_minute"] == 60

    # a third-party report needs its disclosure, which is published
    no_disclosure = reg.call(
        "reporter",
        "POST",
        "/reports",
        json={
            "model": "atlas-2",
            "title": "Risk",
            "summary": "Concerns.",
            "conflict_of_interest": "",
        },
    )
    assert no_disclosure.status_code == 422
    assert no_disclosure.json()["error"]["field"] == "conflict_of_interest"
    report = reg.ok(
        "rival",
        "POST",
        "/reports",
        json={
            "model": "atlas-2",
            "title": "Exploit capability",
            "summary": "The model writes working exploits.",
            "conflict_of_interest": "We compete with Atlas Labs.",
        },
    )
    listed = reg.ok(None, "GET", "/reports?model=atlas-2")["items"]
    assert listed[0]["conflict_of_interest"] == "We compete with Atlas Labs."
    assert listed[0]["id"] == report["id"]


def test_restoring_to_over_a_hundred_organizations_is_one_act(register: Register) -> None:
    reg = register
    file_application(reg)
    names = [f"Agency {n:03d}" for n in range(120)]
    for name in names:
        reg.add_org(name, "partner")
    reg.ok(
        "admin",
        "POST",
        "/directives",
        json={"action": "halt", "model": "atlas-2", "grounds": "g", "urgent": True},
    )
    before = reg.event_count()
    restored = reg.ok(
        "admin",
        "POST",
        "/directives",
        json={
            "action": "restore",
            "model": "atlas-2",
            "grounds": "restored",
            "organizations": names,
        },
    )
    assert restored["grants_issued"] == 120
    assert reg.ok(None, "GET", "/models/atlas-2/grants")["active"] == 120
    # one directive, one superseded halt, one grant event: three events, not 120
    assert reg.event_count() - before == 3


def test_failed_request_leaves_nothing_half_written(register: Register) -> None:
    reg = register
    file_application(reg)
    before = reg.event_count()
    unknown = reg.call(
        "admin",
        "POST",
        "/directives",
        json={"action": "restore", "model": "atlas-2", "grounds": "g", "organizations": ["Nobody"]},
    )
    assert unknown.status_code == 404
    assert reg.event_count() == before
    assert reg.ok(None, "GET", "/models/atlas-2/status")["status"] == "pending"


def test_directive_post_accepts_the_documented_minimum(register: Register) -> None:
    reg = register
    file_application(reg)
    response = reg.call(
        "admin", "POST", "/directives", json={"action": "halt", "model": "atlas-2", "grounds": "g"}
    )
    assert response.status_code == 201
    assert response.json()["action"] == "halt"
    restrict = reg.call(
        "admin",
        "POST",
        "/directives",
        json={
            "action": "restrict",
            "model": "atlas-2",
            "grounds": "g2",
            "jurisdictions": ["US"],
            "urgent": True,
        },
    )
    assert restrict.status_code == 201
    assert reg.ok(None, "GET", "/models/atlas-2/status")["restricted_to"]["jurisdictions"] == ["US"]


def test_filing_runs_the_assessor_on_uploaded_evidence(register: Register) -> None:
    from clearance.examples import example_path

    reg = register
    reg.ok(
        "dev",
        "POST",
        "/models",
        json={"name": "atlas-2", "version": "2", "weights_digest": WEIGHTS},
    )
    digests = []
    for path in sorted(example_path("evidence").iterdir()):
        upload = reg.ok("dev", "POST", f"/evidence?name={path.name}", content=path.read_bytes())
        assert upload["kind"] in ("eval", "findings")
        digests.append(upload["sha256"])
    declaration = example_path("safeguards.json").read_bytes()
    safeguards = reg.ok("dev", "POST", "/evidence?name=safeguards.json", content=declaration)
    assert safeguards["kind"] == "safeguards"
    body = {
        "model": "atlas-2",
        "requested_tier": "public",
        "requested_jurisdictions": ["tier-1"],
        "evidence": digests,
        "safeguards": safeguards["sha256"],
    }
    application = reg.ok("dev", "POST", "/applications", json=body)
    assessment = application["assessment"]
    assert {d["domain"]: d["level"] for d in assessment["domains"]}["cyber"] == "cyber-high"
    assert assessment["max_tier"] == "public_safeguarded"
    assert application["safeguards_declaration"] == safeguards["sha256"]
    assert application["safeguards"] == [
        "misuse-classifiers",
        "account-enforcement",
        "weights-security",
    ]
    # the evidence bytes are public and match their digest
    import hashlib

    downloaded = reg.client.get(f"/api/v1/evidence/{digests[0]}")
    assert hashlib.sha256(downloaded.content).hexdigest() == digests[0]
    misplaced = body | {"evidence": [*digests, safeguards["sha256"]]}
    assert reg.call("dev", "POST", "/applications", json=misplaced).status_code == 422
