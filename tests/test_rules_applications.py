"""The rules of an application's life before its decision: filing, assignment, questions and
answers on the procedure's clock, withdrawal (issue 16).

Pure acts over records built in memory: each test checks the Change whole (the records and the
event) or the refusal whole (its kind and its sentence). Boundary cases: an administrator
assigning a reviewer (not only a reviewer taking the case), a reviewer with a declared conflict,
withdrawal by someone else, the clock stopped by a question and by owed testing access at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from clearance.errors import Conflict, Forbidden, InvalidInput
from clearance.register import (
    Application,
    Grant,
    InformationRequest,
    SelfAssessmentDifference,
)
from clearance.register._applications import (
    OPEN_STATES,
    answer_information,
    assign_reviewer,
    file_application,
    request_information,
    withdraw,
)
from clearance.register._events import Change, Event
from tests.framework_data import load, small
from tests.rules_data import model, organization, refused
from tests.test_rules_decisions import (
    ASSESSMENT,
    DEVELOPER,
    FILED,
    FRAMEWORK,
    LAB,
    NOW,
    REVIEWER,
    application,
    principal,
)

MODEL = model(name="atlas-2", version="2.0", weights_digest="d" * 64, created_at=FILED)
AUTHORITY = organization("org_auth", "The Authority", "authority", "GB", created_at=FILED)
ADMIN = principal("pri_ada", "org_auth", "admin")
OTTO = principal("pri_otto", "org_auth", "reviewer")
FRAMEWORK_SHA = "f" * 64
RUN: dict[str, Any] = {
    **ASSESSMENT,
    "framework": {"id": "small", "version": "1.0", "sha256": FRAMEWORK_SHA},
    "evidence": [{"sha256": LAB.sha256, "name": LAB.name}],
}
"""The register's own run at filing, as the assessor writes it."""
TESTING = load(small(procedure={"testing_access_days": 30, "pre_release_upstream_required": True}))
"""A framework that gives the authority 30 days of testing on a pre-release upstream it needs."""


def file(**changes: Any) -> Change:
    args: dict[str, Any] = {
        "new_id": "app_1",
        "model": MODEL,
        "principal": DEVELOPER,
        "framework": FRAMEWORK,
        "framework_digest": FRAMEWORK_SHA,
        "requested_tier": "public",
        "requested_jurisdictions": ("t2", "t1"),
        "evidence": (LAB,),
        "safeguards": ("filters",),
        "assessment": RUN,
        "self_assessment": None,
        "now": NOW,
    }
    args.update(changes)
    return file_application(**args)


def only(change: Change, kind: type[Any]) -> Any:
    (record,) = (r for r in change.records if isinstance(r, kind))
    return record


# --- filing --------------------------------------------------------------------------------------


def test_a_developer_files_for_its_own_model_and_the_deadline_starts() -> None:
    declaration = "e" * 64
    change = file(safeguards_declaration=declaration)
    (filed,) = change.records
    assert filed == Application(
        id="app_1",
        model_id="mdl_1",
        organization_id="org_dev",
        framework_digest=FRAMEWORK_SHA,
        requested_tier="public",
        requested_jurisdictions=("t1", "t2"),
        evidence=(LAB,),
        safeguards=("filters",),
        safeguards_declaration=declaration,
        assessment=RUN,
        state="filed",
        filed_at=NOW,
        deadline=NOW + dt.timedelta(days=90),
    )
    assert change.events == (
        Event(
            kind="application.filed",
            subject="app_1",
            model_id="mdl_1",
            actor="pri_dan",
            at=NOW,
            data={
                "requested_tier": "public",
                "deadline": (NOW + dt.timedelta(days=90)).isoformat(),
                "assessed_tier": "public_safeguarded",
                "evidence": [LAB.sha256],
                "self_assessment": "none",
            },
        ),
    )


def test_the_deadline_follows_the_frameworks_procedure() -> None:
    framework = load(small(procedure={"decision_days": 30}))
    filed = only(file(framework=framework), Application)
    assert filed.deadline == NOW + dt.timedelta(days=30)


def test_each_requested_group_is_kept_once_in_order() -> None:
    filed = only(file(requested_jurisdictions=("t2", "t1", "t2")), Application)
    assert filed.requested_jurisdictions == ("t1", "t2")


