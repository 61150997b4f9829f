"""The deployment table end to end: HTTP in, the official openai client at the gateway."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from clearance.examples import example_path
from tests.gateway_fixtures import WEIGHTS, Deployment, approve, chat


@pytest.fixture
def deployed(clocked_deployment: Deployment) -> Deployment:
    reg = clocked_deployment.reg
    reg.add_org("Near Bank", "partner", "GB", sector="finance")
    reg.add_org("Near Defense", "partner", "GB", sector="military")
    reg.add_principal("near", "Near Bank", "partner")
    reg.add_principal("near-mil", "Near Defense", "partner")
    return clocked_deployment


def file_with_example_evidence(reg: Any, model: str, groups: list[str]) -> dict[str, Any]:
    reg.ok(
        "dev", "POST", "/models", json={"name": model, "version": "1", "weights_digest": WEIGHTS}
    )
    digests = []
    for path in sorted(example_path("evidence").iterdir()):
        digests.append(
            reg.ok("dev", "POST", f"/evidence?name={path.name}", content=path.read_bytes())[
                "sha256"
            ]
        )
    declaration = reg.ok(
        "dev",
        "POST",
        "/evidence?name=safeguards.json",
        content=example_path("safeguards.json").read_bytes(),
    )
    body = {
        "model": model,
        "requested_tier": "public",
        "requested_jurisdictions": groups,
        "evidence": digests,
        "safeguards": declaration["sha256"],
    }
    application: dict[str, Any] = reg.ok("dev", "POST", "/applications", json=body)
    return application


def call(deployment: Deployment, who: str, model: str) -> str:
    """The refusal code the official openai client sees, or "allowed"."""
    with openai.OpenAI(base_url=deployment.v1, api_key=deployment.key(who), max_retries=0) as c:
        try:
            c.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
        except openai.APIStatusError as refused:
            body = refused.response.json()
            return str(body["error"]["code"])
    return "allowed"


def test_a_deemed_approval_never_opens_an_embargoed_group(deployed: Deployment) -> None:
    """Regression: a deemed approval applied the assessed tier to every requested group."""
    reg = deployed.reg
    application = file_with_example_evidence(reg, "atlas-deemed", ["tier-1", "tier-2", "embargoed"])
    assert application["assessment"]["max_tier"] == "public_safeguarded"
    reg.clock.advance(days=91)
    applied = reg.ok("admin", "POST", "/clock/run")["applied"]
    assert {"kind": "deemed_approval", "subject": application["id"]} in applied
    decision_id = reg.ok(None, "GET", f"/applications/{application['id']}")["decision_id"]
    decision = reg.ok(None, "GET", f"/decisions/{decision_id}")
    assert decision["deemed"] is True and decision["departures"] == []
    assert decision["tiers"] == {"tier-1": "public_safeguarded", "tier-2": "approved_partners"}
    assert decision["sector_tiers"] == {
        "tier-1": {"military": "approved_partners"},
        "tier-2": {"military": "internal"},
    }
    assert decision["outcome"] == "approved_with_conditions"  # the finding's condition stays
    status = reg.ok(None, "GET", "/models/atlas-deemed/status")
    assert status["tiers"] == decision["tiers"]
    assert status["sector_tiers"] == decision["sector_tiers"]
    events = reg.ok(None, "GET", "/events?limit=500")["items"]
    deemed = next(e for e in events if e["kind"] == "decision.deemed")
    assert deemed["data"]["tiers"] == decision["tiers"]  # in the signed statement too
    page = reg.client.get(f"/decisions/{decision_id}").text
    assert "Deployment table" in page and "embargoed" not in page.split("Deployment table")[1]
    assert "military" in page
    deployed.wait_for_snapshot_with(
        lambda s: "atlas-deemed" in s.models and s.models["atlas-deemed"].tiers, timeout=5
    )

    assert call(deployed, "embargoed", "atlas-deemed") == "jurisdiction_not_permitted"
    assert call(deployed, "near", "atlas-deemed") == "allowed"
    assert call(deployed, "near-mil", "atlas-deemed") == "sector_not_permitted"
    assert call(deployed, "far", "atlas-deemed") == "no_grant"
    assert call(deployed, "dev", "atlas-deemed") == "allowed"
    refused = deployed.gateway_call("embargoed", "/chat/completions", chat("atlas-deemed"))
    assert refused.status_code == 403


def test_a_departure_is_justified_and_recorded_per_cell(deployed: Deployment) -> None:
    reg = deployed.reg
    application = file_with_example_evidence(reg, "atlas-table", ["tier-1", "tier-2"])
    reg.ok("reviewer", "POST", f"/applications/{application['id']}/assign", json={})
    evidence = [application["evidence"][0]["sha256"]]
    reasons = [{"text": "Per the assessment.", "rules": ["cyber-high"], "evidence": evidence}]
    body = {
        "outcome": "approved_with_conditions",
        "tiers": {"tier-1": "public_safeguarded", "tier-2": "public_safeguarded"},
        "conditions": list(application["assessment"]["conditions"]),
        "reasons": reasons,
    }
    path = f"/applications/{application['id']}/decision"
    unjustified = reg.call("reviewer", "POST", path, json=body)
    assert unjustified.status_code == 422
    error = unjustified.json()["error"]
    assert error["field"] == "tiers.tier-2"
    assert "approved_partners" in error["message"]  # the cell's cap, named
    unknown = reg.call("reviewer", "POST", path, json=body | {"tiers": {"tier-9": "public"}})
    assert unknown.status_code == 422
    assert "tier-9" in unknown.json()["error"]["message"]
    assert "tier-1" in unknown.json()["error"]["message"]  # the valid ones listed
    bad_sector = body | {"sector_tiers": {"tier-1": {"navy": "public"}}}
    refused = reg.call("reviewer", "POST", path, json=bad_sector)
    assert refused.status_code == 422 and "navy" in refused.json()["error"]["message"]

    justified = body | {
        "justification": "tier-2's cap follows the cyber level; the range results overstate it.",
        "sector_tiers": {"tier-2": {"government": "approved_partners"}},
    }
    decision = reg.ok("reviewer", "POST", path, json=justified)
    assert decision["departure"] is True
    assert decision["departures"] == [
        {
            "group": "tier-2",
            "sector": None,
            "prescribed": "approved_partners",
            "tier": "public_safeguarded",
        }
    ]
    assert decision["sector_tiers"]["tier-2"] == {
        "government": "approved_partners",
        "military": "internal",
    }
    deployed.wait_for_snapshot_with(
        lambda s: "atlas-table" in s.models and s.models["atlas-table"].tiers, timeout=5
    )
    assert call(deployed, "far", "atlas-table") == "allowed"
    assert call(deployed, "partner", "atlas-table") == "allowed"


def test_a_consumer_app_key_calls_on_the_app_channel(deployed: Deployment) -> None:
    reg = deployed.reg
    reg.add_principal("dev-app", "Atlas Labs", "developer", channel="app")
    reg.add_principal("partner-app", "Agency One", "partner", channel="app")
    both = {
        "name": "atlas-app",
        "version": "1",
        "weights_digest": WEIGHTS,
        "channels": ["api", "app"],
    }
    reg.ok("dev", "POST", "/models", json=both)
    application = reg.ok(
        "dev",
        "POST",
        "/applications",
        json={
            "model": "atlas-app",
            "requested_tier": "public",
            "requested_jurisdictions": ["tier-1"],
        },
    )
    reg.ok("reviewer", "POST", f"/applications/{application['id']}/assign", json={})
    reg.ok(
        "reviewer",
        "POST",
        f"/applications/{application['id']}/decision",
        json={
            "outcome": "approved",
            "tiers": {"tier-1": "public"},
            "reasons": [{"text": "Fixture.", "rules": ["evidence.missing"]}],
            "justification": "Gateway test fixture.",
        },
    )
    deployed.wait_for_snapshot_with(
        lambda s: "atlas-app" in s.models and s.models["atlas-app"].tiers, timeout=5
    )
    assert call(deployed, "partner-app", "atlas-app") == "allowed"
    assert call(deployed, "partner-app", "atlas-public") == "channel_not_permitted"
    assert call(deployed, "dev-app", "atlas-public") == "channel_not_permitted"
    assert call(deployed, "partner", "atlas-public") == "allowed"
    directive = {
        "action": "restrict",
        "model": "atlas-app",
        "grounds": "API only.",
        "channels": ["api"],
        "urgent": True,
    }
    reg.ok("admin", "POST", "/directives", json=directive)
    deployed.wait_for_snapshot_with(
        lambda s: s.models["atlas-app"].restricted_channels == frozenset({"api"}), timeout=5
    )
    assert call(deployed, "partner-app", "atlas-app") == "channel_not_permitted"
    assert call(deployed, "partner", "atlas-app") == "allowed"


def test_a_directives_grants_end_with_the_directive(deployed: Deployment) -> None:
    reg = deployed.reg
    approve(reg, "atlas-held", "approved_partners", ("tier-1",))
    deployed.wait_for_snapshot_with(
        lambda s: "atlas-held" in s.models and s.models["atlas-held"].tiers, timeout=5
    )
    assert call(deployed, "partner", "atlas-held") == "no_grant"
    # a restriction to the partner grants it access in the same act ...
    restrict = {
        "action": "restrict",
        "model": "atlas-held",
        "grounds": "Only Agency One while the incident is examined.",
        "organizations": ["Agency One"],
        "urgent": True,
    }
    restricted = reg.ok("admin", "POST", "/directives", json=restrict)
    deployed.wait_for_snapshot_with(
        lambda s: s.models["atlas-held"].restricted_organizations, timeout=5
    )
    assert call(deployed, "partner", "atlas-held") == "allowed"
    # ... and the restore that supersedes it takes that grant with it: the partner never asked
    restore = {"action": "restore", "model": "atlas-held", "grounds": "Examined."}
    reg.ok("admin", "POST", "/directives", json=restore)
    deployed.wait_for_snapshot_with(
        lambda s: not s.models["atlas-held"].restricted_organizations, timeout=5
    )
    assert call(deployed, "partner", "atlas-held") == "no_grant"
    grants = reg.ok("admin", "GET", "/grants")["items"]
    (ended,) = [g for g in grants if g["origin"] == restricted["id"]]
    admin = reg.ok("admin", "GET", "/principals/me")["id"]
    assert (ended["state"], ended["revoked_by"]) == ("revoked", admin)
    events = reg.ok(None, "GET", "/events?limit=500")["items"]
    (said,) = [e for e in events if e["kind"] == "grant.revoked" and e["subject"] == ended["id"]]
    assert said["data"]["reason"] == f"directive {restricted['id']} is superseded"
