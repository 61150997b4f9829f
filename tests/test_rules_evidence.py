"""Confidential evidence: who may read its bytes, the grants of access, and the reads logged.

The acts are pure functions (issue 16), checked with records built in memory: anyone reads
public evidence; confidential bytes are read only by the organizations that uploaded them, the
authority's reviewers and administrators with no declared conflict with an uploader, and the
principals a reviewer granted; an anonymous caller, an appeal panel member, another developer
or a partner without a grant are refused. A grant is a reviewer's or an administrator's act,
only on confidential evidence; a read is logged with the reader and the digest, nothing else.
"""

from __future__ import annotations

import pytest

from clearance.errors import Conflict, Forbidden
from clearance.register._events import Change, Event
from clearance.register._evidence import (
    READER_ROLES,
    grant_evidence_access,
    may_read_evidence,
    read_evidence,
    recognise_holder,
)
from clearance.register._records import EvidenceGrant, Principal
from tests.rules_data import ADMIN, DEVELOPER, NOW, PARTNER, REVIEWER, principal

DIGEST = "d" * 64
PANEL = principal("prn_panel", "Pat Panel", "appeal_panel")
RIVAL = principal("prn_rival", "Rob Rival", "developer", organization_id="org_rival")


def evidence_grant(principal_id: str) -> EvidenceGrant:
    return EvidenceGrant(
        id="egr_1", sha256=DIGEST, principal_id=principal_id, granted_by="prn_rev",
        granted_at=NOW, reason="The partner tests the same model.",
    )  # fmt: skip


def may_read(
    principal: Principal | None,
    confidential: bool = True,
    owners: tuple[str, ...] = ("org_dev",),
    grants: tuple[EvidenceGrant, ...] = (),
) -> bool:
    return may_read_evidence(principal, confidential=confidential, owners=owners, grants=grants)


# --- who reads -------------------------------------------------------------------------------


def test_anyone_reads_evidence_that_is_not_confidential() -> None:
    assert may_read(None, confidential=False)
    assert may_read(PARTNER, confidential=False)


def test_nobody_anonymous_reads_confidential_evidence() -> None:
    assert not may_read(None)
    assert not may_read(None, grants=(evidence_grant("prn_bank"),))


def test_the_uploading_organization_reads_its_own_confidential_evidence() -> None:
    assert may_read(DEVELOPER)
    assert may_read(DEVELOPER, owners=("org_other", "org_dev"))


def test_another_developer_or_a_partner_without_a_grant_may_not_read() -> None:
    assert not may_read(RIVAL)
    assert not may_read(PARTNER)
    assert not may_read(PARTNER, grants=(evidence_grant("prn_rival"),))


def test_a_granted_principal_reads() -> None:
    grants = (evidence_grant("prn_rival"), evidence_grant("prn_bank"))
    assert may_read(PARTNER, grants=grants)
    assert may_read(RIVAL, grants=grants)


def test_the_authoritys_reviewers_and_administrators_read_confidential_evidence() -> None:
    assert frozenset({"reviewer", "admin"}) == READER_ROLES
    assert may_read(REVIEWER)
    assert may_read(ADMIN)


def test_an_appeal_panel_member_reads_only_with_a_grant() -> None:
    assert not may_read(PANEL)
    assert may_read(PANEL, grants=(evidence_grant("prn_panel"),))


def test_a_reviewer_with_a_declared_conflict_may_not_read_the_uploaders_evidence() -> None:
    conflicted = REVIEWER.model_copy(update={"conflicts": ("org_dev",)})
    assert not may_read(conflicted)
    assert not may_read(conflicted, owners=("org_other", "org_dev"))
    assert may_read(conflicted, owners=("org_other",))
    assert may_read(conflicted, grants=(evidence_grant("prn_rev"),))


# --- grants and reads ------------------------------------------------------------------------


def test_a_reviewer_grants_a_principal_access_to_confidential_evidence() -> None:
    change = grant_evidence_access(
        new_id="egr_1", sha256=DIGEST, confidential=True, grantee=PARTNER, reviewer=REVIEWER,
        reason="The partner tests the same model.", now=NOW,
    )  # fmt: skip
    assert change == Change(
        (evidence_grant("prn_bank"),),
        (
            Event(
                kind="evidence.access_granted",
                subject="egr_1",
                actor="prn_rev",
                at=NOW,
                data={"sha256": DIGEST, "principal": "prn_bank"},
            ),
        ),
    )


def test_an_administrator_grants_access_too() -> None:
    change = grant_evidence_access(
        new_id="egr_1", sha256=DIGEST, confidential=True, grantee=PARTNER, reviewer=ADMIN,
        reason="Audit.", now=NOW,
    )  # fmt: skip
    assert [g.granted_by for g in change.records] == ["prn_admin"]  # type: ignore[attr-defined]
    assert change.events[0].actor == "prn_admin"


@pytest.mark.parametrize("principal", [PANEL, DEVELOPER, PARTNER])
def test_only_a_reviewer_or_an_administrator_grants_access(principal: Principal) -> None:
    with pytest.raises(Forbidden) as caught:
        grant_evidence_access(
            new_id="egr_1", sha256=DIGEST, confidential=True, grantee=RIVAL, reviewer=principal,
            reason="Because.", now=NOW,
        )  # fmt: skip
    assert caught.value.message == (
        f"this needs the reviewer or admin role; {principal.name} has {principal.roles[0]}"
    )


def test_no_grant_on_evidence_that_is_not_confidential() -> None:
    with pytest.raises(Conflict) as caught:
        grant_evidence_access(
            new_id="egr_1", sha256=DIGEST, confidential=False, grantee=PARTNER,
            reviewer=REVIEWER, reason="Because.", now=NOW,
        )  # fmt: skip
    assert caught.value.message == (
        "evidence dddddddddddddddd... is not confidential; anyone may read it"
    )


def test_whoever_uploads_the_same_bytes_holds_them_and_may_read_them_back() -> None:
    change = recognise_holder(new_id="egr_2", sha256=DIGEST, uploader=RIVAL, now=NOW)
    assert change == Change(
        (
            EvidenceGrant(
                id="egr_2",
                sha256=DIGEST,
                principal_id="prn_rival",
                granted_by="prn_rival",
                granted_at=NOW,
                reason="uploaded the same bytes",
            ),
        ),
        (
            Event(
                kind="evidence.access_granted",
                subject="egr_2",
                actor="prn_rival",
                at=NOW,
                data={"sha256": DIGEST, "principal": "prn_rival"},
            ),
        ),
    )


def test_a_read_is_logged_with_the_reader_and_the_digest_only() -> None:
    assert read_evidence(sha256=DIGEST, reader=PARTNER, now=NOW) == Change(
        (),
        (
            Event(
                kind="evidence.read",
                subject=DIGEST,
                actor="prn_bank",
                at=NOW,
                data={"sha256": DIGEST, "organization": "org_bank"},
            ),
        ),
    )
