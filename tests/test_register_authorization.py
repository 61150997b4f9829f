"""The authorization matrix: every principal against every write endpoint of the REST API."""

from __future__ import annotations

from typing import Any

from tests.register_fixtures import Register
from tests.test_register_lifecycle import approve_for_partners, file_application

PRINCIPALS = ("admin", "reviewer", "panelist", "dev", "rival", "partner", "reporter")
ANYONE = frozenset(PRINCIPALS)


def scenario(reg: Register) -> dict[str, str]:
    """One record of every kind, each in a state where the allowed principal may act on it."""
    application = file_application(reg)
    ids = {"app": application["id"], "evidence": application["evidence_sha256"]}
    reg.ok("reviewer", "POST", f"/applications/{ids['app']}/assign", json={})
    ids["question"] = reg.ok(
        "reviewer",
        "POST",
        f"/applications/{ids['app']}/information-requests",
        json={"question": "?"},
    )["id"]
    # a second, decided application of another model for the appeal endpoints
    second = file_application(reg, "atlas-3")["id"]
    reg.ok("reviewer", "POST", f"/applications/{second}/assign", json={})
    ids["decision"] = reg.ok(
        "reviewer",
        "POST",
        f"/applications/{second}/decision",
        json={
            "outcome": "denied",
            "reasons": [{"text": "No evidence.", "rules": ["evidence.missing"]}],
        },
    )["id"]
    ids["appeal"] = reg.ok(
        "dev", "POST", f"/decisions/{ids['decision']}/appeals", json={"grounds": "Please."}
    )["id"]
    directive = reg.ok(
        "admin", "POST", "/directives", json={"action": "halt", "model": "atlas-3", "grounds": "g"}
    )
    ids["directive"], ids["hearing"] = directive["id"], directive["hearing_id"]
    # a model approved for partners, for the access endpoints
    approve_for_partners(reg, file_application(reg, "atlas-4"))
    ids["access"] = reg.ok(
        "partner",
        "POST",
        "/access-requests",
        json={"model": "atlas-4", "use_case": "cyber-defense"},
    )["id"]
    other = reg.ok(
        "partner", "POST", "/access-requests", json={"model": "atlas-4", "use_case": "research"}
    )
    ids["grant"] = reg.ok(
        "admin",
        "POST",
        f"/access-requests/{other['id']}/decision",
        json={"granted": True, "reasons": "ok"},
    )["grant"]["id"]
    return ids


