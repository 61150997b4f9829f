"""Hearings' rules: who is heard, until when, and what an outcome must answer (issue 16).

The acts are pure functions: each test builds the records in memory and checks the refusal whole
(its type and its sentence) or the Change whole. Boundaries: a submission or an outcome a second
before the hearing's date and at that very second; a hearing that lapses at its date and not a
second before.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from clearance.errors import Conflict, Forbidden, InvalidInput
from clearance.register import Hearing, HearingReason, file_submission, open_hearing
from clearance.register._events import SCHEDULER, Change
from clearance.register._hearings import check_closing, closed, lapsed
from clearance.register._records import Limits, Scope, Submission
from tests import rules_data
from tests.framework_data import load, small
from tests.rules_data import ADMIN, DAY, DEVELOPER, NOW, REVIEWER, SECOND

# a hearing date unlike any other clock of the procedure, so that one read for another shows
FRAMEWORK = load(small(procedure={"hearing_within_days": 9, "appeal_window_days": 21}))
DIGEST = "e" * 64
PARTNER = rules_data.principal("prn_bank", "Pat Partner", "partner", organization_id="org_bank")
SUBMISSION = Submission(
    id="sub_1", text="The halt rests on a run we withdrew.", evidence=(DIGEST,),
    filed_by=DEVELOPER.id, filed_at=NOW - DAY,
)  # fmt: skip
hearing = partial(
    rules_data.hearing, organization_ids=("org_bank", "org_dev"),
    grounds="The model helps with c2 tasks in the field.", opened_by=ADMIN.id,
    opened_at=NOW - 8 * DAY, hold_by=NOW + SECOND, submissions=(SUBMISSION,),
)  # fmt: skip


def submit(**kw: Any) -> Change:
    args: dict[str, Any] = {
        "new_id": "sub_2",
        "hearing": hearing(),
        "principal": PARTNER,
        "text": "Our fraud screening depends on this model.",
        "evidence": (DIGEST,),
        "now": NOW,
    }
    args.update(kw)
    return file_submission(**args)


def check(**kw: Any) -> None:
    args: dict[str, Any] = {
        "hearing": hearing(),
        "closer": ADMIN,
        "outcome": "confirm",
        "reasons": (HearingReason(text="The run was not withdrawn.", answers=("sub_1",)),),
        "scope": None,
        "limits": None,
        "now": NOW,
    }
    args.update(kw)
    check_closing(**args)


# --- opening ---------------------------------------------------------------------------------


def test_a_hearing_opens_before_the_act_and_must_be_held_within_the_framework_s_days() -> None:
    change = open_hearing(
        new_id="hrg_1", act="directive", act_id="dir_1", model_id="mdl_1",
        organization_ids=("org_dev", "org_bank", "org_dev"), grounds="The model helps with c2.",
        urgent=False, opener=ADMIN, framework=FRAMEWORK, now=NOW,
    )  # fmt: skip
    assert change.records == (
        Hearing(
            id="hrg_1", act="directive", act_id="dir_1", model_id="mdl_1",
            organization_ids=("org_bank", "org_dev"), grounds="The model helps with c2.",
            urgent=False, opened_by=ADMIN.id, opened_at=NOW, hold_by=NOW + 9 * DAY,
        ),
    )  # fmt: skip
    [event] = change.events
    assert event.model_dump() == {
        "kind": "hearing.opened",
        "subject": "hrg_1",
        "model_id": "mdl_1",
        "actor": ADMIN.id,
        "at": NOW,
        "data": {
            "act": "directive",
            "act_id": "dir_1",
            "urgent": False,
            "timing": "before the act",
            "hold_by": (NOW + 9 * DAY).isoformat(),
            "organizations": ["org_bank", "org_dev"],
        },
    }


def test_an_urgent_act_is_heard_after_it_and_the_scheduler_may_open_the_hearing() -> None:
    change = open_hearing(
        new_id="hrg_2", act="grant_revocation", act_id="grt_1", model_id="mdl_1",
        organization_ids=("org_bank",), grounds="The obligation was breached.", urgent=True,
        opener=SCHEDULER, framework=FRAMEWORK, now=NOW,
    )  # fmt: skip
    [record] = change.records
    assert (record.opened_by, record.urgent) == (SCHEDULER, True)  # type: ignore[attr-defined]
    [event] = change.events
    assert (event.actor, event.data["urgent"], event.data["timing"]) == (
        SCHEDULER,
        True,
        "after the act",
    )


# --- submissions -----------------------------------------------------------------------------


def test_an_affected_organization_files_a_submission_while_the_hearing_is_open() -> None:
    change = submit()
    filed = Submission(
        id="sub_2", text="Our fraud screening depends on this model.", evidence=(DIGEST,),
        filed_by=PARTNER.id, filed_at=NOW,
    )  # fmt: skip
    assert change.records == (hearing(submissions=(SUBMISSION, filed)),)
    [event] = change.events
    assert event.model_dump() == {
        "kind": "hearing.submission",
        "subject": "hrg_1",
        "model_id": "mdl_1",
        "actor": PARTNER.id,
        "at": NOW,
        "data": {"submission": "sub_2", "evidence": [DIGEST]},
    }


def test_only_an_organization_the_act_affects_makes_submissions() -> None:
    rival = DEVELOPER.model_copy(update={"organization_id": "org_rival"})
    for outsider in (rival, ADMIN):
        with pytest.raises(Forbidden) as error:
            submit(principal=outsider)
        assert str(error.value) == (
            "only the organization the act affects may make submissions at hearing hrg_1"
        )


def test_a_closed_or_lapsed_hearing_takes_no_more_submissions() -> None:
    for state in ("closed", "lapsed"):
        with pytest.raises(Conflict) as error:
            submit(hearing=hearing(state=state), now=NOW - DAY)
        assert str(error.value) == f"hearing hrg_1 is {state}; it takes no more submissions"


def test_a_submission_at_the_hearing_s_date_is_refused_and_a_second_before_accepted() -> None:
    with pytest.raises(Conflict) as error:
        submit(now=NOW + SECOND)
    assert str(error.value) == (
        "hearing hrg_1 was to be held by 2026-09-01T12:00:01+00:00; it takes no more submissions"
    )
    assert submit(now=NOW).records[0].submissions[-1].filed_at == NOW  # type: ignore[attr-defined]


# --- closing ---------------------------------------------------------------------------------


def test_an_admin_closes_a_hearing_on_a_directive_or_revocation_and_a_reviewer_may_not() -> None:
    check()
    check(hearing=hearing(act="grant_revocation"))
    for act in ("directive", "grant_revocation"):
        with pytest.raises(Forbidden) as error:
            check(hearing=hearing(act=act), closer=REVIEWER)
        assert str(error.value) == "this needs the admin role; Rita Reviewer has reviewer"


def test_a_reviewer_or_an_admin_closes_a_hearing_on_an_access_refusal() -> None:
    check(hearing=hearing(act="access_refusal"), closer=REVIEWER)
    check(hearing=hearing(act="access_refusal"), closer=ADMIN)
    with pytest.raises(Forbidden) as error:
        check(hearing=hearing(act="access_refusal"), closer=DEVELOPER)
    assert str(error.value) == "this needs the admin or reviewer role; Dana Dev has developer"


def test_nobody_closes_a_hearing_of_their_own_organization_or_one_they_are_conflicted_with() -> (
    None
):
    own = ADMIN.model_copy(update={"organization_id": "org_dev"})
    with pytest.raises(Forbidden) as error:
        check(closer=own)
    assert str(error.value) == (
        "Ada Admin may not act on hearing hrg_1: it is their own organization's"
    )
    # the second organization affected counts as much as the first
    conflicted = ADMIN.model_copy(update={"conflicts": ("org_dev",)})
    with pytest.raises(Forbidden) as conflict:
        check(closer=conflicted)
    assert str(conflict.value) == (
        "Ada Admin declared a conflict of interest with the organization behind hearing hrg_1"
    )


def test_a_hearing_closes_once() -> None:
    for state in ("closed", "lapsed"):
        with pytest.raises(Conflict) as error:
            check(hearing=hearing(state=state), now=NOW - DAY)
        assert str(error.value) == f"hearing hrg_1 is already {state}"


def test_an_outcome_after_the_hearing_s_date_is_refused_and_the_act_lapses() -> None:
    with pytest.raises(Conflict) as error:
        check(now=NOW + SECOND)
    assert str(error.value) == (
        "hearing hrg_1 was to be held by 2026-09-01T12:00:01+00:00; the date passed with no "
        "outcome, so the act lapses"
    )


def test_an_outcome_needs_reasons_answering_every_submission() -> None:
    with pytest.raises(InvalidInput) as none:
        check(reasons=())
    assert str(none.value) == "reasons: an outcome needs reasons"
    second = Submission(id="sub_2", text="We depend on it.", filed_by=PARTNER.id, filed_at=NOW)
    third = second.model_copy(update={"id": "sub_3"})
    with pytest.raises(InvalidInput) as unanswered:
        check(hearing=hearing(submissions=(third, SUBMISSION, second)))
    assert str(unanswered.value) == (
        "reasons: the outcome must answer every submission; sub_2, sub_3 is not answered"
    )
    # every submission answered, across several reasons
    check(
        hearing=hearing(submissions=(third, SUBMISSION, second)),
        reasons=(
            HearingReason(text="The run stands.", answers=("sub_1", "sub_3")),
            HearingReason(text="Dependence is no ground.", answers=("sub_2",)),
        ),
    )
    # a hearing with no submissions still needs a reason, answering nothing
    check(hearing=hearing(submissions=()), reasons=(HearingReason(text="No submission."),))


def test_a_reason_answering_what_was_never_submitted_is_refused() -> None:
    with pytest.raises(InvalidInput) as error:
        check(
            reasons=(
                HearingReason(text="The run stands.", answers=("sub_1",)),
                HearingReason(text="Invented.", answers=("sub_9", "sub_1", "sub_8")),
            )
        )
    assert str(error.value) == (
        "reasons[1].answers: sub_8, sub_9 is not a submission of hearing hrg_1"
    )


def test_a_modified_act_needs_its_new_scope_or_limits_and_only_a_modified_act_takes_one() -> None:
    for scope, limits in ((None, None), (Scope(), None)):
        with pytest.raises(InvalidInput) as error:
            check(outcome="modify", scope=scope, limits=limits)
        assert str(error.value) == (
            "scope: a modified act needs the new scope (or limits) it is to have"
        )
    check(outcome="modify", scope=Scope(jurisdictions=("DE",)))
    check(outcome="modify", limits=Limits(requests_per_minute=10))
    check(outcome="modify", scope=Scope(), limits=Limits(requests_per_minute=10))
    for outcome in ("confirm", "revoke"):
        wrong_args: tuple[tuple[Scope | None, Limits | None], ...] = (
            (Scope(), None),
            (None, Limits(requests_per_minute=10)),
        )
        for wrong_scope, wrong_limits in wrong_args:
            with pytest.raises(InvalidInput) as wrong:
                check(outcome=outcome, scope=wrong_scope, limits=wrong_limits)
            assert str(wrong.value) == (
                "scope: only an outcome that modifies the act takes a new scope"
            )
        check(outcome=outcome)


def test_a_closed_hearing_records_its_outcome_reasons_and_result() -> None:
    reasons = (HearingReason(text="Narrowed to Germany.", answers=("sub_1",)),)
    scope, limits = Scope(jurisdictions=("DE",)), Limits(requests_per_minute=10)
    change = closed(hearing(), ADMIN, "modify", reasons, scope, limits, "dir_2", NOW)
    assert change.records == (
        hearing(
            state="closed", outcome="modify", reasons=reasons, scope=scope, limits=limits,
            result_id="dir_2", closed_by=ADMIN.id, closed_at=NOW,
        ),
    )  # fmt: skip
    [event] = change.events
    assert event.model_dump() == {
        "kind": "hearing.closed",
        "subject": "hrg_1",
        "model_id": "mdl_1",
        "actor": ADMIN.id,
        "at": NOW,
        "data": {
            "act": "directive",
            "act_id": "dir_1",
            "outcome": "modify",
            "submissions": 1,
            "result": "dir_2",
        },
    }


# --- lapse -----------------------------------------------------------------------------------


def test_an_open_hearing_lapses_exactly_at_its_date() -> None:
    due = hearing(hold_by=NOW)
    change = lapsed(due, NOW)
    assert change.records == (due.model_copy(update={"state": "lapsed"}),)
    [event] = change.events
    assert event.model_dump() == {
        "kind": "hearing.lapsed",
        "subject": "hrg_1",
        "model_id": "mdl_1",
        "actor": SCHEDULER,
        "at": NOW,
        "data": {"act": "directive", "act_id": "dir_1", "hold_by": NOW.isoformat()},
    }
    for not_now in (
        (due, NOW - SECOND),
        (due.model_copy(update={"state": "closed"}), NOW),
        (due.model_copy(update={"state": "lapsed"}), NOW + DAY),
    ):
        with pytest.raises(Conflict) as error:
            lapsed(*not_now)
        assert str(error.value) == "hearing hrg_1 does not lapse now"
