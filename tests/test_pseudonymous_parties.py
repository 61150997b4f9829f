"""An organization that asked not to be named: its name in no public page, answer or log entry.

The log carries a salted commitment to the name instead; the authority can open it later.
"""

from __future__ import annotations

import base64
import hashlib
import json

import rfc8785

from tests.public_crawl import public_answers
from tests.register_fixtures import Register

NAME = "Quiet Partner"


def statements(reg: Register) -> list[dict[str, object]]:
    size = int(reg.client.get("/log/checkpoint").text.splitlines()[1])
    found = []
    for index in range(size):
        envelope = reg.client.get(f"/log/statements/{index}").json()
        found.append(json.loads(base64.b64decode(envelope["payload"])))
    return found


def act_with_the_quiet_partner(reg: Register) -> None:
    """The partner appears in a restriction, asks for access, is granted it, and files a report."""
    reg.add_principal("quiet", NAME, "partner")
    reg.add_org("Quiet Watch", "reporter", "GB", name_public=False)
    reg.add_principal("quiet-reporter", "Quiet Watch", "reporter")
    body = {"name": "atlas-q", "version": "1", "weights_digest": "b" * 64}
    reg.ok("dev", "POST", "/models", json=body)
    reg.ok(
        "admin",
        "POST",
        "/directives",
        json={
            "action": "restrict",
            "model": "atlas-q",
            "grounds": "Partners only while the cyber evaluation is reviewed.",
            "organizations": ["Agency One", NAME],
            "urgent": True,
        },
    )
    request = reg.ok(
        "quiet", "POST", "/access-requests", json={"model": "atlas-q", "use_case": "cyber-defense"}
    )
    reg.ok(
        "reviewer",
        "POST",
        f"/access-requests/{request['id']}/decision",
        json={"granted": True, "reasons": "A vetted defender."},
    )
    reg.ok(
        "quiet-reporter",
        "POST",
        "/reports",
        json={
            "model": "atlas-q",
            "title": "Jailbreak study",
            "summary": "Narrow jailbreaks reproduce.",
            "conflict_of_interest": "None",
        },
    )


def test_a_withheld_name_appears_in_no_public_answer_page_or_log_entry(
    register: Register,
) -> None:
    reg = register
    act_with_the_quiet_partner(reg)
    answers = public_answers(reg)
    assert "/models/atlas-q" in answers and any(p.startswith("/log/bundle/") for p in answers)
    for name in (NAME, "Quiet Watch"):
        leaked = sorted(path for path, text in answers.items() if name in text)
        assert leaked == [], name
    # what the public sees instead: that a partner is there, unnamed
    assert "an undisclosed organization" in answers["/reports"]
    model_page = answers["/models/atlas-q"]
    assert "Agency One" in model_page and "asked that their name stay private" in model_page


def test_the_log_carries_a_salted_commitment_the_authority_can_open(register: Register) -> None:
    reg = register
    quiet = reg.ids[NAME]
    (created,) = [
        s
        for s in statements(reg)
        if s["predicateType"].endswith("/organization.created/v1")  # type: ignore[union-attr]
        and s["predicate"]["event"]["subject"] == quiet  # type: ignore[index]
    ]
    (record,) = created["predicate"]["records"]  # type: ignore[index]
    assert "name" not in record and record["name_public"] is False
    commitment = record["name_commitment"]
    # the subject digest covers the record as logged, so no guess of the name can be tested
    (subject,) = created["subject"]  # type: ignore[misc]
    assert subject["digest"]["sha256"] == hashlib.sha256(rfc8785.dumps(record)).hexdigest()

    for who in (None, "dev", "reviewer"):
        refused = reg.call(who, "GET", f"/organizations/{quiet}/name-opening")
        assert refused.status_code in (401, 403), who
    opening = reg.ok("admin", "GET", f"/organizations/{quiet}/name-opening")
    assert opening["name"] == NAME and opening["name_commitment"] == commitment
    salt = bytes.fromhex(opening["salt"])
    assert len(salt) == 32
    assert hashlib.sha256(salt + NAME.encode()).hexdigest() == commitment
    # a name that is public has nothing to open
    named = reg.call("admin", "GET", f"/organizations/{reg.ids['Atlas Labs']}/name-opening")
    assert named.status_code == 404


def test_public_names_are_logged_as_before(register: Register) -> None:
    reg = register
    (created,) = [
        s
        for s in statements(reg)
        if s["predicate"]["event"]["subject"] == reg.ids["Atlas Labs"]  # type: ignore[index]
    ]
    (record,) = created["predicate"]["records"]  # type: ignore[index]
    assert record["name"] == "Atlas Labs" and record["name_commitment"] is None


def test_salts_differ_so_equal_names_give_unequal_commitments(register: Register) -> None:
    reg = register
    first = reg.ok("admin", "GET", "/organizations?limit=500")["items"]
    reg.add_org("Quiet Partner Two", "partner", "GB", name_public=False)
    listed = {o["id"]: o for o in reg.ok(None, "GET", "/organizations?limit=500")["items"]}
    assert len(listed) == len(first) + 1
    withheld = [o for o in listed.values() if not o["name_public"]]
    assert len({o["name_commitment"] for o in withheld}) == len(withheld) == 2
    assert all(o["name"] == "(name withheld at the organization's request)" for o in withheld)