def test_unknown_jurisdiction_groups_are_named_with_the_frameworks_groups() -> None:
    refused(
        InvalidInput,
        "requested_jurisdictions: unknown jurisdiction group(s) atlantis, mars; the framework "
        "has t1, t2",
        file,
        requested_jurisdictions=("t1", "mars", "atlantis"),
    )


def test_only_a_developer_of_the_models_organization_files() -> None:
    refused(Forbidden, "this needs the developer role; Rita has reviewer", file, principal=REVIEWER)
    rival = principal("pri_rex", "org_rival", "developer")
    refused(
        Forbidden,
        "only the organization that owns model atlas-2 may do this",
        file,
        principal=rival,
    )


def test_a_self_assessment_is_compared_with_the_registers_run() -> None:
    same = file(self_assessment=RUN)
    assert only(same, Application).self_assessment_differences == ()
    assert only(same, Application).self_assessment == RUN
    assert same.events[0].data["self_assessment"] == "matches"
    optimistic = {**RUN, "max_tier": "public"}
    differs = file(self_assessment=optimistic)
    assert only(differs, Application).self_assessment_differences == (
        SelfAssessmentDifference(
            aspect="outcome",
            text="most open tier: the self-assessment found public, the register "
            "public_safeguarded",
        ),
    )
    assert differs.events[0].data["self_assessment"] == "differs"


def test_an_application_without_a_self_assessment_records_none() -> None:
    filed = only(file(), Application)
    assert filed.self_assessment is None and filed.self_assessment_differences == ()


# --- filing where the authority tests the model --------------------------------------------------


def test_filing_issues_the_authoritys_testing_grant_and_stops_the_clock_until_access() -> None:
    change = file(framework=TESTING, authority=AUTHORITY, testing_grant_id="grt_1")
    filed, grant = change.records
    assert isinstance(filed, Application) and isinstance(grant, Grant)
    assert filed.testing_grant_id == "grt_1"
    assert filed.testing_access_missing is True
    assert filed.clock_stopped_at == NOW
    assert grant.organization_id == "org_auth" and grant.purpose == "testing"
    assert grant.expires_at is None
    filed_event, grant_event = change.events
    assert filed_event.data["testing_grant"] == "grt_1"
    assert grant_event.kind == "grant.issued"
    assert grant_event.data["testing_access"] == "missing"


def test_an_upstream_named_at_filing_leaves_the_clock_running() -> None:
    change = file(
        framework=TESTING,
        authority=AUTHORITY,
        testing_grant_id="grt_1",
        pre_release_upstream=" http://10.0.0.5:8000/v1/ ",
    )
    filed, grant = change.records
    assert isinstance(filed, Application) and isinstance(grant, Grant)
    assert filed.testing_access_missing is False and filed.clock_stopped_at is None
    assert grant.pre_release_upstream == "http://10.0.0.5:8000/v1"
    assert grant.expires_at == NOW + dt.timedelta(days=30)
    assert change.events[1].data["testing_access"] == "provided"


def test_testing_access_needs_an_authority_to_receive_it() -> None:
    message = (
        "the framework gives the authority testing access, but the register has no authority "
        "organization to receive it"
    )
    refused(Conflict, message, file, framework=TESTING, testing_grant_id="grt_1")
    refused(Conflict, message, file, framework=TESTING, authority=AUTHORITY)


def test_a_pre_release_upstream_is_refused_where_the_framework_asks_for_no_testing() -> None:
    refused(
        InvalidInput,
        "pre_release_upstream: this framework gives the authority no testing access",
        file,
        pre_release_upstream="http://10.0.0.5:8000/v1",
    )
    with pytest.raises(InvalidInput, match="is not an http"):
        file(
            framework=TESTING,
            authority=AUTHORITY,
            testing_grant_id="grt_1",
            pre_release_upstream="http://user:secret@10.0.0.5/v1",
        )


def test_a_framework_without_testing_access_issues_no_grant() -> None:
    change = file(authority=AUTHORITY, testing_grant_id="grt_1")
    (filed,) = change.records
    assert isinstance(filed, Application) and filed.testing_grant_id is None
    assert len(change.events) == 1 and "testing_grant" not in change.events[0].data


