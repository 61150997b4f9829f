"""Evidence in the store: the bytes, their parsed form, who may read them, who filed them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from clearance.errors import NotFound
from clearance.register import Application, EvidenceGrant, Principal, may_read_evidence
from clearance.store import _tables as t
from clearance.store._store import Transaction

WITHHELD = (
    "The bytes of this file are withheld: they are confidential evidence, readable only by the "
    "authority's reviewers, the organization that filed them, and principals a reviewer named. "
    "Anyone later given them can check them against this digest."
)


@dataclass(frozen=True)
class StoredEvidence:
    """An evidence file as the register keeps it, without its bytes."""

    sha256: str
    name: str
    kind: str
    parsed: dict[str, Any]
    confidential: bool
    organization_id: str | None


def find_evidence(tx: Transaction, sha256: str) -> StoredEvidence | None:
    """The evidence with this digest (its bytes left in the database), or None."""
    e = t.evidence
    row = tx.connection.execute(
        select(
            e.c.sha256, e.c.name, e.c.kind, e.c.parsed, e.c.confidential, e.c.organization_id
        ).where(e.c.sha256 == sha256)
    ).first()
    if row is None:
        return None
    return StoredEvidence(
        sha256=row.sha256,
        name=row.name,
        kind=row.kind,
        parsed=dict(row.parsed),
        confidential=bool(row.confidential),
        organization_id=row.organization_id,
    )


def evidence_bytes(tx: Transaction, sha256: str) -> bytes | None:
    """The evidence file's bytes as uploaded."""
    content = tx.connection.scalar(
        select(t.evidence.c.content).where(t.evidence.c.sha256 == sha256)
    )
    return None if content is None else bytes(content)


def add_evidence(
    tx: Transaction,
    *,
    sha256: str,
    name: str,
    kind: str,
    content: bytes,
    parsed: dict[str, Any],
    confidential: bool,
    uploader: Principal,
    now: dt.datetime,
) -> None:
    """Keep a new evidence file."""
    tx.connection.execute(
        insert(t.evidence).values(
            sha256=sha256,
            name=name,
            kind=kind,
            content=content,
            parsed=parsed,
            uploaded_at=now,
            confidential=confidential,
            organization_id=uploader.organization_id,
            uploaded_by=uploader.id,
        )
    )


def make_confidential(tx: Transaction, sha256: str) -> None:
    """From now on, withhold the bytes (an upload of the same bytes asked for it)."""
    tx.connection.execute(
        update(t.evidence).where(t.evidence.c.sha256 == sha256).values(confidential=True)
    )


def may_read(tx: Transaction, principal: Principal | None, stored: StoredEvidence) -> bool:
    """Whether `principal` may read these bytes (see register.may_read_evidence)."""
    if not stored.confidential:
        return True
    grants = tx.find(EvidenceGrant, sha256=stored.sha256) if principal is not None else []
    owners = [stored.organization_id] if stored.organization_id else []
    return may_read_evidence(principal, confidential=True, owners=owners, grants=grants)


def confidential_digests(tx: Transaction, digests: Iterable[str]) -> set[str]:
    """Those of `digests` whose bytes are withheld."""
    wanted = sorted(set(digests))
    if not wanted:
        return set()
    e = t.evidence
    return set(
        tx.connection.scalars(
            select(e.c.sha256).where(e.c.sha256.in_(wanted), e.c.confidential.is_(True))
        )
    )


def link_application(tx: Transaction, application_id: str, digests: Iterable[str]) -> None:
    """Record which evidence an application filed."""
    rows = [{"application_id": application_id, "sha256": d} for d in sorted(set(digests))]
    if rows:
        tx.connection.execute(insert(t.application_evidence), rows)


def applications_citing(tx: Transaction, sha256: str) -> list[str]:
    """Ids of the applications that filed this evidence, oldest id first."""
    a = t.application_evidence
    return list(
        tx.connection.scalars(
            select(a.c.application_id).where(a.c.sha256 == sha256).order_by(a.c.application_id)
        )
    )


def evidence_summary(tx: Transaction, sha256: str) -> dict[str, Any]:
    """The public summary of one evidence file (the API's answer and the web page's data)."""
    stored = find_evidence(tx, sha256)
    if stored is None:
        raise NotFound(f"no evidence with sha256 {sha256}")
    parsed = stored.parsed
    summary: dict[str, Any] = {
        "sha256": stored.sha256,
        "name": stored.name,
        "kind": stored.kind,
        "type": parsed.get("type"),
        "confidential": stored.confidential,
        "bytes": "withheld" if stored.confidential else "public",
        "statement": WITHHELD if stored.confidential else None,
        "tasks": [parsed["task"]] if stored.kind == "eval" else [],
    }
    if stored.kind == "eval":
        summary |= {
            "source": parsed.get("source"),
            "task_version": parsed.get("task_version"),
            "model": parsed.get("model"),
            "epochs": parsed.get("epochs"),
            "samples": parsed.get("samples"),
            "scores": parsed.get("scores", []),
        }
    elif stored.kind == "findings":
        summary["findings"] = len(parsed.get("findings", []))
    else:
        summary["safeguards"] = [claim["id"] for claim in parsed.get("safeguards", [])]
    summary["assessed"] = _assessed(tx, sha256)
    return summary


def _assessed(tx: Transaction, sha256: str) -> list[dict[str, Any]]:
    """Per application that filed the evidence, the tests and finding rules it entered."""
    ids = applications_citing(tx, sha256)
    found = []
    for application in tx.find(Application, id=tuple(ids)) if ids else []:
        assessment = application.assessment
        tests = [
            {key: test.get(key) for key in _TEST_KEYS}
            for domain in assessment.get("domains", [])
            for test in domain.get("tests", [])
            if test.get("evidence") == sha256
        ]
        findings = [
            {key: effect.get(key) for key in ("finding", "rule", "max_tier")}
            for effect in assessment.get("findings", [])
            if effect.get("evidence") == sha256
        ]
        found.append(
            {
                "application": application.id,
                "framework": assessment.get("framework", {}),
                "tests": tests,
                "findings": findings,
            }
        )
    return found


_TEST_KEYS = (
    "metric",
    "level",
    "threshold",
    "value",
    "lower",
    "upper",
    "interval",
    "outcome",
    "rule",
)
