"""Confidential evidence: bytes for those entitled only, each read an event, the summary public.

The transcript inside the uploaded Inspect log carries a marker; the marker is in the bytes the
entitled read back, and in nothing the public can fetch: no page, no API answer, no log entry.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clearance.examples import example_path
from tests.inspect_logs import make_inspect_log
from tests.public_crawl import public_answers
from tests.register_fixtures import Register

MARKER = "MARKER-7f3a9c-do-not-publish"


@pytest.fixture(scope="module")
def transcript(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real Inspect log (JSON, so the transcript is plain text in its bytes) with the marker."""
    folder = tmp_path_factory.mktemp("confidential")
    path = make_inspect_log(
        folder,
        task_name="ctf_professional",
        samples=20,
        correct=5,
        epochs=2,
        reducers=["at_least_1"],
        fmt="json",
        question=f"{MARKER} what is the flag?",
    )
    data = path.read_bytes()
    assert MARKER.encode() in data
    return data


def upload(reg: Register, who: str, data: bytes, name: str, query: str = "") -> dict[str, object]:
    return reg.ok(who, "POST", f"/evidence?name={name}{query}", content=data)  # type: ignore[no-any-return]


def read(reg: Register, who: str | None, sha256: str) -> int:
    return int(reg.call(who, "GET", f"/evidence/{sha256}").status_code)


def events(reg: Register, kind: str) -> list[dict[str, object]]:
    return [e for e in reg.ok(None, "GET", "/events?limit=500")["items"] if e["kind"] == kind]


def test_confidential_bytes_go_only_to_those_entitled(
    register: Register, transcript: bytes
) -> None:
    reg = register
    reg.add_principal("quiet", "Quiet Partner", "partner")
    sha = str(upload(reg, "dev", transcript, "ctf.json", "&confidential=true")["sha256"])
    missing = reg.call(None, "GET", f"/evidence/{'0' * 64}")
    # "conflicted" is a reviewer who declared a conflict of interest with the developer
    for who in (None, "rival", "partner", "reporter", "quiet", "conflicted"):
        answer = reg.call(who, "GET", f"/evidence/{sha}")
        assert answer.status_code == 404, who
        # told exactly what a digest never uploaded is told
        assert answer.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"
        assert MARKER not in answer.text
    for who in ("dev", "reviewer", "admin"):
        answer = reg.call(who, "GET", f"/evidence/{sha}")
        assert answer.status_code == 200, who
        assert answer.content == transcript
        assert answer.headers["cache-control"] == "private, no-store"
    reg.ids["admin"] = reg.ok("admin", "GET", "/principals/me")["id"]
    reads = events(reg, "evidence.read")
    assert [(e["actor"], e["subject"]) for e in reads] == [
        (reg.ids[who], sha) for who in ("dev", "reviewer", "admin")
    ]
    assert all(MARKER not in str(e) for e in reads)

    # a reviewer names one more reader; a developer cannot
    grant = {"principal_id": reg.ids["quiet"], "reason": "Independent replication."}
    assert reg.call("rival", "POST", f"/evidence/{sha}/grants", json=grant).status_code == 403
    assert reg.call("dev", "POST", f"/evidence/{sha}/grants", json=grant).status_code == 403
    made = reg.ok("reviewer", "POST", f"/evidence/{sha}/grants", json=grant)
    assert (made["sha256"], made["granted_by"]) == (sha, reg.ids["reviewer"])
    assert read(reg, "quiet", sha) == 200
    assert read(reg, "partner", sha) == 404
    (granted,) = events(reg, "evidence.access_granted")
    assert granted["data"] == {"sha256": sha, "principal": reg.ids["quiet"]}


def test_the_summary_is_public_and_says_the_bytes_are_withheld(
    register: Register, transcript: bytes
) -> None:
    reg = register
    sha = str(upload(reg, "dev", transcript, "ctf.json", "&confidential=true")["sha256"])
    summary = reg.ok(None, "GET", f"/evidence/{sha}/summary")
    assert summary["sha256"] == sha
    assert (summary["kind"], summary["type"], summary["tasks"]) == (
        "eval",
        "EvalRun",
        ["ctf_professional"],
    )
    assert summary["confidential"] is True and summary["bytes"] == "withheld"
    assert "withheld" in summary["statement"] and "digest" in summary["statement"]
    (score,) = summary["scores"]
    assert (score["value"], score["samples"], score["successes"]) == (0.25, 20, 5)
    assert MARKER not in str(summary)
    # public evidence says so too
    public = upload(reg, "dev", (example_path("evidence") / "bio_protocols.eval").read_bytes(), "b")
    shown = reg.ok(None, "GET", f"/evidence/{public['sha256']}/summary")
    assert (shown["confidential"], shown["bytes"], shown["statement"]) == (False, "public", None)
    assert read(reg, None, str(public["sha256"])) == 200
    assert events(reg, "evidence.read") == []  # public reads are not recorded


def test_another_organization_cannot_file_confidential_evidence_it_cannot_read(
    register: Register, transcript: bytes
) -> None:
    reg = register
    sha = str(upload(reg, "dev", transcript, "ctf.json", "&confidential=true")["sha256"])
    reg.ok(
        "rival",
        "POST",
        "/models",
        json={"name": "rival-x", "version": "1", "weights_digest": "e" * 64},
    )
    body = {
        "model": "rival-x",
        "requested_tier": "internal",
        "requested_jurisdictions": ["tier-1"],
        "evidence": [sha],
    }
    refused = reg.call("rival", "POST", "/applications", json=body)
    assert refused.status_code == 422
    assert "not uploaded" in refused.json()["error"]["message"]