# --- assignment ----------------------------------------------------------------------------------


def filed_application(**changes: Any) -> Application:
    return application(state="filed", reviewer_id=None, **changes)


def test_a_reviewer_takes_the_case() -> None:
    change = assign_reviewer(filed_application(), REVIEWER, REVIEWER, NOW)
    assert change.records == (application(state="under_review", reviewer_id="pri_rita"),)
    assert change.events == (
        Event(
            kind="application.assigned",
            subject="app_1",
            model_id="mdl_1",
            actor="pri_rita",
            at=NOW,
            data={"reviewer": "pri_rita"},
        ),
    )


def test_an_administrator_assigns_a_reviewer_and_may_reassign_the_case() -> None:
    change = assign_reviewer(filed_application(), REVIEWER, ADMIN, NOW)
    assert change.records == (application(state="under_review", reviewer_id="pri_rita"),)
    assert change.events[0].actor == "pri_ada"
    assert change.events[0].data == {"reviewer": "pri_rita"}
    moved = assign_reviewer(application(), OTTO, ADMIN, NOW)
    assert moved.records == (application(reviewer_id="pri_otto"),)


def test_only_an_administrator_assigns_someone_else() -> None:
    refused(
        Forbidden,
        "this needs the admin role; Otto has reviewer",
        assign_reviewer,
        filed_application(),
        REVIEWER,
        OTTO,
        NOW,
    )


def test_a_reviewer_may_not_take_a_case_assigned_to_another_reviewer() -> None:
    assigned = application()  # under review by Rita
    assert assigned.reviewer_id == "pri_rita"
    refused(
        Forbidden,
        "application app_1 is assigned to another reviewer; an administrator reassigns a case",
        assign_reviewer,
        assigned,
        OTTO,
        OTTO,
        NOW,
    )
    # taking one's own case again changes nothing of who decides
    again = assign_reviewer(assigned, REVIEWER, REVIEWER, NOW)
    assert again.records == (assigned,)
    # an administrator who also reviews may take it
    chief = principal("pri_chief", "org_auth", "admin", "reviewer")
    taken = assign_reviewer(assigned, chief, chief, NOW)
    assert taken.records == (application(reviewer_id="pri_chief"),)


def test_only_a_reviewer_is_assigned() -> None:
    refused(
        Forbidden,
        "this needs the reviewer role; Ada has admin",
        assign_reviewer,
        filed_application(),
        ADMIN,
        ADMIN,
        NOW,
    )


def test_a_reviewer_with_a_conflict_or_of_the_applicants_organization_is_refused() -> None:
    conflicted = principal("pri_cy", "org_auth", "reviewer", conflicts=("org_dev",))
    refused(
        Forbidden,
        "Cy declared a conflict of interest with the organization behind application app_1",
        assign_reviewer,
        filed_application(),
        conflicted,
        ADMIN,
        NOW,
    )
    insider = principal("pri_ian", "org_dev", "reviewer")
    refused(
        Forbidden,
        "Ian may not act on application app_1: it is their own organization's",
        assign_reviewer,
        filed_application(),
        insider,
        insider,
        NOW,
    )


def test_a_reviewer_whose_decision_was_overturned_cannot_take_the_case_again() -> None:
    refused(
        Forbidden,
        "Rita's decision on application app_1 was overturned on appeal; another reviewer must "
        "take the case",
        assign_reviewer,
        filed_application(excluded_reviewers=("pri_rita",)),
        REVIEWER,
        ADMIN,
        NOW,
    )
    change = assign_reviewer(filed_application(excluded_reviewers=("pri_rita",)), OTTO, ADMIN, NOW)
    assert change.records[0].reviewer_id == "pri_otto"  # type: ignore[attr-defined]


@pytest.mark.parametrize("state", ["information_requested", "decided", "withdrawn"])
def test_an_application_is_assigned_only_while_filed_or_under_review(state: str) -> None:
    refused(
        Conflict,
        f"application app_1 is {state}; it cannot be assigned",
        assign_reviewer,
        application(state=state),
        REVIEWER,
        ADMIN,
        NOW,
    )


# --- questions and answers -----------------------------------------------------------------------


