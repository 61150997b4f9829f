"""Appeals of any adverse act: panel composition, majority votes, the panel's deadline."""

from __future__ import annotations

from typing import Any

import yaml

from clearance.examples import example_path
from tests.register_fixtures import Register
from tests.test_register_clock import run_clock, take_case
from tests.test_register_lifecycle import (
    add_panelists,
    approve_for_partners,
    events_of,
    file_application,
)


def refuse_urgently(reg: Register, decider: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Agency One asks for atlas-2 and is refused at once; returns the request and hearing."""
    request = reg.ok(
        "partner",
        "POST",
        "/access-requests",
        json={"model": "atlas-2", "use_case": "cyber-defense"},
    )
    refused = reg.ok(
        decider,
        "POST",
        f"/access-requests/{request['id']}/decision",
        json={"granted": False, "reasons": "Not a partners-only use.", "urgent": True},
    )
    return refused["accessrequest"], refused["hearing"]


def vote(reg: Register, who: str, appeal_id: str, choice: str) -> Any:
    return reg.call(
        who, "POST", f"/appeals/{appeal_id}/votes", json={"vote": choice, "text": f"{who} says."}
    )


def test_appeal_of_a_refusal_by_a_majority_panel(register: Register) -> None:
    reg = register
    approve_for_partners(reg, file_application(reg))
    panel = add_panelists(reg)
    # a reviewer who also sits on panels refuses: they may not hear the appeal
    reg.add_principal("judge-reviewer", "Release Authority", "reviewer", "appeal_panel")
    reg.add_principal(
        "judge-conflicted", "Release Authority", "appeal_panel", conflicts=[reg.ids["Agency One"]]
    )
    request, hearing = refuse_urgently(reg, "judge-reviewer")
    path = f"/access-requests/{request['id']}/appeals"
    early = reg.call("partner", "POST", path, json={"grounds": "Triage is defensive."})
    assert early.status_code == 409 and "open" in early.json()["error"]["message"]
    reg.ok(
        "admin",
        "POST",
        f"/hearings/{hearing['id']}/outcome",
        json={"outcome": "confirm", "reasons": [{"text": "The refusal stands."}]},
    )
    stranger = reg.call("rival", "POST", path, json={"grounds": "x"})
    assert stranger.status_code == 403
    appeal = reg.ok("partner", "POST", path, json={"grounds": "Triage is defensive."})
    assert (appeal["act"], appeal["act_id"]) == ("access_refusal", request["id"])
    assert reg.ids["judge-reviewer"] in appeal["excluded"]
    assert reg.call("partner", "POST", path, json={"grounds": "again"}).status_code == 409

    def appoint(members: list[str]) -> Any:
        return reg.call(
            "admin", "POST", f"/appeals/{appeal['id']}/panel", json={"members": members}
        )

    too_small = appoint(panel[:2])
    assert too_small.status_code == 422 and "3" in too_small.json()["error"]["message"]
    participant = appoint([reg.ids["judge-reviewer"], *panel[:2]])
    assert participant.status_code == 403 and "took part" in participant.json()["error"]["message"]
    conflicted = appoint([reg.ids["judge-conflicted"], *panel[:2]])
    assert conflicted.status_code == 403 and "conflict" in conflicted.json()["error"]["message"]
    assert appoint(panel).status_code == 200

    assert vote(reg, "judge-conflicted", appeal["id"], "upheld").status_code == 409  # not a member
    assert vote(reg, "panelist", appeal["id"], "overturned").status_code == 200
    second = vote(reg, "panelist", appeal["id"], "upheld")
    assert second.status_code == 409 and "already voted" in second.json()["error"]["message"]
    assert vote(reg, "panelist-2", appeal["id"], "upheld").status_code == 200
    assert reg.ok(None, "GET", f"/appeals/{appeal['id']}")["state"] == "filed"  # 1 to 1 so far
    ruled = vote(reg, "panelist-3", appeal["id"], "overturned").json()
    assert ruled["state"] == "overturned"
    assert {(v["member"], v["vote"]) for v in ruled["votes"]} == {
        (panel[0], "overturned"),
        (panel[1], "upheld"),
        (panel[2], "overturned"),
    }
    assert vote(reg, "panelist", appeal["id"], "upheld").status_code == 409  # ruled
    # the case reopens, and goes to someone other than the decider overturned
    reopened = reg.ok("partner", "GET", "/access-requests")["items"][0]
    assert reopened["state"] == "pending" and reopened["excluded"] == [reg.ids["judge-reviewer"]]
    again = reg.call(
        "judge-reviewer",
        "POST",
        f"/access-requests/{request['id']}/decision",
        json={"granted": False, "reasons": "Still no."},
    )
    assert again.status_code == 403
    reg.ok(
        "reviewer",
        "POST",
        f"/access-requests/{request['id']}/decision",
        json={"granted": True, "reasons": "Defensive use."},
    )
    ruling = events_of(reg, "appeal.ruled")[0]["data"]
    assert ruling["ruling"] == "overturned" and len(ruling["votes"]) == 3


def decided_and_appealed(reg: Register) -> tuple[str, dict[str, Any]]:
    app_id = file_application(reg)["id"]
    take_case(reg, app_id)
    decision = reg.ok(
        "reviewer",
        "POST",
        f"/applications/{app_id}/decision",
        json={
            "outcome": "denied",
            "reasons": [{"text": "No evidence.", "rules": ["evidence.missing"]}],
        },
    )
    appeal = reg.ok(
        "dev", "POST", f"/decisions/{decision['id']}/appeals", json={"grounds": "Wrong."}
    )
    reg.ok("admin", "POST", f"/appeals/{appeal['id']}/panel", json={"members": add_panelists(reg)})
    return app_id, appeal


def test_missed_panel_deadline_upholds_the_appeal_once(register: Register) -> None:
    reg = register
    app_id, appeal = decided_and_appealed(reg)
    assert appeal["decide_by"].startswith("2026-07-31")  # procedure.appeal_decision_days: 60
    reg.clock.advance(days=59)
    assert run_clock(reg) == []
    reg.clock.advance(days=1)
    assert run_clock(reg) == [{"kind": "panel_deadline_missed", "subject": appeal["id"]}]
    assert run_clock(reg) == []
    ruled = reg.ok(None, "GET", f"/appeals/{appeal['id']}")
    assert ruled["state"] == "overturned" and ruled["ruled_by"] == "scheduler"
    assert len(events_of(reg, "appeal.ruled")) == 1
    application = reg.ok(None, "GET", f"/applications/{app_id}")
    assert application["state"] == "under_review"
    assert application["excluded_reviewers"] == [reg.ids["reviewer"]]
    # reopened on appeal: the reviewer overturned may not take it again; another may
    refused = reg.call("reviewer", "POST", f"/applications/{app_id}/assign", json={})
    assert refused.status_code == 403 and "overturned" in refused.json()["error"]["message"]
    reg.add_principal("reviewer-2", "Release Authority", "reviewer")
    reg.ok("reviewer-2", "POST", f"/applications/{app_id}/assign", json={})


def publish(reg: Register, **procedure: Any) -> None:
    newer = yaml.safe_load(example_path().read_text())
    newer["version"] = "2.0.0"
    newer["procedure"].update(procedure)
    reg.ok("admin", "POST", "/frameworks", content=yaml.safe_dump(newer).encode())


def test_missed_panel_deadline_escalates_when_the_framework_says_so(register: Register) -> None:
    reg = register
    publish(reg, appeal_on_missed="escalate")
    _, appeal = decided_and_appealed(reg)
    reg.clock.advance(days=60)
    assert run_clock(reg) == [{"kind": "panel_deadline_missed", "subject": appeal["id"]}]
    escalated = reg.ok(None, "GET", f"/appeals/{appeal['id']}")
    assert escalated["state"] == "filed" and escalated["escalations"] == 1
    assert escalated["panel"] == [] and escalated["decide_by"].startswith("2026-09-29")
    assert set(add_panelists(reg)) <= set(escalated["excluded"])  # the panel that missed it
    assert run_clock(reg) == []
    assert len(events_of(reg, "appeal.escalated")) == 1
    again = reg.call(
        "admin", "POST", f"/appeals/{appeal['id']}/panel", json={"members": add_panelists(reg)}
    )
    assert again.status_code == 403


def test_panel_size_is_the_frameworks(register: Register) -> None:
    reg = register
    publish(reg, appeal_panel_size=1)
    app_id = file_application(reg)["id"]
    take_case(reg, app_id)
    decision = reg.ok(
        "reviewer",
        "POST",
        f"/applications/{app_id}/decision",
        json={"outcome": "denied", "reasons": [{"text": "No.", "rules": ["evidence.missing"]}]},
    )
    appeal = reg.ok("dev", "POST", f"/decisions/{decision['id']}/appeals", json={"grounds": "g"})
    reg.ok(
        "admin", "POST", f"/appeals/{appeal['id']}/panel", json={"members": [reg.ids["panelist"]]}
    )
    assert vote(reg, "panelist", appeal["id"], "upheld").json()["state"] == "upheld"


def test_a_directive_is_appealed_after_its_hearing(register: Register) -> None:
    reg = register
    file_application(reg)
    directive = reg.ok(
        "admin",
        "POST",
        "/directives",
        json={"action": "halt", "model": "atlas-2", "grounds": "Incident.", "urgent": True},
    )
    reg.ok(
        "admin",
        "POST",
        f"/hearings/{directive['hearing_id']}/outcome",
        json={"outcome": "confirm", "reasons": [{"text": "The incident is confirmed."}]},
    )
    path = f"/directives/{directive['id']}/appeals"
    appeal = reg.ok("dev", "POST", path, json={"grounds": "The incident was fixed."})
    assert appeal["act"] == "directive"
    panel = add_panelists(reg)
    reg.ok("admin", "POST", f"/appeals/{appeal['id']}/panel", json={"members": panel})
    for who in ("panelist", "panelist-2", "panelist-3"):
        vote(reg, who, appeal["id"], "overturned")
    assert reg.ok(None, "GET", f"/directives/{directive['id']}")["state"] == "set_aside"
    assert reg.ok(None, "GET", "/models/atlas-2/status")["status"] == "pending"
    # out of time: the window is the framework's appeal_window_days from the hearing's outcome
    other = reg.ok(
        "admin",
        "POST",
        "/directives",
        json={"action": "halt", "model": "atlas-2", "grounds": "Second incident.", "urgent": True},
    )
    reg.ok(
        "admin",
        "POST",
        f"/hearings/{other['hearing_id']}/outcome",
        json={"outcome": "confirm", "reasons": [{"text": "Confirmed."}]},
    )
    reg.clock.advance(days=30)
    late = reg.call("dev", "POST", f"/directives/{other['id']}/appeals", json={"grounds": "g"})
    assert late.status_code == 409 and "closed" in late.json()["error"]["message"]


def test_a_decision_set_aside_gives_the_reopened_review_its_testing_access_again(
    register: Register,
) -> None:
    """The authority's testing grant is for a model under review: it expires with the decision,
    and stands again (within its days) when a panel sets the decision aside and the application
    is under review once more."""
    reg = register
    publish(reg, testing_access_days=30)
    application = file_application(reg)
    testing = application["testing_grant_id"]
    assert testing
    take_case(reg, application["id"])
    denial = {"outcome": "denied", "reasons": [{"text": "No.", "rules": ["evidence.missing"]}]}
    decision = reg.ok(
        "reviewer", "POST", f"/applications/{application['id']}/decision", json=denial
    )

    def state() -> str:
        (grant,) = [g for g in reg.ok("admin", "GET", "/grants")["items"] if g["id"] == testing]
        return str(grant["state"])

    assert state() == "expired"
    appeal = reg.ok("dev", "POST", f"/decisions/{decision['id']}/appeals", json={"grounds": "W"})
    reg.ok("admin", "POST", f"/appeals/{appeal['id']}/panel", json={"members": add_panelists(reg)})
    for who in ("panelist", "panelist-2", "panelist-3"):
        vote(reg, who, appeal["id"], "overturned")
    assert (
        reg.ok("reviewer", "GET", f"/applications/{application['id']}")["state"] == "under_review"
    )
    assert state() == "active"
    reinstated = events_of(reg, "grant.reinstated")
    assert [e["data"]["reason"] for e in reinstated if e["subject"] == testing] == [
        f"application {application['id']} is under review again"
    ]
