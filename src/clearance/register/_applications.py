"""Release applications: filing, review, information requests and withdrawal."""

from __future__ import annotations

import datetime as dt
from typing import Any

from clearance.errors import Conflict, Forbidden, InvalidInput
from clearance.framework import Framework, TierId, compare_assessments
from clearance.register._duties import require_independent, require_member, require_role
from clearance.register._events import Change, Event
from clearance.register._records import (
    Application,
    EvidenceRef,
    Grant,
    InformationRequest,
    ModelConfig,
    Organization,
    Principal,
    SelfAssessmentDifference,
)
from clearance.register._testing import check_upstream_url, testing_grant

OPEN_STATES = ("filed", "under_review", "information_requested")


def file_application(
    *,
    new_id: str,
    model: ModelConfig,
    principal: Principal,
    framework: Framework,
    framework_digest: str,
    requested_tier: TierId,
    requested_jurisdictions: tuple[str, ...],
    evidence: tuple[EvidenceRef, ...],
    safeguards: tuple[str, ...],
    assessment: dict[str, Any],
    self_assessment: dict[str, Any] | None,
    now: dt.datetime,
    safeguards_declaration: str | None = None,
    authority: Organization | None = None,
    testing_grant_id: str | None = None,
    pre_release_upstream: str | None = None,
) -> Change:
    """A developer files for release; the deadline starts from the framework's procedure.

    A self-assessment filed with it is checked against the register's own run; the differences
    are kept with the application for the reviewer and the decision page. Where the framework
    gives the authority testing access, the same act issues its testing grant (`authority`,
    `testing_grant_id`); while a required pre-release upstream is missing the clock stands still.
    """
    require_role(principal, "developer")
    require_member(principal, model.organization_id, f"model {model.name}")
    groups = {group.id for group in framework.jurisdictions}
    unknown = sorted(set(requested_jurisdictions) - groups)
    if unknown:
        raise InvalidInput(
            f"requested_jurisdictions: unknown jurisdiction group(s) {', '.join(unknown)}; "
            f"the framework has {', '.join(sorted(groups))}"
        )
    testing = framework.procedure.testing_access_days is not None
    if testing and (authority is None or testing_grant_id is None):
        raise Conflict(
            "the framework gives the authority testing access, but the register has no "
            "authority organization to receive it"
        )
    upstream = check_upstream_url(pre_release_upstream) if pre_release_upstream else None
    if upstream is not None and not testing:
        raise InvalidInput(
            "pre_release_upstream: this framework gives the authority no testing access"
        )
    differences = (
        tuple(
            SelfAssessmentDifference(aspect=d.aspect, text=d.text)
            for d in compare_assessments(assessment, self_assessment)
        )
        if self_assessment is not None
        else ()
    )
    application = Application(
        id=new_id,
        model_id=model.id,
        organization_id=model.organization_id,
        framework_digest=framework_digest,
        requested_tier=requested_tier,
        requested_jurisdictions=tuple(sorted(set(requested_jurisdictions))),
        evidence=evidence,
        safeguards=safeguards,
        safeguards_declaration=safeguards_declaration,
        assessment=assessment,
        self_assessment=self_assessment,
        self_assessment_differences=differences,
        filed_at=now,
        deadline=now + dt.timedelta(days=framework.procedure.decision_days),
    )
    extra: tuple[Grant, ...] = ()
    extra_events: tuple[Event, ...] = ()
    if testing:
        assert authority is not None and testing_grant_id is not None
        grant, grant_event, missing = testing_grant(
            grant_id=testing_grant_id,
            application_id=new_id,
            model=model,
            authority=authority,
            filed_by=principal,
            framework=framework,
            upstream=upstream,
            now=now,
        )
        application = application.model_copy(
            update={
                "testing_grant_id": grant.id,
                "testing_access_missing": missing,
                "clock_stopped_at": now if missing else None,
            }
        )
        extra, extra_events = (grant,), (grant_event,)
    event = Event(
        kind="application.filed",
        subject=new_id,
        model_id=model.id,
        actor=principal.id,
        at=now,
        data={
            "requested_tier": requested_tier,
            "deadline": application.deadline.isoformat(),
            "assessed_tier": assessment.get("max_tier"),
            "evidence": [e.sha256 for e in evidence],
            "self_assessment": (
                "none" if self_assessment is None else "differs" if differences else "matches"
            ),
            **({"testing_grant": testing_grant_id} if testing else {}),
        },
    )
    return Change((application, *extra), (event, *extra_events))