def test_uploading_the_same_bytes_shows_possession_and_confidential_is_sticky(
    register: Register,
) -> None:
    reg = register
    public = (example_path("evidence") / "cyber_range.eval").read_bytes()
    first = upload(reg, "dev", public, "range.eval")
    sha = str(first["sha256"])
    assert first["confidential"] is False and read(reg, None, sha) == 200
    # another organization holding the very bytes asks for them to be withheld from now on
    again = upload(reg, "rival", public, "range.eval", "&confidential=true")
    assert again["confidential"] is True
    assert read(reg, None, sha) == 404 and read(reg, "partner", sha) == 404
    assert read(reg, "dev", sha) == 200  # the organization that filed them first
    assert read(reg, "rival", sha) == 200  # and the one that showed it holds them
    (held,) = events(reg, "evidence.access_granted")
    assert (held["actor"], held["data"]) == (
        reg.ids["rival"],
        {"sha256": sha, "principal": reg.ids["rival"]},
    )
    # asking for public bytes does not lift it
    assert upload(reg, "dev", public, "range.eval", "&confidential=false")["confidential"] is True
    assert read(reg, None, sha) == 404


def test_the_framework_makes_a_domains_evidence_confidential_by_default(
    register: Register,
) -> None:
    reg = register
    data = yaml.safe_load(example_path().read_text())
    data["version"] = "1.0.1"
    for domain in data["domains"]:
        domain["confidential_evidence"] = domain["id"] == "cyber"
    reg.ok("admin", "POST", "/frameworks", content=yaml.safe_dump(data).encode())
    evidence = example_path("evidence")
    cyber = upload(reg, "dev", (evidence / "ctf_professional.eval").read_bytes(), "ctf.eval")
    cbrn = upload(reg, "dev", (evidence / "bio_protocols.eval").read_bytes(), "bio.eval")
    assert (cyber["confidential"], cbrn["confidential"]) == (True, False)
    assert read(reg, None, str(cyber["sha256"])) == 404
    assert read(reg, None, str(cbrn["sha256"])) == 200
    # the upload can still say otherwise
    chosen = upload(
        reg, "dev", (evidence / "cyber_range.eval").read_bytes(), "r", "&confidential=false"
    )
    assert chosen["confidential"] is False


def test_without_the_default_evidence_is_public(register: Register) -> None:
    evidence = example_path("evidence") / "ctf_professional.eval"
    made = upload(register, "dev", evidence.read_bytes(), "ctf.eval")
    assert made["confidential"] is False


def test_the_marker_never_reaches_a_page_an_answer_or_the_log(
    register: Register, transcript: bytes, tmp_path: Path
) -> None:
    reg = register
    reg.ok(
        "dev",
        "POST",
        "/models",
        json={"name": "atlas-3", "version": "3", "weights_digest": "a" * 64},
    )
    sha = str(upload(reg, "dev", transcript, "transcripts.json", "&confidential=true")["sha256"])
    application = reg.ok(
        "dev",
        "POST",
        "/applications",
        json={
            "model": "atlas-3",
            "requested_tier": "approved_partners",
            "requested_jurisdictions": ["tier-1"],
            "evidence": [sha],
        },
    )
    ctf = next(
        t for d in application["assessment"]["domains"] for t in d["tests"] if t["evidence"] == sha
    )
    reg.ok("reviewer", "POST", f"/applications/{application['id']}/assign", json={})
    decision = reg.ok(
        "reviewer",
        "POST",
        f"/applications/{application['id']}/decision",
        json={
            "outcome": "approved",
            "tier": "approved_partners",
            "jurisdictions": ["tier-1"],
            "reasons": [{"text": "Partners only.", "rules": [ctf["rule"]], "evidence": [sha]}],
            "justification": "Held to partners while the transcripts are reviewed.",
        },
    )
    assert read(reg, "reviewer", sha) == 200  # a logged read, too
    answers = public_answers(reg)
    assert f"/evidence/{sha}" in answers and f"/decisions/{decision['id']}" in answers
    # the crawl reads inside the log's signed statements (base64 payloads): the digest is there
    assert any(sha in text for path, text in answers.items() if path.startswith("/log/statements/"))
    leaked = sorted(path for path, text in answers.items() if MARKER in text)
    assert leaked == []
    # what the public does see: the digest, the type, the task, the values the assessor used
    page = answers[f"/evidence/{sha}"]
    assert sha in page and "ctf_professional" in page and "Withheld." in page
    assert f"[{ctf['lower']:.3f}, {ctf['upper']:.3f}]" in page
    summary = reg.ok(None, "GET", f"/evidence/{sha}/summary")
    (used,) = summary["assessed"]
    assert used["application"] == application["id"]
    assert {(t["metric"], t["value"], t["lower"], t["upper"]) for t in used["tests"]} == {
        (t["metric"], t["value"], t["lower"], t["upper"])
        for d in application["assessment"]["domains"]
        for t in d["tests"]
        if t["evidence"] == sha
    }
    decision_page = answers[f"/decisions/{decision['id']}"]
    assert f'href="/evidence/{sha}"' in decision_page and "bytes withheld" in decision_page
