"""The deployment table in the register: closed lists at the edge, grants checked when issued."""

from __future__ import annotations

from typing import Any

from tests.register_fixtures import Register
from tests.test_register_lifecycle import WEIGHTS, approve_for_partners, file_application


def test_unknown_sector_channel_group_and_use_case_are_named_with_the_valid_ones(
    register: Register,
) -> None:
    reg = register
    body = {"name": "Navy Yard", "kind": "partner", "jurisdiction": "US", "sector": "navy"}
    refused = reg.call("admin", "POST", "/organizations", json=body)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["field"] == "sector" and "'navy'" in error["message"]
    assert "military" in error["message"] and "government" in error["message"]
    assert reg.call(
        "admin", "POST", "/organizations", json=body | {"sector": "military"}
    ).is_success

    model = {"name": "atlas-x", "version": "1", "weights_digest": WEIGHTS, "channels": ["web"]}
    refused = reg.call("dev", "POST", "/models", json=model)
    assert refused.status_code == 422 and "api, app" in refused.json()["error"]["message"]

    application = file_application(reg)
    approve_for_partners(reg, application)
    refused = reg.call(
        "partner", "POST", "/access-requests", json={"model": "atlas-2", "use_case": "targeting"}
    )
    assert refused.status_code == 422
    assert "cyber-defense" in refused.json()["error"]["message"]
    directive = {"action": "restrict", "model": "atlas-2", "grounds": "g", "groups": ["tier-9"]}
    refused = reg.call("admin", "POST", "/directives", json=directive)
    assert refused.status_code == 422 and "tier-9" in refused.json()["error"]["message"]


def test_a_grant_is_checked_against_the_decision_when_issued(register: Register) -> None:
    reg = register
    pending = file_application(reg, "atlas-pending")
    approve_for_partners(reg, file_application(reg))  # tier-1 only, approved partners
    reg.add_org("Far Partner", "partner", "BR")
    reg.add_principal("far", "Far Partner", "partner")

    def decide(who: str, model: str, **request: object) -> Any:
        body = {"model": model, "use_case": "research"} | request
        filed = reg.ok(who, "POST", "/access-requests", json=body)
        return reg.call(
            "reviewer",
            "POST",
            f"/access-requests/{filed['id']}/decision",
            json={"granted": True, "reasons": "ok"},
        )

    outside = decide("far", "atlas-2")
    assert outside.status_code == 409
    assert "tier-2" in outside.json()["error"]["message"]
    abroad = decide("partner", "atlas-2", jurisdictions=["BR"])
    assert abroad.status_code == 409
    unapproved = decide("partner", pending["model_id"])
    assert unapproved.status_code == 409
    assert "no standing approval" in unapproved.json()["error"]["message"]
    before = reg.ok("admin", "GET", "/grants")["items"]
    assert decide("partner", "atlas-2").status_code == 200
    after = reg.ok("admin", "GET", "/grants")["items"]
    assert len(after) == len(before) + 1  # the refused ones wrote nothing


def test_a_variant_names_its_public_sibling(register: Register) -> None:
    reg = register
    public = {"name": "atlas-2", "version": "2", "weights_digest": WEIGHTS}
    reg.ok("dev", "POST", "/models", json=public)
    cyber = public | {"name": "atlas-2-cyber", "variant": "restricted", "sibling": "atlas-2"}
    created = reg.ok("dev", "POST", "/models", json=cyber)
    assert created["sibling"] == reg.ok(None, "GET", "/models/atlas-2")["id"]
    rival = {"name": "rival-1", "version": "1", "weights_digest": WEIGHTS}
    reg.ok("rival", "POST", "/models", json=rival)
    foreign = reg.call("dev", "POST", "/models", json=public | {"name": "a3", "sibling": "rival-1"})
    assert foreign.status_code == 422 and foreign.json()["error"]["field"] == "sibling"
    page = reg.client.get("/models/atlas-2").text
    assert "Variants side by side" in page and "atlas-2-cyber" in page
    assert "atlas-2" in reg.client.get("/models/atlas-2-cyber").text
