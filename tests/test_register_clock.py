"""Every clock rule with a fake clock, applied exactly once, also across restarts."""

from __future__ import annotations

from fastapi.testclient import TestClient

from clearance.server import build_app
from tests.register_fixtures import Register
from tests.test_register_lifecycle import approve_for_partners, events_of, file_application


def run_clock(reg: Register) -> list[dict[str, str]]:
    """The transitions the clock applied, less the authority's testing grants' own (every filing
    under the example framework issues one; their clock is tested in test_testing_access.py)."""
    applied: list[dict[str, str]] = reg.ok("admin", "POST", "/clock/run")["applied"]
    return [
        a
        for a in applied
        if not (a["kind"] in ("grant_expiry", "grant_expiring") and a["subject"].startswith("tst_"))
    ]


def take_case(reg: Register, app_id: str) -> None:
    reg.ok("reviewer", "POST", f"/applications/{app_id}/assign", json={})


def confirm(reg: Register, directive: dict[str, str]) -> None:
    """Hold the directive's hearing in time and confirm the directive."""
    reasons = [{"text": "The grounds stand; no submission was made."}]
    body = {"outcome": "confirm", "reasons": reasons}
    reg.ok("admin", "POST", f"/hearings/{directive['hearing_id']}/outcome", json=body)


def test_deadline_met_nothing_is_deemed(register: Register) -> None:
    reg = register
    app_id = file_application(reg)["id"]
    take_case(reg, app_id)
    reg.clock.advance(days=89)
    assert run_clock(reg) == []
    assert reg.ok(None, "GET", f"/applications/{app_id}")["state"] == "under_review"


def test_deadline_missed_means_deemed_approval(register: Register) -> None:
    reg = register
    app_id = file_application(reg)["id"]
    take_case(reg, app_id)
    reg.clock.advance(days=90)
    assert run_clock(reg) == [{"kind": "deemed_approval", "subject": app_id}]
    application = reg.ok(None, "GET", f"/applications/{app_id}")
    assert application["state"] == "decided"
    decision = reg.ok(None, "GET", f"/decisions/{application['decision_id']}")
    assert decision["deemed"] is True and decision["decided_by"] is None
    assert decision["tier"] == "halted"  # the more closed of requested and assessed
    assert decision["reasons"][0]["rules"] == ["procedure.deemed_approval"]
    assert len(events_of(reg, "decision.deemed")) == 1
    # exactly once: a second run, and a restarted server, apply nothing more
    assert run_clock(reg) == []
    store = reg.data_dir.open_store()
    with TestClient(build_app(store, clock=reg.clock, clock_interval=None)) as restarted:
        again = restarted.post(
            "/api/v1/clock/run", headers={"Authorization": f"Bearer {reg.keys['admin']}"}
        )
        assert again.json()["applied"] == []
    store.engine.dispose()
    assert len(events_of(reg, "decision.deemed")) == 1


def test_information_request_stops_the_clock(register: Register) -> None:
    reg = register
    app_id = file_application(reg)["id"]
    take_case(reg, app_id)
    reg.clock.advance(days=80)
    reg.ok(
        "reviewer", "POST", f"/applications/{app_id}/information-requests", json={"question": "?"}
    )
    reg.clock.advance(days=30)  # past the original deadline, but the clock is stopped
    assert run_clock(reg) == []
    assert reg.ok(None, "GET", f"/applications/{app_id}")["state"] == "information_requested"
    request_id = reg.ok(None, "GET", f"/applications/{app_id}")["information_requests"][0]["id"]
    reg.ok("dev", "POST", f"/information-requests/{request_id}/answer", json={"response": "Here."})
    reg.clock.advance(days=9)  # 89 days of running clock
    assert run_clock(reg) == []
    reg.clock.advance(days=1)
    assert [d["kind"] for d in run_clock(reg)] == ["deemed_approval"]