def ask(**changes: Any) -> Change:
    args: dict[str, Any] = {
        "new_id": "inf_1",
        "application": application(),
        "reviewer": REVIEWER,
        "question": "Which filters run on the app channel?",
        "framework": FRAMEWORK,
        "now": NOW,
    }
    args.update(changes)
    return request_information(**args)


def test_a_question_stops_the_clock_and_gives_the_applicant_the_procedures_days() -> None:
    change = ask()
    assert change.records == (
        application(state="information_requested", clock_stopped_at=NOW),
        InformationRequest(
            id="inf_1",
            application_id="app_1",
            question="Which filters run on the app channel?",
            asked_by="pri_rita",
            asked_at=NOW,
            respond_by=NOW + dt.timedelta(days=30),
        ),
    )
    assert change.events == (
        Event(
            kind="information.requested",
            subject="app_1",
            model_id="mdl_1",
            actor="pri_rita",
            at=NOW,
            data={"request": "inf_1", "clock_stopped": True},
        ),
    )


def test_a_question_leaves_the_clock_running_where_the_procedure_says_so() -> None:
    framework = load(
        small(procedure={"information_request_stops_clock": False, "information_response_days": 7})
    )
    change = ask(framework=framework)
    asked, request = change.records
    assert asked == application(state="information_requested")
    assert isinstance(request, InformationRequest)
    assert request.respond_by == NOW + dt.timedelta(days=7)
    assert change.events[0].data == {"request": "inf_1", "clock_stopped": False}


def test_a_clock_already_stopped_keeps_the_time_it_stopped() -> None:
    owed = application(testing_access_missing=True, clock_stopped_at=FILED)
    asked = ask(application=owed).records[0]
    assert asked == owed.model_copy(update={"state": "information_requested"})


def test_only_the_assigned_reviewer_asks_while_the_application_is_under_review() -> None:
    refused(
        Conflict,
        "application app_1 is not assigned to Otto; take or be assigned the case first",
        ask,
        reviewer=OTTO,
    )
    refused(
        Forbidden,
        "this needs the reviewer role; Dan has developer",
        ask,
        reviewer=DEVELOPER,
    )
    refused(
        Conflict,
        "application app_1 is information_requested; information can be requested only while it "
        "is under review",
        ask,
        application=application(state="information_requested"),
    )


def test_an_assigned_reviewer_who_has_since_declared_a_conflict_may_not_act() -> None:
    """Assignment checked independence once; every later act of the reviewer checks it again."""
    conflicted = principal("pri_rita", "org_auth", "reviewer", conflicts=("org_dev",))
    refused(
        Forbidden,
        "Rita declared a conflict of interest with the organization behind application app_1",
        ask,
        reviewer=conflicted,
    )
    moved = principal("pri_rita", "org_dev", "reviewer")
    refused(
        Forbidden,
        "Rita may not act on application app_1: it is their own organization's",
        ask,
        reviewer=moved,
    )


QUESTION = InformationRequest(
    id="inf_1",
    application_id="app_1",
    question="Which filters?",
    asked_by="pri_rita",
    asked_at=NOW - dt.timedelta(days=10),
    respond_by=NOW + dt.timedelta(days=20),
)
WAITING = application(state="information_requested", clock_stopped_at=NOW - dt.timedelta(days=10))


def answer(**changes: Any) -> Change:
    args: dict[str, Any] = {
        "application": WAITING,
        "request": QUESTION,
        "principal": DEVELOPER,
        "response": "The same as on the API.",
        "now": NOW,
    }
    args.update(changes)
    return answer_information(**args)


def test_an_answer_restarts_the_clock_and_moves_the_deadline_by_the_time_it_stood() -> None:
    change = answer()
    deadline = WAITING.deadline + dt.timedelta(days=10)
    assert change.records == (
        application(deadline=deadline),
        QUESTION.model_copy(update={"response": "The same as on the API.", "answered_at": NOW}),
    )
    assert change.events == (
        Event(
            kind="information.answered",
            subject="app_1",
            model_id="mdl_1",
            actor="pri_dan",
            at=NOW,
            data={"request": "inf_1", "deadline": deadline.isoformat()},
        ),
    )