def endpoints(
    reg: Register, ids: dict[str, str]
) -> list[tuple[str, str, dict[str, Any], frozenset[str]]]:
    """(method, path, request arguments, principals allowed) for every write endpoint."""
    org = reg.ids["Atlas Labs"]
    return [
        ("POST", "/organizations", {"json": {"name": "New", "kind": "partner", "jurisdiction": "FR"}}, frozenset({"admin"})),
        ("POST", "/principals", {"json": {"organization_id": org, "name": "n", "roles": ["developer"]}}, frozenset({"admin"})),
        ("POST", "/models", {"json": {"name": "m-new", "version": "1", "weights_digest": "cd" * 32}}, frozenset({"dev", "rival"})),
        ("POST", "/frameworks", {"content": b"id: x\n"}, frozenset({"admin"})),
        ("POST", "/evidence?name=f.json", {"content": b"{}"}, frozenset({"admin", "reviewer", "dev", "rival"})),
        ("POST", f"/evidence/{ids['evidence']}/grants", {"json": {"principal_id": reg.ids["partner"], "reason": "r"}}, frozenset({"admin", "reviewer"})),
        ("POST", "/applications", {"json": {"model": "atlas-2", "requested_tier": "public", "requested_jurisdictions": ["tier-1"]}}, frozenset({"dev"})),
        ("POST", f"/applications/{ids['app']}/assign", {"json": {"reviewer_id": reg.ids["reviewer"]}}, frozenset({"admin", "reviewer"})),
        ("POST", f"/applications/{ids['app']}/information-requests", {"json": {"question": "?"}}, frozenset({"reviewer"})),
        ("POST", f"/information-requests/{ids['question']}/answer", {"json": {"response": "r"}}, frozenset({"dev"})),
        ("POST", f"/applications/{ids['app']}/withdraw", {}, frozenset({"dev"})),
        ("POST", f"/applications/{ids['app']}/decision", {"json": {"outcome": "denied", "reasons": [{"text": "t", "rules": ["evidence.missing"]}]}}, frozenset({"reviewer"})),
        ("POST", f"/decisions/{ids['decision']}/appeals", {"json": {"grounds": "g"}}, frozenset({"dev"})),
        ("POST", f"/appeals/{ids['appeal']}/panel", {"json": {"members": [reg.ids["panelist"]]}}, frozenset({"admin"})),
        ("POST", f"/appeals/{ids['appeal']}/votes", {"json": {"vote": "upheld", "text": "t"}}, frozenset({"panelist"})),
        ("POST", f"/hearings/{ids['hearing']}/submissions", {"json": {"text": "We object."}}, frozenset({"dev"})),
        ("POST", f"/hearings/{ids['hearing']}/outcome", {"json": {"outcome": "confirm", "reasons": [{"text": "t"}]}}, frozenset({"admin"})),
        ("POST", f"/directives/{ids['directive']}/appeals", {"json": {"grounds": "g"}}, frozenset({"dev"})),
        ("POST", f"/access-requests/{ids['access']}/appeals", {"json": {"grounds": "g"}}, frozenset({"partner"})),
        ("POST", f"/grants/{ids['grant']}/appeals", {"json": {"grounds": "g"}}, frozenset({"partner"})),
        ("POST", f"/organizations/{org}/webhooks", {"json": {"url": "http://127.0.0.1:9/hook"}}, frozenset({"admin", "dev"})),
        ("POST", f"/organizations/{org}/webhooks/messages/msg_x/redeliver", {}, frozenset({"admin", "dev"})),
        ("POST", "/directives", {"json": {"action": "halt", "model": "atlas-2", "grounds": "g"}}, frozenset({"admin"})),
        ("POST", f"/directives/{ids['directive']}/renew", {"json": {"grounds": "new"}}, frozenset({"admin"})),
        ("POST", "/access-requests", {"json": {"model": "atlas-2", "use_case": "research"}}, ANYONE),
        ("POST", f"/access-requests/{ids['access']}/decision", {"json": {"granted": False, "reasons": "no"}}, frozenset({"admin", "reviewer"})),
        ("POST", f"/grants/{ids['grant']}/revoke", {"json": {"grounds": "g"}}, frozenset({"admin"})),
        ("POST", "/reports", {"json": {"model": "atlas-2", "title": "t", "summary": "s", "conflict_of_interest": "None"}}, ANYONE),
        ("POST", "/clock/run", {}, frozenset({"admin"})),
    ]  # fmt: skip


def test_authorization_matrix(register: Register) -> None:
    reg = register
    ids = scenario(reg)
    failures: list[str] = []
    for method, path, arguments, allowed in endpoints(reg, ids):
        before = reg.event_count()
        anonymous = reg.call(None, method, path, **arguments)
        if anonymous.status_code != 401:
            failures.append(f"{path} without a key: {anonymous.status_code}")
        wrong = reg.call(
            None,
            method,
            path,
            headers={"Authorization": "Bearer clr_0000000000000000_x"},
            **arguments,
        )
        if wrong.status_code != 401:
            failures.append(f"{path} with a wrong key: {wrong.status_code}")
        for who in sorted(ANYONE - allowed):
            response = reg.call(who, method, path, **arguments)
            if response.status_code != 403:
                failures.append(f"{path} as {who}: {response.status_code} {response.text[:120]}")
            elif response.json()["error"]["code"] != "forbidden":
                failures.append(f"{path} as {who}: wrong error shape {response.text[:120]}")
        if reg.event_count() != before:
            failures.append(f"{path}: a refused call wrote events")
    assert not failures, "\n".join(failures)


def test_allowed_principals_are_not_refused_by_role(register: Register) -> None:
    """The other half of the matrix: each allowed principal gets past authorization."""
    reg = register
    ids = scenario(reg)
    for method, path, arguments, allowed in endpoints(reg, ids):
        who = sorted(allowed)[0]
        response = reg.call(who, method, path, **arguments)
        assert response.status_code not in (401, 403), f"{path} as {who}: {response.text}"