def assign_reviewer(
    application: Application, reviewer: Principal, actor: Principal, now: dt.datetime
) -> Change:
    """An administrator assigns a reviewer, or a reviewer takes an unassigned case; duties are
    checked. Taking a case from the reviewer it is assigned to is the administrator's act."""
    if actor.id != reviewer.id:
        require_role(actor, "admin")
    elif application.reviewer_id not in (None, reviewer.id) and "admin" not in actor.roles:
        raise Forbidden(
            f"application {application.id} is assigned to another reviewer; an administrator "
            "reassigns a case"
        )
    require_role(reviewer, "reviewer")
    require_independent(reviewer, application.organization_id, f"application {application.id}")
    if reviewer.id in application.excluded_reviewers:
        raise Forbidden(
            f"{reviewer.name}'s decision on application {application.id} was overturned on "
            "appeal; another reviewer must take the case"
        )
    if application.state not in ("filed", "under_review"):
        raise Conflict(
            f"application {application.id} is {application.state}; it cannot be assigned"
        )
    updated = application.model_copy(update={"state": "under_review", "reviewer_id": reviewer.id})
    event = Event(
        kind="application.assigned",
        subject=application.id,
        model_id=application.model_id,
        actor=actor.id,
        at=now,
        data={"reviewer": reviewer.id},
    )
    return Change((updated,), (event,))


def require_reviewer_of(application: Application, principal: Principal) -> None:
    require_role(principal, "reviewer")
    require_independent(principal, application.organization_id, f"application {application.id}")
    if application.reviewer_id != principal.id:
        raise Conflict(
            f"application {application.id} is not assigned to {principal.name}; "
            "take or be assigned the case first"
        )


def request_information(
    *,
    new_id: str,
    application: Application,
    reviewer: Principal,
    question: str,
    framework: Framework,
    now: dt.datetime,
) -> Change:
    """The reviewer asks the applicant a question; the clock stops if the procedure says so."""
    require_reviewer_of(application, reviewer)
    if application.state != "under_review":
        raise Conflict(
            f"application {application.id} is {application.state}; information can be requested "
            "only while it is under review"
        )
    procedure = framework.procedure
    request = InformationRequest(
        id=new_id,
        application_id=application.id,
        question=question,
        asked_by=reviewer.id,
        asked_at=now,
        respond_by=now + dt.timedelta(days=procedure.information_response_days),
    )
    stopped = application.clock_stopped_at or (
        now if procedure.information_request_stops_clock else None
    )
    updated = application.model_copy(
        update={"state": "information_requested", "clock_stopped_at": stopped}
    )
    event = Event(
        kind="information.requested",
        subject=application.id,
        model_id=application.model_id,
        actor=reviewer.id,
        at=now,
        data={"request": new_id, "clock_stopped": stopped is not None},
    )
    return Change((updated, request), (event,))


def answer_information(
    *,
    application: Application,
    request: InformationRequest,
    principal: Principal,
    response: str,
    now: dt.datetime,
) -> Change:
    """The applicant answers; the clock restarts and the deadline moves by the time it stood."""
    require_role(principal, "developer")
    require_member(principal, application.organization_id, f"application {application.id}")
    if request.answered_at is not None:
        raise Conflict(f"information request {request.id} was already answered")
    if application.state != "information_requested":
        raise Conflict(f"application {application.id} is {application.state}, not awaiting answers")
    deadline = application.deadline
    stopped = application.clock_stopped_at
    if stopped is not None and not application.testing_access_missing:
        # the clock runs again, unless it still waits for the testing access the developer owes
        deadline += now - stopped
        stopped = None
    answered = request.model_copy(update={"response": response, "answered_at": now})
    updated = application.model_copy(
        update={"state": "under_review", "clock_stopped_at": stopped, "deadline": deadline}
    )
    event = Event(
        kind="information.answered",
        subject=application.id,
        model_id=application.model_id,
        actor=principal.id,
        at=now,
        data={"request": request.id, "deadline": deadline.isoformat()},
    )
    return Change((updated, answered), (event,))


def withdraw(
    application: Application,
    principal: Principal,
    now: dt.datetime,
    testing: Grant | None = None,
) -> Change:
    """The applicant withdraws an application that has not been decided; the authority's
    testing grant issued with it (`testing`, given when the application has one) ends with it."""
    require_role(principal, "developer")
    require_member(principal, application.organization_id, f"application {application.id}")
    if application.state not in OPEN_STATES:
        raise Conflict(
            f"application {application.id} is {application.state}; it cannot be withdrawn"
        )
    if (testing is None) != (application.testing_grant_id is None) or (
        testing is not None and testing.id != application.testing_grant_id
    ):
        raise ValueError("the application's testing grant must be given with it")
    updated = application.model_copy(update={"state": "withdrawn", "clock_stopped_at": None})
    event = Event(
        kind="application.withdrawn",
        subject=application.id,
        model_id=application.model_id,
        actor=principal.id,
        at=now,
    )
    if testing is None or testing.state != "active":
        return Change((updated,), (event,))
    ended = testing.model_copy(
        update={"state": "revoked", "revoked_by": principal.id, "revoked_at": now}
    )
    revoked = Event(
        kind="grant.revoked",
        subject=testing.id,
        model_id=testing.model_id,
        actor=principal.id,
        at=now,
        data={"origin": application.id, "reason": "the application was withdrawn"},
    )
    return Change((updated, ended), (event, revoked))
