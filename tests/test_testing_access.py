"""The authority's pre-deployment testing access: a grant at filing, through the gateway.

Filing under a framework with `procedure.testing_access_days` issues the authority a testing grant
(logged like any other act); the gateway admits the authority's principals to the model under
review, and nobody else but its developer, and sends those calls to the pre-release upstream the
developer named. A required upstream that is missing stops the clock: no deemed approval.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
import yaml

from clearance.errors import Conflict, InvalidInput
from clearance.examples import example_path
from clearance.framework import parse_framework
from clearance.register import Application, deem_decision
from tests.gateway_fixtures import (
    WEIGHTS,
    Deployment,
    FakeUpstreamThread,
    chat,
)
from tests.register_fixtures import Register


def framework_with_testing(version: str, days: int = 30, required: bool = False) -> bytes:
    data = yaml.safe_load(example_path().read_text())
    data["version"] = version
    data["procedure"]["testing_access_days"] = days
    data["procedure"]["pre_release_upstream_required"] = required
    return yaml.safe_dump(data).encode()


def file(reg: Register, model: str, **extra: Any) -> dict[str, Any]:
    reg.ok(
        "dev", "POST", "/models", json={"name": model, "version": "1", "weights_digest": WEIGHTS}
    )
    body = {
        "model": model,
        "requested_tier": "public",
        "requested_jurisdictions": ["tier-1"],
        **extra,
    }
    application: dict[str, Any] = reg.ok("dev", "POST", "/applications", json=body)
    return application


@pytest.fixture
def deployed(clocked_deployment: Deployment) -> Deployment:
    return clocked_deployment


def wait_until(deployed: Deployment, who: str, model: str, code: int) -> Any:
    deadline = time.monotonic() + 5
    while True:
        response = deployed.gateway_call(who, "/chat/completions", chat(model))
        if response.status_code == code or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def test_filing_gives_the_authority_a_testing_grant_that_only_it_can_use_until_it_expires(
    deployed: Deployment,
) -> None:
    reg = deployed.reg
    reg.ok("admin", "POST", "/frameworks", content=framework_with_testing("1.0.1", days=30))
    application = file(reg, "atlas-preview")
    grant_id = application["testing_grant_id"]
    assert grant_id and application["testing_access_missing"] is False
    # the grant is the authority's, for testing, logged like any other act
    grants = reg.ok("reviewer", "GET", "/grants")["items"]
    (grant,) = [g for g in grants if g["id"] == grant_id]
    assert (grant["organization_id"], grant["purpose"]) == (
        reg.ids["Release Authority"],
        "testing",
    )
    filed = dt.datetime.fromisoformat(application["filed_at"])
    assert dt.datetime.fromisoformat(grant["expires_at"]) == filed + dt.timedelta(days=30)
    events = reg.ok(None, "GET", "/events?limit=500")["items"]
    issued = [e for e in events if e["kind"] == "grant.issued" and e["subject"] == grant_id]
    assert issued and issued[0]["data"]["purpose"] == "testing"
    # the model has no decision: the authority's reviewer is served, a partner is refused even
    # though it names the model, and the developer still reaches its own model
    assert wait_until(deployed, "reviewer", "atlas-preview", 200).status_code == 200
    # of the authority's principals, its reviewers test; its administrator does not
    admin = deployed.gateway_call("admin", "/chat/completions", chat("atlas-preview"))
    assert admin.status_code == 403
    refused = deployed.gateway_call("partner", "/chat/completions", chat("atlas-preview"))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "model_not_approved"
    own = deployed.gateway_call("dev", "/chat/completions", chat("atlas-preview"))
    assert own.status_code == 200
    # the calls are metered against the testing grant
    deadline = time.monotonic() + 10
    while True:
        usage = reg.ok("admin", "GET", "/usage")["items"]
        metered = [u for u in usage if u["grant_id"] == grant_id]
        if metered or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert metered and metered[0]["calls"] >= 1
    # thirty days on, the grant expires and the authority is refused like anyone else
    reg.clock.advance(days=31)
    applied = reg.ok("admin", "POST", "/clock/run")["applied"]
    assert {"kind": "grant_expiry", "subject": grant_id} in applied
    response = wait_until(deployed, "reviewer", "atlas-preview", 403)
    assert response.json()["error"]["code"] == "model_not_approved"


def test_a_withdrawn_application_takes_the_authoritys_testing_access_with_it(
    deployed: Deployment,
) -> None:
    reg = deployed.reg
    reg.ok("admin", "POST", "/frameworks", content=framework_with_testing("1.0.1", days=30))
    application = file(reg, "atlas-withdrawn")
    assert wait_until(deployed, "reviewer", "atlas-withdrawn", 200).status_code == 200
    reg.ok("dev", "POST", f"/applications/{application['id']}/withdraw")
    grants = reg.ok("reviewer", "GET", "/grants")["items"]
    (grant,) = [g for g in grants if g["id"] == application["testing_grant_id"]]
    assert grant["state"] == "revoked"
    refused = wait_until(deployed, "reviewer", "atlas-withdrawn", 403)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "model_not_approved"


def test_the_authoritys_calls_go_to_the_pre_release_upstream_the_developer_names(
    deployed: Deployment,
) -> None:
    reg = deployed.reg
    reg.ok("admin", "POST", "/frameworks", content=framework_with_testing("1.0.1"))
    # a pre-release upstream nobody listens on: the authority's calls go there and fail, while
    # the developer's own calls still reach the model's ordinary upstream
    application = file(reg, "atlas-pre", pre_release_upstream="http://127.0.0.1:9/v1")
    failed = wait_until(deployed, "reviewer", "atlas-pre", 502)
    assert failed.json()["error"]["code"] == "upstream_unavailable"
    assert deployed.gateway_call("dev", "/chat/completions", chat("atlas-pre")).status_code == 200
    # nothing about the pre-release server reaches the public log
    events = reg.ok(None, "GET", "/events?limit=500")["items"]
    assert "127.0.0.1:9" not in str(events)
    pre_release = FakeUpstreamThread()
    try:
        reg.ok(
            "dev",
            "POST",
            f"/applications/{application['id']}/testing-access",
            json={"pre_release_upstream": pre_release.url},
        )
        served = wait_until(deployed, "reviewer", "atlas-pre", 200)
        assert served.status_code == 200, served.text
        assert served.json()["choices"][0]["message"]["content"]
    finally:
        pre_release.stop()
    bad = reg.call(
        "dev",
        "POST",
        f"/applications/{application['id']}/testing-access",
        json={"pre_release_upstream": "ftp://user:pw@host/"},
    )
    assert bad.status_code == 422 and "pre_release_upstream" in bad.json()["error"]["message"]
    other = reg.call(
        "partner",
        "POST",
        f"/applications/{application['id']}/testing-access",
        json={"pre_release_upstream": "http://127.0.0.1:10/v1"},
    )
    assert other.status_code == 403


def test_no_deemed_approval_while_the_developer_owes_testing_access(
    register: Register,
) -> None:
    reg = register
    reg.ok("admin", "POST", "/frameworks", content=framework_with_testing("1.0.1", required=True))
    application = file(reg, "atlas-owed")
    assert application["testing_access_missing"] is True
    assert application["clock_stopped_at"] == application["filed_at"]
    reg.clock.advance(days=120)
    applied = reg.ok("admin", "POST", "/clock/run")["applied"]
    assert not [a for a in applied if a["subject"] == application["id"]]
    stored = reg.ok(None, "GET", f"/applications/{application['id']}")
    assert stored["state"] == "filed" and stored["decision_id"] is None
    provided = reg.ok(
        "dev",
        "POST",
        f"/applications/{application['id']}/testing-access",
        json={"pre_release_upstream": "http://10.0.0.5:8000/v1"},
    )
    # the clock ran again, and the deadline moved by the 120 days it stood
    assert provided["testing_access_missing"] is False and provided["clock_stopped_at"] is None
    moved = dt.datetime.fromisoformat(provided["deadline"])
    assert moved - dt.datetime.fromisoformat(application["deadline"]) == dt.timedelta(days=120)
    # the thirty days of testing access count from when the developer provided it
    (grant,) = [
        g
        for g in reg.ok("reviewer", "GET", "/grants")["items"]
        if g["id"] == application["testing_grant_id"]
    ]
    assert dt.datetime.fromisoformat(grant["expires_at"]) == reg.clock.now + dt.timedelta(days=30)
    reg.clock.advance(days=91)
    applied = reg.ok("admin", "POST", "/clock/run")["applied"]
    assert {"kind": "deemed_approval", "subject": application["id"]} in applied


def test_deem_decision_refuses_while_testing_access_is_missing() -> None:
    framework = parse_framework(framework_with_testing("1.0.1", required=True).decode())
    now = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    application = Application(
        id="app_1",
        model_id="mdl_1",
        organization_id="org_1",
        framework_digest="ab" * 32,
        requested_tier="public",
        requested_jurisdictions=("tier-1",),
        assessment={"max_tier": "public"},
        filed_at=now - dt.timedelta(days=100),
        deadline=now - dt.timedelta(days=10),
        testing_access_missing=True,
    )
    with pytest.raises(Conflict, match="testing access"):
        deem_decision(new_id="dec_1", application=application, framework=framework, now=now)
    provided = application.model_copy(update={"testing_access_missing": False})
    assert deem_decision(new_id="dec_1", application=provided, framework=framework, now=now)


def test_a_framework_cannot_require_an_upstream_without_testing_access() -> None:
    data = yaml.safe_load(example_path().read_text())
    data["procedure"]["pre_release_upstream_required"] = True
    data["procedure"].pop("testing_access_days")
    with pytest.raises(InvalidInput, match="testing_access_days"):
        parse_framework(yaml.safe_dump(data))


def test_the_policy_admits_a_testing_grant_to_the_authority_alone() -> None:
    """Pure: only an organization of kind authority is admitted by a testing grant in force."""
    from clearance.policy import Decider, GrantEntry, ModelEntry, OrgEntry, Snapshot

    now = 1_900_000_000.0
    pending = ModelEntry(
        id="id-m",
        name="m",
        organization_id="dev",
        status="pending",
        tier=None,
        tiers={},
        sector_tiers={},
        channels=frozenset({"api"}),
    )

    def testing(org: str, expires: float) -> GrantEntry:
        return GrantEntry(
            id=f"t-{org}",
            organization_id=org,
            model_id="id-m",
            state="active",
            expires_at=expires,
            testing=True,
            upstream="http://10.0.0.5:8000/v1",
        )

    def decide(grants: list[GrantEntry], org: str) -> Any:
        decider = Decider()
        decider.swap(
            Snapshot(
                version=1,
                digest="0" * 64,
                issued_at=now - 10,
                expires_at=now + 300,
                organizations={
                    "auth": OrgEntry("auth", "authority", "US", "tier-1"),
                    "dev": OrgEntry("dev", "developer", "US", "tier-1"),
                    "us": OrgEntry("us", "partner", "US", "tier-1"),
                },
                keys={},
                models={"m": pending},
                grants={(g.organization_id, g.model_id): (g,) for g in grants},
            )
        )
        return decider.decide_uncached(org, "m", "", now, tester=True)

    allowed = decide([testing("auth", now + 60)], "auth")
    assert allowed.allowed and allowed.grant is not None
    assert allowed.grant.upstream == "http://10.0.0.5:8000/v1"
    assert allowed.valid_until == now + 60  # the cache keeps it no longer than the grant
    assert decide([testing("auth", now + 60)], "us").code == "model_not_approved"
    assert decide([testing("auth", now - 1)], "auth").code == "model_not_approved"
    # a testing grant in a partner's name (no act issues one) admits nobody
    assert decide([testing("us", now + 60)], "us").code == "model_not_approved"
    assert decide([], "dev").allowed


def test_an_answered_question_leaves_the_clock_stopped_while_testing_access_is_owed() -> None:
    from clearance.register import InformationRequest, Principal, answer_information

    now = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    filed = now - dt.timedelta(days=10)
    application = Application(
        id="app_1",
        model_id="mdl_1",
        organization_id="org_dev",
        framework_digest="ab" * 32,
        requested_tier="public",
        requested_jurisdictions=("tier-1",),
        assessment={"max_tier": "public"},
        filed_at=filed,
        deadline=filed + dt.timedelta(days=90),
        state="information_requested",
        clock_stopped_at=filed,
        testing_access_missing=True,
    )
    question = InformationRequest(
        id="inf_1",
        application_id="app_1",
        question="Which upstream?",
        asked_by="pri_rev",
        asked_at=now - dt.timedelta(days=5),
        respond_by=now + dt.timedelta(days=25),
    )
    developer = Principal(
        id="pri_dev", organization_id="org_dev", name="dev", roles=("developer",), created_at=filed
    )
    change = answer_information(
        application=application, request=question, principal=developer, response="Soon.", now=now
    )
    answered = change.records[0]
    assert isinstance(answered, Application)
    assert answered.state == "under_review"
    assert answered.clock_stopped_at == filed and answered.deadline == application.deadline


def test_a_decision_ends_the_authoritys_testing_access(deployed: Deployment) -> None:
    reg = deployed.reg
    reg.ok("admin", "POST", "/frameworks", content=framework_with_testing("1.0.1", days=30))
    # thirty days of testing access, but the decision comes first and ends them
    application = file(reg, "atlas-denied")
    assert wait_until(deployed, "reviewer", "atlas-denied", 200).status_code == 200
    reg.ok("reviewer", "POST", f"/applications/{application['id']}/assign", json={})
    denial = {"outcome": "denied", "reasons": [{"text": "No.", "rules": ["evidence.missing"]}]}
    reg.ok("reviewer", "POST", f"/applications/{application['id']}/decision", json=denial)
    grants = reg.ok("reviewer", "GET", "/grants")["items"]
    (grant,) = [g for g in grants if g["id"] == application["testing_grant_id"]]
    assert (grant["state"], grant["revoked_by"]) == ("expired", None)
    events = reg.ok(None, "GET", "/events?limit=500")["items"]
    (said,) = [e for e in events if e["kind"] == "grant.expired" and e["subject"] == grant["id"]]
    assert said["data"]["reason"] == f"application {application['id']} is decided"
    assert said["actor"] == reg.ok("reviewer", "GET", "/principals/me")["id"]
    refused = wait_until(deployed, "reviewer", "atlas-denied", 403)
    assert refused.json()["error"]["code"] == "model_not_approved"