def test_directive_sunset(register: Register) -> None:
    reg = register
    file_application(reg)
    halt = reg.ok(
        "admin",
        "POST",
        "/directives",
        json={"action": "halt", "model": "atlas-2", "grounds": "g", "urgent": True},
    )
    assert halt["sunset_at"].startswith("2026-08-30")
    assert reg.ok(None, "GET", "/models/atlas-2/status")["status"] == "halted"
    confirm(reg, halt)
    reg.clock.advance(days=89)
    assert run_clock(reg) == []
    reg.clock.advance(days=1)
    # the application's deadline falls on the same day: deemed, then the sunset, both once
    applied = run_clock(reg)
    assert {"kind": "directive_sunset", "subject": halt["id"]} in applied
    assert reg.ok(None, "GET", f"/directives/{halt['id']}")["state"] == "expired"
    assert reg.ok(None, "GET", "/models/atlas-2/status")["status"] == "denied"
    assert run_clock(reg) == []


def test_directive_renewal_rules(register: Register) -> None:
    reg = register
    file_application(reg)
    halt = reg.ok(
        "admin",
        "POST",
        "/directives",
        json={"action": "halt", "model": "atlas-2", "grounds": "g", "urgent": True},
    )
    confirm(reg, halt)
    early = reg.call("admin", "POST", f"/directives/{halt['id']}/renew", json={"grounds": "new"})
    assert early.status_code == 409 and "can be renewed from" in early.json()["error"]["message"]
    reg.clock.advance(days=30)
    same = reg.call("admin", "POST", f"/directives/{halt['id']}/renew", json={"grounds": "g"})
    assert same.status_code == 409 and "new grounds" in same.json()["error"]["message"]
    renewed = reg.ok("admin", "POST", f"/directives/{halt['id']}/renew", json={"grounds": "new"})
    assert renewed["sunset_at"].startswith("2026-09-29")
    reg.clock.advance(days=89)
    kinds = [d["kind"] for d in run_clock(reg)]
    assert "directive_sunset" not in kinds  # the old sunset passed, the renewed one has not
    assert reg.ok(None, "GET", "/models/atlas-2/status")["status"] == "halted"


def test_a_renewed_restriction_keeps_its_organizations_grants_to_the_new_sunset(
    register: Register,
) -> None:
    """Regression: the grants a restriction issued expired at its first sunset after a renewal."""
    reg = register
    file_application(reg)
    body = {
        "action": "restrict", "model": "atlas-2", "grounds": "g", "urgent": True,
        "organizations": ["Agency One"],
    }  # fmt: skip
    restriction = reg.ok("admin", "POST", "/directives", json=body)
    assert restriction["grants_issued"] == 1
    confirm(reg, restriction)
    reg.clock.advance(days=30)
    renewed = reg.ok(
        "admin", "POST", f"/directives/{restriction['id']}/renew", json={"grounds": "new"}
    )
    [grant] = [g for g in reg.ok("admin", "GET", "/grants")["items"] if g["purpose"] == "access"]
    assert grant["origin"] == restriction["id"] and grant["expires_at"] == renewed["sunset_at"]
    [modified] = events_of(reg, "grant.modified")
    assert (modified["subject"], modified["data"]["directive"]) == (grant["id"], restriction["id"])
    reg.clock.advance(days=61)  # past the first sunset
    assert "grant_expiry" not in [a["kind"] for a in run_clock(reg)]
    grants = {g["id"]: g for g in reg.ok("admin", "GET", "/grants")["items"]}
    assert grants[grant["id"]]["state"] == "active"


def test_grant_expiry(register: Register) -> None:
    reg = register
    approve_for_partners(reg, file_application(reg))
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
        json={"granted": True, "reasons": "ok", "expires_at": "2026-06-11T09:00:00Z"},
    )
    grant_id = decided["grant"]["id"]
    reg.clock.advance(days=2)
    assert run_clock(reg) == []
    reg.clock.advance(days=1)  # seven days before the expiry its holder is told, once
    assert run_clock(reg) == [{"kind": "grant_expiring", "subject": grant_id}]
    reg.clock.advance(days=6)
    assert run_clock(reg) == []
    assert len(events_of(reg, "grant.expiring")) == 1
    reg.clock.advance(days=1)
    assert run_clock(reg) == [{"kind": "grant_expiry", "subject": grant_id}]
    # once (the authority's testing grant expired too, when the application was decided)
    assert [e["subject"] for e in events_of(reg, "grant.expired")].count(grant_id) == 1


