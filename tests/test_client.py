"""The Python client against a running register: every API operation has a method, and every
method is called here, the authorization matrix included."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from clearance.client import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Register,
    RegisterError,
    Unauthorized,
    Unreachable,
)
from clearance.examples import example_path
from clearance.ledger import Bundle
from tests.register_fixtures import Register as Served
from tests.web_fixtures import framework_v11

WEIGHTS = "ab" * 32
FINDINGS = example_path("evidence") / "red-team-findings.json"
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def clients(register: Served) -> Iterator[Callable[[str | None], Register]]:
    """A client per principal of the test register, over its in-process HTTP connection."""
    made: list[Register] = []

    def client(who: str | None) -> Register:
        key = register.keys[who] if who else None
        made.append(Register("http://testserver", key, http=register.client))
        return made[-1]

    yield client
    for c in made:
        c.close()


@SQLITE
def test_every_operation_in_the_openapi_has_a_client_method(register: Served) -> None:
    spec = register.client.get("/openapi.json").json()
    wanted = {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, ops in spec["paths"].items()
        for method in ops
    }
    covered = set(Register("http://x").operations())
    assert wanted - covered == set(), "operations without a client method"


def _calls(register: Served) -> set[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()

    def record(request: httpx.Request) -> None:
        seen.add((request.method, request.url.path))

    register.client.event_hooks["request"].append(record)
    return seen


def _called(spec: dict[str, Any], seen: set[tuple[str, str]]) -> set[tuple[str, str]]:
    missing = set()
    for path, ops in spec["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
        if path == "/log/tile/{path}":
            pattern = re.compile("^/log/tile/.+$")
        for method in ops:
            if not any(m == method.upper() and pattern.match(p) for m, p in seen):
                missing.add((method.upper(), path))
    return missing


@SQLITE
def test_the_client_drives_every_operation(
    register: Served, clients: Callable[[str | None], Register]
) -> None:
    seen = _calls(register)
    admin, dev, reviewer = clients("admin"), clients("dev"), clients("reviewer")
    partner, reporter, public = clients("partner"), clients("reporter"), clients(None)

    atlas = register.ids["Atlas Labs"]
    dev.add_webhook(atlas, "https://hooks.example/atlas")

    # parties: an organization and a principal whose key is shown once
    org = admin.add_organization("Northwind", "developer", "GB")
    assert org.log_index is not None and org.bundle_url == f"/log/bundle/{org.log_index}"
    assert "Northwind" in [o.name for o in public.organizations(page_size=2)]  # pages iterate
    quiet = next(o for o in admin.organizations() if o.id == register.ids["Quiet Partner"])
    assert admin.name_opening(quiet.id)["name"] == "Quiet Partner"
    person = admin.add_principal(org.id, "nw-dev", ["developer"])
    assert person.api_key
    assert Register("http://testserver", person.api_key, http=register.client).me().id == person.id
    # its key rotated (the old one ends at once), listed, then every key revoked
    own = Register("http://testserver", person.api_key, http=register.client)
    rotated = own.rotate_key("me")
    assert rotated["api_key"] and rotated["log_index"] is not None
    with pytest.raises(Unauthorized):
        own.me()
    renewed = Register("http://testserver", rotated["api_key"], http=register.client)
    assert sorted(k["active"] for k in renewed.list_keys()) == [False, True]
    assert admin.revoke_keys(person.id)["revoked"] == 1
    with pytest.raises(Unauthorized):
        renewed.me()

    # a model, evidence cited as sha256:<hex>, an application
    model = dev.add_model("atlas-9", "9.0", f"sha256:{WEIGHTS}")
    assert model.weights_digest == WEIGHTS
    assert public.model("atlas-9").status is not None
    assert public.model_status("atlas-9").status == "unreviewed"
    assert "atlas-9" in [m.name for m in public.models()]
    sent: list[int] = []
    upload = dev.upload_evidence(
        example_path("evidence") / "red-team-findings.json", progress=sent.append
    )
    assert sum(sent) == len(public.evidence_bytes(upload.digest)) > 0
    assert public.evidence_summary(upload.sha256)["sha256"] == upload.sha256
    application = dev.file_application(
        "atlas-9", "public", ["tier-1", "tier-2"], evidence=[upload.digest]
    )
    assert application.log_index is not None
    assert [a.id for a in public.applications(model="atlas-9")] == [application.id]

    # the authority's testing access and its own evidence (its runs are in test_evaluate.py)
    provided = dev.provide_testing_access(application.id, "http://10.0.0.5:8000/v1")
    assert provided.testing_access_missing is False
    with pytest.raises(RegisterError, match="developer's own evidence"):
        reviewer.file_authority_evidence(application.id, [upload.digest])
    with pytest.raises(RegisterError, match=r"no gateway|not a task of"):
        reviewer.run_evaluation(application.id, "no_such_task")

    # the review: take the case, ask, answer, decide
    assert reviewer.assign(application.id).state == "under_review"
    question = reviewer.request_information(application.id, "Send the cyber range results.")
    dev.answer_information(question.id, "Attached.")
    assert public.application(application.id).information_requests[0].response == "Attached."
    decision = reviewer.decide(
        application.id,
        "approved_with_conditions",
        [{"text": "Partners only.", "evidence": [upload.digest]}],
        tiers={"tier-1": "approved_partners"},
        conditions=["Report usage monthly."],
        justification="Vetted partners under monitoring.",
    )
    assert decision.log_index is not None
    (obligation,) = decision.obligations
    assert [o.id for o in public.obligations("atlas-9")] == [obligation.id]
    fulfilled = dev.fulfil(obligation.id, "The June usage report.", [upload.digest])
    assert fulfilled.log_index is not None
    reviewed = reviewer.review_fulfilment(
        obligation.id, fulfilled.fulfilments[-1].id, True, "The report is complete."
    )
    # a condition without a due date is continuing: accepted, it stays in force
    assert reviewed.fulfilments[-1].state == "accepted" and reviewed.state == "open"
    assert public.obligation(obligation.id).fulfilments[-1].state == "accepted"
    assert [d.id for d in public.decisions(model="atlas-9")] == [decision.id]
    assert public.decision(decision.id).id == decision.id

    # the bundle of the decision, by its id or by the index its answer gave
    by_id = Bundle.from_json(public.bundle(decision.id))
    assert by_id.index == decision.log_index
    assert public.bundle(decision.log_index) == public.bundle(str(decision.log_index))
    assert json.loads(public.statement(decision.log_index))["payloadType"]
    assert public.checkpoint().startswith("test.example/log")
    assert public.log_key().startswith("test.example/log+")
    assert public.tile("entries/000.p/1")
    assert json.loads(public.consistency(1))
    assert public.key_rotations() == []

    # an appeal of the decision, its panel, a vote
    appeal = dev.appeal_decision(decision.id, "The tier is too low.")
    for name in ("panelist-2", "panelist-3"):
        register.add_principal(name, "Release Authority", "appeal_panel")
    panel = [register.ids[p] for p in ("panelist", "panelist-2", "panelist-3")]
    admin.appoint_panel(appeal.id, panel)
    clients("panelist").vote(appeal.id, "upheld", "The reasons hold.")
    assert len(public.appeal(appeal.id).votes) == 1

    # confidential evidence, and a grant to read it
    secret = dev.upload_evidence(
        example_path("evidence") / "red-team-findings.json", name="again.json", confidential=True
    )
    assert secret.confidential
    egrant = reviewer.grant_evidence(secret.digest, register.ids["partner"], "Their own use.")
    assert egrant.log_index is not None

    # access: granted, revoked at once (appealed), and one refused at once (appealed)
    asked = partner.request_access("atlas-9", "cyber-defense", jurisdictions=["US"])
    decided = reviewer.decide_access(asked.id, True, "Vetted partner.")
    assert decided.grant is not None and decided.log_index is not None
    assert [g.id for g in partner.grants()] == [decided.grant.id]
    assert public.grant_count("atlas-9")
    revoked = admin.revoke_grant(decided.grant.id, "Misuse reported.", urgent=True)
    assert revoked.grant.state == "revoked"
    admin.close_hearing(revoked.hearing.id, "confirm", [{"text": "The misuse is shown."}])
    partner.appeal_revocation(decided.grant.id, "No misuse took place.")
    again = partner.request_access("atlas-9", "fraud-analysis", jurisdictions=["US"])
    assert again.id in [a.id for a in reviewer.access_requests()]
    refused = reviewer.decide_access(again.id, False, "Not needed.", urgent=True)
    assert refused.hearing is not None
    admin.close_hearing(refused.hearing.id, "confirm", [{"text": "No need is shown."}])
    partner.appeal_refusal(again.id, "It is needed.")

    # an urgent halt, its hearing, an appeal and a renewal
    halt = admin.issue_directive("halt", "atlas-9", "Jailbreak in the wild.", urgent=True)
    assert halt.state == "active" and halt.log_index is not None
    assert [d.id for d in public.directives(model="atlas-9")] == [halt.id]
    assert public.directive(halt.id).id == halt.id
    hearing = admin.hearings(act_id=halt.id)[0]
    assert admin.hearing(hearing.id).id == hearing.id
    submitted = dev.submit(hearing.id, "Patched in 9.0.1.", evidence=[upload.digest])
    submission = submitted.submissions[-1].id
    closed = admin.close_hearing(
        hearing.id, "confirm", [{"text": "The patch is untested.", "answers": [submission]}]
    )
    assert closed.state == "closed"
    dev.appeal_directive(halt.id, "The halt is too broad.")
    register.clock.advance(days=31)
    assert admin.renew_directive(halt.id, "The patch is still untested.").renewals

    # a report, the clock, the events
    report = reporter.file_report("atlas-9", "Jailbreak", "Role play defeats the filter.")
    assert [r.id for r in public.reports(model="atlas-9")] == [report.id]
    assert public.report(report.id).title == "Jailbreak"
    # the authority's testing grants expire on their own clock (test_testing_access.py)
    assert [a for a in admin.run_clock() if not a["subject"].startswith("tst_")] == []
    assert any(e["kind"] == "decision.made" for e in public.events(model="atlas-9"))

    # a withdrawn application
    dev.add_model("atlas-10", "10.0", WEIGHTS.replace("ab", "cd"))
    second = dev.file_application("atlas-10", "public", ["tier-1"], evidence=[upload.sha256])
    assert dev.withdraw(second.id).state == "withdrawn"

    # a framework publication
    published = admin.publish_framework(framework_v11())
    assert published.version == "1.1.0" and published.log_index is not None
    assert public.frameworks()[0]["version"] == "1.1.0"
    assert public.framework(f"sha256:{published.sha256}")["sha256"] == published.sha256
    assert public.framework()["framework"]["version"] == "1.1.0"

    # webhooks
    assert len(dev.webhooks(atlas)) == 1
    messages = dev.webhook_messages(atlas)
    assert messages
    assert dev.redeliver(atlas, messages[0]["id"])["state"] == "pending"

    spec = register.client.get("/openapi.json").json()
    assert _called(spec, seen) == set()


@SQLITE
@pytest.mark.parametrize(
    ("who", "act", "error", "code"),
    [
        (None, lambda r: r.add_model("m", "1", WEIGHTS), Unauthorized, "unauthorized"),
        ("dev", lambda r: r.add_organization("X", "partner", "US"), Forbidden, "forbidden"),
        ("partner", lambda r: r.add_model("m", "1", WEIGHTS), Forbidden, "forbidden"),
        ("reporter", lambda r: r.upload_evidence(FINDINGS), Forbidden, "forbidden"),
        (
            "partner",
            lambda r: r.add_webhook("Atlas Labs", "https://x.example"),
            Forbidden,
            "forbidden",
        ),
        ("dev", lambda r: r.run_clock(), Forbidden, "forbidden"),
        ("dev", lambda r: r.publish_framework("id: x"), Forbidden, "forbidden"),
        ("reviewer", lambda r: r.decision("dec_none"), NotFound, "not_found"),
        ("dev", lambda r: r.file_application("nope", "public", ["tier-1"]), NotFound, "not_found"),
        ("admin", lambda r: r.publish_framework("id: [unclosed"), Invalid, "invalid_input"),
    ],
)
def test_the_authorization_matrix_through_the_client(
    clients: Callable[[str | None], Register],
    who: str | None,
    act: Callable[[Register], Any],
    error: type[RegisterError],
    code: str,
) -> None:
    with pytest.raises(error) as raised:
        act(clients(who))
    assert raised.value.code == code and raised.value.status == raised.value.http_status
    assert raised.value.message


@SQLITE
def test_a_second_withdrawal_is_a_conflict_and_a_wrong_key_unauthorized(
    register: Served, clients: Callable[[str | None], Register]
) -> None:
    dev = clients("dev")
    dev.add_model("atlas-3", "3.0", WEIGHTS)
    application = dev.file_application("atlas-3", "public", ["tier-1"])
    dev.withdraw(application.id)
    with pytest.raises(Conflict):
        dev.withdraw(application.id)
    with pytest.raises(Unauthorized):
        Register("http://testserver", "clr_wrong", http=register.client).me()


def test_a_bad_digest_is_refused_before_any_call() -> None:
    with pytest.raises(ValueError, match="weights_digest"):
        Register("http://127.0.0.1:9").add_model("m", "1", "sha256:xyz")


def test_no_register_at_the_url_is_one_error() -> None:
    with pytest.raises(Unreachable, match="cannot be reached"):
        Register("http://127.0.0.1:9", timeout=2).me()


def test_an_acts_bundle_is_found_by_its_record_id(
    register: Served, clients: Callable[[str | None], Register]
) -> None:
    """On SQLite and PostgreSQL: the act's answer names its entry, and its id finds the same."""
    clients("dev").add_model("atlas-4", "4.0", WEIGHTS)
    halt = clients("admin").issue_directive("halt", "atlas-4", "Exploit chain.", urgent=True)
    public = clients(None)
    assert Bundle.from_json(public.bundle(halt.id)).index == halt.log_index
    statement = json.loads(public.statement(halt.log_index or 0))
    assert statement["payloadType"] == "application/vnd.in-toto+json"
    with pytest.raises(NotFound, match="no entry about"):
        public.bundle("dir_unknown")
