"""Confidential evidence: who may read its bytes, grants of access, and the reads themselves.

The register keeps every evidence file's bytes; a confidential one's bytes are readable only by
the authority's reviewers and administrators (unless they declared a conflict of interest with
the organization that uploaded them), that organization, and the principals a reviewer grants
access to. Everyone else is told no such file exists. Each read of confidential bytes is an
event (who read which digest, never any content).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from clearance.errors import Conflict
from clearance.register._duties import require_role
from clearance.register._events import Change, Event
from clearance.register._records import EvidenceGrant, Principal

READER_ROLES = frozenset({"reviewer", "admin"})
"""Roles of the authority that may read any confidential evidence."""


def may_read_evidence(
    principal: Principal | None,
    *,
    confidential: bool,
    owners: Iterable[str],
    grants: Iterable[EvidenceGrant],
) -> bool:
    """Whether `principal` (None: anonymous) may read an evidence file's bytes.

    `owners` are the organizations that uploaded the bytes; `grants` the file's access grants.
    """
    if not confidential:
        return True
    if principal is None:
        return False
    owned_by = set(owners)
    if principal.organization_id in owned_by:
        return True
    if READER_ROLES & set(principal.roles) and not owned_by & set(principal.conflicts):
        return True
    return any(grant.principal_id == principal.id for grant in grants)


def grant_evidence_access(
    *,
    new_id: str,
    sha256: str,
    confidential: bool,
    grantee: Principal,
    reviewer: Principal,
    reason: str,
    now: dt.datetime,
) -> Change:
    """A reviewer (or administrator) lets one more principal read confidential evidence."""
    require_role(reviewer, "reviewer", "admin")
    if not confidential:
        raise Conflict(f"evidence {sha256[:16]}... is not confidential; anyone may read it")
    return _grant(new_id, sha256, grantee, reviewer, reason, now)


def recognise_holder(*, new_id: str, sha256: str, uploader: Principal, now: dt.datetime) -> Change:
    """Whoever uploads the very bytes of confidential evidence already holds them: they may read
    them back from the register too (recorded as a grant to themselves)."""
    return _grant(new_id, sha256, uploader, uploader, "uploaded the same bytes", now)


def _grant(
    new_id: str,
    sha256: str,
    grantee: Principal,
    grantor: Principal,
    reason: str,
    now: dt.datetime,
) -> Change:
    grant = EvidenceGrant(
        id=new_id,
        sha256=sha256,
        principal_id=grantee.id,
        granted_by=grantor.id,
        granted_at=now,
        reason=reason,
    )
    event = Event(
        kind="evidence.access_granted",
        subject=new_id,
        actor=grantor.id,
        at=now,
        data={"sha256": sha256, "principal": grantee.id},
    )
    return Change((grant,), (event,))


def read_evidence(*, sha256: str, reader: Principal, now: dt.datetime) -> Change:
    """A principal read confidential bytes: the event names the reader and the digest only."""
    event = Event(
        kind="evidence.read",
        subject=sha256,
        actor=reader.id,
        at=now,
        data={"sha256": sha256, "organization": reader.organization_id},
    )
    return Change((), (event,))
