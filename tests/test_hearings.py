"""Hearings on adverse acts, with the fake clock: held in time, missed (the act lapses, once)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from clearance.server import build_app
from clearance.store import _tables as t
from tests.register_fixtures import Register
from tests.test_register_clock import run_clock, take_case
from tests.test_register_lifecycle import approve_for_partners, events_of, file_application

DIGEST = "cd" * 32


def approve(reg: Register) -> dict[str, Any]:
    """atlas-2 filed and approved for internal use: its decided status is `approved`."""
    app_id = file_application(reg)["id"]
    take_case(reg, app_id)
    return dict(
        reg.ok(
            "reviewer",
            "POST",
            f"/applications/{app_id}/decision",
            json={
                "outcome": "approved",
                "tier": "internal",
                "reasons": [{"text": "Internal use only.", "rules": ["evidence.missing"]}],
                "justification": "Internal deployment while evaluations are filed.",
            },
        )
    )


def halt(reg: Register, urgent: bool) -> dict[str, Any]:
    body = {"action": "halt", "model": "atlas-2", "grounds": "Exploit report.", "urgent": urgent}
    return dict(reg.ok("admin", "POST", "/directives", json=body))


def status(reg: Register) -> str:
    return str(reg.ok(None, "GET", "/models/atlas-2/status")["status"])


def logged_kinds(reg: Register) -> list[str]:
    store = reg.data_dir.open_store()
    with store.engine.connect() as connection:
        kinds = list(connection.scalars(select(t.statements.c.kind)))
    store.engine.dispose()
    return kinds


def test_urgent_halt_heard_in_time_and_modified(register: Register) -> None:
    reg = register
    approve(reg)
    directive = halt(reg, urgent=True)
    assert status(reg) == "halted"  # urgent: in effect at once, the hearing follows
    hearing = reg.ok(None, "GET", f"/hearings/{directive['hearing_id']}")
    assert (hearing["state"], hearing["urgent"], hearing["act_id"]) == (
        "open",
        True,
        directive["id"],
    )
    assert hearing["hold_by"].startswith("2026-06-15")  # procedure.hearing_within_days: 14
    assert hearing["organization_ids"] == [reg.ids["Atlas Labs"]]

    outsider = reg.call(
        "rival", "POST", f"/hearings/{hearing['id']}/submissions", json={"text": "Me too."}
    )
    assert outsider.status_code == 403
    reg.clock.advance(days=3)
    heard = reg.ok(
        "dev",
        "POST",
        f"/hearings/{hearing['id']}/submissions",
        json={"text": "The exploits need expert operators.", "evidence": [DIGEST]},
    )
    submission = heard["submissions"][0]
    assert (submission["evidence"], submission["filed_by"]) == ([DIGEST], reg.ids["dev"])

    # the outcome must answer every submission
    unanswered = {"outcome": "confirm", "reasons": [{"text": "The halt stands."}]}
    refused = reg.call("admin", "POST", f"/hearings/{hearing['id']}/outcome", json=unanswered)
    assert refused.status_code == 422 and submission["id"] in refused.json()["error"]["message"]
    reasons = [{"text": "Expert operators exist in agencies.", "answers": [submission["id"]]}]
    closed = reg.ok(
        "admin",
        "POST",
        f"/hearings/{hearing['id']}/outcome",
        json={
            "outcome": "modify",
            "reasons": reasons,
            "scope": {"organizations": [reg.ids["Agency One"]]},
            "limits": {"requests_per_minute": 30},
        },
    )
    assert (closed["state"], closed["outcome"]) == ("closed", "modify")
    assert closed["reasons"][0]["answers"] == [submission["id"]]
    # the halt is replaced by a restriction to the scope, granting within its limits
    modified = reg.ok(None, "GET", f"/directives/{closed['result_id']}")
    assert (modified["action"], modified["hearing_id"]) == ("restrict", hearing["id"])
    assert reg.ok(None, "GET", f"/directives/{directive['id']}")["state"] == "superseded"
    assert status(reg) == "restricted"
    grants = reg.ok("partner", "GET", "/grants")["items"]
    assert [g["limits"]["requests_per_minute"] for g in grants] == [30]

    late = reg.call("dev", "POST", f"/hearings/{hearing['id']}/submissions", json={"text": "x"})
    assert late.status_code == 409 and "closed" in late.json()["error"]["message"]
    again = reg.call("admin", "POST", f"/hearings/{hearing['id']}/outcome", json=unanswered)
    assert again.status_code == 409
    reg.clock.advance(days=30)
    assert "hearing_missed" not in [d["kind"] for d in run_clock(reg)]
    assert {"hearing.opened", "hearing.submission", "hearing.closed"} <= set(logged_kinds(reg))


def test_missed_hearing_lapses_the_urgent_directive_once(register: Register) -> None:
    reg = register
    approve(reg)
    directive = halt(reg, urgent=True)
    assert status(reg) == "halted"
    reg.clock.advance(days=13, hours=23)
    assert run_clock(reg) == []
    reg.clock.advance(hours=1)
    assert run_clock(reg) == [{"kind": "hearing_missed", "subject": directive["hearing_id"]}]
    assert reg.ok(None, "GET", f"/directives/{directive['id']}")["state"] == "lapsed"
    assert reg.ok(None, "GET", f"/hearings/{directive['hearing_id']}")["state"] == "lapsed"
    assert status(reg) == "approved"  # back to its decided status
    lapsed = events_of(reg, "directive.lapsed")
    assert len(lapsed) == 1 and lapsed[0]["data"]["was"] == "active"
    # too late for an outcome: the date bound the authority
    late = reg.call(
        "admin",
        "POST",
        f"/hearings/{directive['hearing_id']}/outcome",
        json={"outcome": "confirm", "reasons": [{"text": "Stands."}]},
    )
    assert late.status_code == 409
    # exactly once: again, and after a restart
    assert run_clock(reg) == []
    store = reg.data_dir.open_store()
    with TestClient(build_app(store, clock=reg.clock, clock_interval=None)) as restarted:
        again = restarted.post(
            "/api/v1/clock/run", headers={"Authorization": f"Bearer {reg.keys['admin']}"}
        )
        assert again.json()["applied"] == []
    store.engine.dispose()
    assert len(events_of(reg, "directive.lapsed")) == 1
    assert "directive.lapsed" in logged_kinds(reg)


def test_a_halt_that_is_not_urgent_waits_for_its_hearing(register: Register) -> None:
    reg = register
    approve(reg)
    directive = halt(reg, urgent=False)
    assert directive["state"] == "proposed"
    assert status(reg) == "approved"  # heard before the act
    assert events_of(reg, "directive.issued") == []
    reg.clock.advance(days=5)
    closed = reg.ok(
        "admin",
        "POST",
        f"/hearings/{directive['hearing_id']}/outcome",
        json={"outcome": "confirm", "reasons": [{"text": "No submission; the grounds stand."}]},
    )
    assert (closed["outcome"], closed["result_id"]) == ("confirm", None)
    confirmed = reg.ok(None, "GET", f"/directives/{directive['id']}")
    assert confirmed["state"] == "active" and confirmed["issued_at"].startswith("2026-06-06")
    assert status(reg) == "halted"
    assert len(events_of(reg, "directive.issued")) == 1
    # a proposal whose hearing is missed falls too
    other = halt(reg, urgent=False)
    reg.clock.advance(days=14)
    assert {"kind": "hearing_missed", "subject": other["hearing_id"]} in run_clock(reg)
    assert reg.ok(None, "GET", f"/directives/{other['id']}")["state"] == "lapsed"
    assert status(reg) == "halted"


def test_refusals_and_revocations_are_heard(register: Register) -> None:
    reg = register
    approve_for_partners(reg, file_application(reg))
    request = reg.ok(
        "partner",
        "POST",
        "/access-requests",
        json={"model": "atlas-2", "use_case": "cyber-defense"},
    )
    refusal = reg.ok(
        "reviewer",
        "POST",
        f"/access-requests/{request['id']}/decision",
        json={"granted": False, "reasons": "Triage is not a partners-only use."},
    )
    assert refusal["accessrequest"]["state"] == "refusal_proposed"
    hearing = refusal["hearing"]
    assert reg.call(None, "GET", f"/hearings/{hearing['id']}").status_code == 404  # private
    heard = reg.ok(
        "partner",
        "POST",
        f"/hearings/{hearing['id']}/submissions",
        json={"text": "Our triage protects hospital networks."},
    )
    reasons = [
        {
            "text": "Hospital networks are a defensive use.",
            "answers": [heard["submissions"][0]["id"]],
        }
    ]
    reg.ok(
        "reviewer",
        "POST",
        f"/hearings/{hearing['id']}/outcome",
        json={"outcome": "revoke", "reasons": reasons},
    )
    assert reg.ok("partner", "GET", "/access-requests")["items"][0]["state"] == "pending"

    # an urgent refusal whose hearing is missed is reopened
    urgent = reg.ok(
        "reviewer",
        "POST",
        f"/access-requests/{request['id']}/decision",
        json={"granted": False, "reasons": "Refused at once.", "urgent": True},
    )
    assert urgent["accessrequest"]["state"] == "refused"
    reg.clock.advance(days=14)
    assert {"kind": "hearing_missed", "subject": urgent["hearing"]["id"]} in run_clock(reg)
    assert reg.ok("partner", "GET", "/access-requests")["items"][0]["state"] == "pending"

    # a revocation that is not urgent keeps the grant until the hearing confirms it
    granted = reg.ok(
        "reviewer",
        "POST",
        f"/access-requests/{request['id']}/decision",
        json={"granted": True, "reasons": "Defensive use."},
    )["grant"]
    revoked = reg.ok(
        "admin", "POST", f"/grants/{granted['id']}/revoke", json={"grounds": "Misuse reported."}
    )
    assert revoked["grant"]["state"] == "active"
    twice = reg.call("admin", "POST", f"/grants/{granted['id']}/revoke", json={"grounds": "x"})
    assert twice.status_code == 409
    reg.ok(
        "admin",
        "POST",
        f"/hearings/{revoked['hearing']['id']}/outcome",
        json={"outcome": "confirm", "reasons": [{"text": "The misuse is established."}]},
    )
    grant = reg.ok("partner", "GET", "/grants")["items"][0]
    admin = reg.ok("admin", "GET", "/principals/me")["id"]
    assert (grant["state"], grant["revoked_by"]) == ("revoked", admin)


def test_hearing_within_days_is_read_from_the_framework(register: Register) -> None:
    import yaml

    from clearance.examples import example_path

    reg = register
    approve(reg)
    newer = yaml.safe_load(example_path().read_text())
    newer["version"] = "2.0.0"
    del newer["procedure"]["hearing_within_days"]
    newer["procedure"]["directive"]["hearing_within_days"] = 5  # the old place still reads
    reg.ok("admin", "POST", "/frameworks", content=yaml.safe_dump(newer).encode())
    directive = halt(reg, urgent=True)
    assert directive["hearing_date"].startswith("2026-06-06")
    reg.clock.advance(days=5)
    assert run_clock(reg) == [{"kind": "hearing_missed", "subject": directive["hearing_id"]}]


def test_a_revocation_withdrawn_after_its_directive_ended_leaves_the_grant_ended(
    register: Register,
) -> None:
    """A restriction's grant is revoked (urgently, heard later); a restore then supersedes the
    restriction. The hearing withdraws the revocation, but the grant's act no longer stands:
    it comes back only to end again, in the same act."""
    reg = register
    approve(reg)
    restrict = {
        "action": "restrict",
        "model": "atlas-2",
        "grounds": "Only Agency One.",
        "organizations": [reg.ids["Agency One"]],
        "urgent": True,
    }
    directive = reg.ok("admin", "POST", "/directives", json=restrict)
    (grant,) = [
        g for g in reg.ok("admin", "GET", "/grants")["items"] if g["origin"] == directive["id"]
    ]
    revoked = reg.ok(
        "admin",
        "POST",
        f"/grants/{grant['id']}/revoke",
        json={"grounds": "Misuse.", "urgent": True},
    )
    restore = {"action": "restore", "model": "atlas-2", "grounds": "Examined."}
    reg.ok("admin", "POST", "/directives", json=restore)
    assert reg.ok(None, "GET", f"/directives/{directive['id']}")["state"] == "superseded"
    reg.ok(
        "admin",
        "POST",
        f"/hearings/{revoked['hearing']['id']}/outcome",
        json={"outcome": "revoke", "reasons": [{"text": "No misuse."}]},
    )
    (after,) = [g for g in reg.ok("admin", "GET", "/grants")["items"] if g["id"] == grant["id"]]
    assert after["state"] == "revoked"
    said = [e for e in events_of(reg, "grant.revoked") if e["subject"] == grant["id"]]
    assert said[-1]["data"]["reason"] == f"directive {directive['id']} is superseded"
    assert [e["subject"] for e in events_of(reg, "grant.reinstated")] == [grant["id"]]