def test_appeal_window_closes(register: Register) -> None:
    reg = register
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
    assert decision["departure"] is False
    reg.clock.advance(days=29)
    assert run_clock(reg) == []
    reg.clock.advance(days=1)
    assert run_clock(reg) == [{"kind": "appeal_window_closed", "subject": decision["id"]}]
    assert reg.ok(None, "GET", f"/decisions/{decision['id']}")["final"] is True
    late = reg.call("dev", "POST", f"/decisions/{decision['id']}/appeals", json={"grounds": "late"})
    assert late.status_code == 409


def test_approval_lapses_after_its_validity(register: Register) -> None:
    reg = register
    app_id = file_application(reg)["id"]
    take_case(reg, app_id)
    decision = reg.ok(
        "reviewer",
        "POST",
        f"/applications/{app_id}/decision",
        json={
            "outcome": "approved",
            "tier": "internal",
            "jurisdictions": [],
            "reasons": [{"text": "Internal use only.", "rules": ["evidence.missing"]}],
            "justification": "Internal deployment while evaluations are filed.",
        },
    )
    assert reg.ok(None, "GET", "/models/atlas-2/status")["status"] == "approved"
    reg.clock.advance(days=364)
    assert "approval_lapsed" not in [d["kind"] for d in run_clock(reg)]
    reg.clock.advance(days=1)
    assert {"kind": "approval_lapsed", "subject": decision["id"]} in run_clock(reg)
    assert reg.ok(None, "GET", "/models/atlas-2/status")["status"] == "lapsed"
    assert reg.ok(None, "GET", f"/decisions/{decision['id']}")["lapsed"] is True
    assert run_clock(reg) == []
    assert len(events_of(reg, "decision.lapsed")) == 1


def test_each_application_keeps_the_procedure_it_was_filed_under(register: Register) -> None:
    import yaml

    from clearance.examples import example_path

    reg = register
    first = file_application(reg)["id"]
    take_case(reg, first)
    newer = yaml.safe_load(example_path().read_text())
    newer["version"] = "2.0.0"
    newer["procedure"]["deemed_approval"]["enabled"] = False
    reg.ok("admin", "POST", "/frameworks", content=yaml.safe_dump(newer).encode())
    second = file_application(reg, "atlas-3")["id"]
    take_case(reg, second)
    reg.clock.advance(days=90)
    # filed under 1.0.0 (deemed approval on): decided; filed under 2.0.0 (off): still open
    assert [d["subject"] for d in run_clock(reg) if d["kind"] == "deemed_approval"] == [first]
    assert reg.ok(None, "GET", f"/applications/{second}")["state"] == "under_review"


def test_two_schedulers_and_a_clock_jump_apply_each_transition_once(register: Register) -> None:
    """Two schedulers (two servers' engines) at once, the clock far ahead: each due once."""
    import threading
    from collections import Counter

    from clearance.api import Context
    from clearance.store import run_due

    reg = register
    for n in range(3):
        app_id = file_application(reg, model=f"atlas-{n}")["id"]
        take_case(reg, app_id)
    reg.ok(
        "admin",
        "POST",
        "/directives",
        json={"action": "halt", "model": "atlas-0", "grounds": "g", "urgent": True},
    )
    stores = [reg.data_dir.open_store() for _ in range(2)]
    applied: list[str] = []
    lock = threading.Lock()

    def scheduler(store: object) -> None:
        context = Context(store, reg.clock)  # type: ignore[arg-type]
        found = run_due(context.store, context.framework_of, reg.clock())
        with lock:
            applied.extend(f"{d.kind}:{d.subject}" for d in found)

    try:
        # 400 days ahead: every deadline and the sunset at once; then again, for what the
        # deemed decisions start (appeal windows, validity)
        for _ in range(2):
            reg.clock.advance(days=400)
            threads = [threading.Thread(target=scheduler, args=(s,)) for s in stores]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            scheduler(stores[0])  # and once more, late: nothing left
    finally:
        for store in stores:
            store.engine.dispose()
    counts = Counter(applied)
    assert counts and set(counts.values()) == {1}, counts
    kinds = Counter(a.split(":")[0] for a in applied)
    # the urgent halt lapses once when its hearing is missed (before its sunset)
    assert kinds["deemed_approval"] == 3 and kinds["hearing_missed"] == 1, kinds
    assert kinds["appeal_window_closed"] == 3
    assert len(events_of(reg, "decision.deemed")) == 3