def test_an_answer_to_a_question_that_left_the_clock_running_keeps_the_deadline() -> None:
    running = WAITING.model_copy(update={"clock_stopped_at": None})
    assert answer(application=running).records[0] == application()


def test_an_answer_leaves_the_clock_stopped_while_testing_access_is_owed() -> None:
    owed = WAITING.model_copy(update={"testing_access_missing": True})
    answered = answer(application=owed).records[0]
    assert answered == owed.model_copy(update={"state": "under_review"})


def test_only_the_applicant_answers_an_open_question_once() -> None:
    refused(
        Forbidden,
        "this needs the developer role; Rita has reviewer",
        answer,
        principal=REVIEWER,
    )
    rival = principal("pri_rex", "org_rival", "developer")
    refused(
        Forbidden, "only the organization that owns application app_1 may do this", answer,
        principal=rival,
    )  # fmt: skip
    done = QUESTION.model_copy(update={"response": "Earlier.", "answered_at": NOW})
    refused(Conflict, "information request inf_1 was already answered", answer, request=done)
    refused(
        Conflict,
        "application app_1 is under_review, not awaiting answers",
        answer,
        application=application(),
    )


# --- withdrawal ----------------------------------------------------------------------------------


@pytest.mark.parametrize("state", OPEN_STATES)
def test_the_applicant_withdraws_an_open_application(state: str) -> None:
    open_ = application(state=state, clock_stopped_at=NOW - dt.timedelta(days=3))
    change = withdraw(open_, DEVELOPER, NOW)
    assert change.records == (application(state="withdrawn"),)
    assert change.events == (
        Event(
            kind="application.withdrawn",
            subject="app_1",
            model_id="mdl_1",
            actor="pri_dan",
            at=NOW,
        ),
    )


def test_withdrawing_ends_the_authoritys_testing_grant_with_the_application() -> None:
    filed, grant = file(framework=TESTING, authority=AUTHORITY, testing_grant_id="grt_1").records
    assert isinstance(filed, Application) and isinstance(grant, Grant)
    change = withdraw(filed, DEVELOPER, NOW, grant)
    withdrawn, ended = change.records
    assert isinstance(withdrawn, Application) and withdrawn.state == "withdrawn"
    assert ended == grant.model_copy(
        update={"state": "revoked", "revoked_by": "pri_dan", "revoked_at": NOW}
    )
    assert [e.kind for e in change.events] == ["application.withdrawn", "grant.revoked"]
    assert (change.events[1].subject, change.events[1].model_id) == ("grt_1", grant.model_id)
    assert change.events[1].data == {
        "origin": filed.id,
        "reason": "the application was withdrawn",
    }
    # a grant that has already ended is left as it is
    expired = grant.model_copy(update={"state": "expired"})
    assert withdraw(filed, DEVELOPER, NOW, expired).records == (withdrawn,)
    # the act is given the application's own testing grant, or refuses to run
    wanted = "^the application's testing grant must be given with it$"
    with pytest.raises(ValueError, match=wanted):
        withdraw(filed, DEVELOPER, NOW)
    with pytest.raises(ValueError, match=wanted):
        withdraw(filed, DEVELOPER, NOW, grant.model_copy(update={"id": "grt_other"}))
    with pytest.raises(ValueError, match=wanted):
        withdraw(application(), DEVELOPER, NOW, grant)


def test_an_open_application_is_filed_under_review_or_awaiting_answers() -> None:
    assert OPEN_STATES == ("filed", "under_review", "information_requested")


def test_withdrawal_by_anyone_but_the_applicant_is_refused() -> None:
    rival = principal("pri_rex", "org_rival", "developer")
    refused(
        Forbidden,
        "only the organization that owns application app_1 may do this",
        withdraw,
        application(),
        rival,
        NOW,
    )
    refused(
        Forbidden,
        "this needs the developer role; Ada has admin",
        withdraw,
        application(),
        ADMIN,
        NOW,
    )


@pytest.mark.parametrize("state", ["decided", "withdrawn"])
def test_a_decided_or_withdrawn_application_cannot_be_withdrawn(state: str) -> None:
    refused(
        Conflict,
        f"application app_1 is {state}; it cannot be withdrawn",
        withdraw,
        application(state=state),
        DEVELOPER,
        NOW,
    )
