"""Release applications: filing, review, information requests, decisions, deemed approval."""

from __future__ import annotations

import datetime as dt
from typing import Any

from clearance.errors import Conflict, InvalidInput
from clearance.framework import (
    RULES,
    Framework,
    TierId,
    compare_assessments,
    most_closed,
    tier_rank,
)
from clearance.register._duties import require_independent, require_member, require_role
from clearance.register._events import SCHEDULER, Change, Event
from clearance.register._records import (
    Application,
    Decision,
    EvidenceRef,
    InformationRequest,
    ModelConfig,
    Outcome,
    Principal,
    Reason,
    SelfAssessmentDifference,
)

OPEN_STATES = ("filed", "under_review", "information_requested")


def citable_rules(framework: Framework) -> set[str]:
    """Every id a decision's reasons may cite: framework entries, assessor rules, procedure."""
    ids = set(RULES)
    for domain in framework.domains:
        ids.add(domain.id)
        ids.update(level.id for level in domain.levels)
    ids.update(m.id for m in framework.metrics)
    ids.update(r.id for r in framework.finding_rules)
    ids.update(s.id for s in framework.safeguards)
    ids.update(j.id for j in framework.jurisdictions)
    ids.update(f"procedure.{name}" for name in type(framework.procedure).model_fields)
    return ids


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
) -> Change:
    """A developer files for release; the deadline starts from the framework's procedure.

    A self-assessment filed with it is checked against the register's own run; the differences
    are kept with the application for the reviewer and the decision page.
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
        },
    )
    return Change((application,), (event,))


def assign_reviewer(
    application: Application, reviewer: Principal, actor: Principal, now: dt.datetime
) -> Change:
    """An administrator assigns a reviewer, or a reviewer takes the case; duties are checked."""
    if actor.id != reviewer.id:
        require_role(actor, "admin")
    require_role(reviewer, "reviewer")
    require_independent(reviewer, application.organization_id, f"application {application.id}")
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


def _require_reviewer_of(application: Application, principal: Principal) -> None:
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
    _require_reviewer_of(application, reviewer)
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
    stopped = now if procedure.information_request_stops_clock else None
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
    if application.clock_stopped_at is not None:
        deadline += now - application.clock_stopped_at
    answered = request.model_copy(update={"response": response, "answered_at": now})
    updated = application.model_copy(
        update={"state": "under_review", "clock_stopped_at": None, "deadline": deadline}
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


def prescribed_tier(application: Application) -> TierId:
    """The tier the assessor prescribes for what was requested: the more closed of the two."""
    assessed: TierId = application.assessment.get("max_tier", "halted")
    return most_closed(application.requested_tier, assessed)


def decide(
    *,
    new_id: str,
    application: Application,
    reviewer: Principal,
    framework: Framework,
    outcome: Outcome,
    tier: TierId,
    jurisdictions: tuple[str, ...],
    conditions: tuple[str, ...],
    reasons: tuple[Reason, ...],
    justification: str | None,
    now: dt.datetime,
) -> Change:
    """The reviewer decides with written reasons; a departure from the assessor is justified."""
    _require_reviewer_of(application, reviewer)
    if application.state != "under_review":
        raise Conflict(
            f"application {application.id} is {application.state}; only an application under "
            "review can be decided"
        )
    _check_citations(reasons, application, framework)
    groups = {group.id for group in framework.jurisdictions}
    unknown = sorted(set(jurisdictions) - groups)
    if unknown:
        raise InvalidInput(f"jurisdictions: unknown jurisdiction group(s) {', '.join(unknown)}")
    if outcome == "approved" and conditions:
        raise InvalidInput("outcome: a decision with conditions is approved_with_conditions")
    if outcome == "approved_with_conditions" and not conditions:
        raise InvalidInput("conditions: approved_with_conditions needs at least one condition")
    departure = _departs(application, outcome, tier, jurisdictions)
    if departure and not (justification and justification.strip()):
        raise InvalidInput(
            "justification: this decision departs from the assessor's outcome "
            f"(prescribed tier {prescribed_tier(application)}), so it needs a written justification"
        )
    decision = _decision(
        new_id=new_id,
        application=application,
        framework=framework,
        outcome=outcome,
        tier=tier if outcome != "denied" else "halted",
        jurisdictions=tuple(sorted(set(jurisdictions))) if outcome != "denied" else (),
        conditions=conditions,
        reasons=reasons,
        departure=departure,
        justification=justification if departure else None,
        deemed=False,
        decided_by=reviewer.id,
        now=now,
    )
    updated = application.model_copy(update={"state": "decided", "decision_id": new_id})
    event = Event(
        kind="decision.made",
        subject=new_id,
        model_id=application.model_id,
        actor=reviewer.id,
        at=now,
        data={
            "application": application.id,
            "outcome": outcome,
            "tier": decision.tier,
            "departure": departure,
        },
    )
    return Change((updated, decision), (event,))


def deem_decision(
    *, new_id: str, application: Application, framework: Framework, now: dt.datetime
) -> Change:
    """The deadline passed without a decision: the framework's deemed-approval rule applies."""
    if application.state not in ("filed", "under_review"):
        raise Conflict(f"application {application.id} is {application.state}; nothing to deem")
    if now < application.deadline:
        raise Conflict(f"application {application.id} is not overdue until {application.deadline}")
    rule = framework.procedure.deemed_approval
    if not rule.enabled:
        raise Conflict("this framework has no deemed approval")
    assessed: TierId = application.assessment.get("max_tier", "halted")
    tier = assessed if rule.tier == "as_assessed" else prescribed_tier(application)
    conditions = tuple(application.assessment.get("conditions", ()))
    permitted = {
        j["group"]
        for j in application.assessment.get("jurisdictions", ())
        if tier_rank(j["max_tier"]) <= tier_rank("internal")
    }
    deadline = application.deadline.date().isoformat()
    if tier == "halted":
        text = (
            f"No decision was made by the deadline ({deadline}); the framework deems the "
            "application decided at the tier the assessment permits, and it permits no "
            "deployment, so it stands refused."
        )
        outcome: Outcome = "denied"
    else:
        text = (
            f"Deemed approved: no decision was made by the deadline ({deadline}); under the "
            f"framework's procedure the application is approved at the tier the assessment "
            f"permits ({tier})."
        )
        outcome = "approved_with_conditions" if conditions else "approved"
    reason = Reason(
        text=text,
        rules=("procedure.deemed_approval",),
        evidence=tuple(e.sha256 for e in application.evidence),
    )
    decision = _decision(
        new_id=new_id,
        application=application,
        framework=framework,
        outcome=outcome,
        tier=tier,
        jurisdictions=tuple(sorted(set(application.requested_jurisdictions) & permitted))
        if outcome != "denied"
        else (),
        conditions=conditions,
        reasons=(reason,),
        departure=False,
        justification=None,
        deemed=True,
        decided_by=None,
        now=now,
    )
    updated = application.model_copy(update={"state": "decided", "decision_id": new_id})
    event = Event(
        kind="decision.deemed",
        subject=new_id,
        model_id=application.model_id,
        actor=SCHEDULER,
        at=now,
        data={
            "application": application.id,
            "tier": tier,
            "deadline": application.deadline.isoformat(),
        },
    )
    return Change((updated, decision), (event,))


def withdraw(application: Application, principal: Principal, now: dt.datetime) -> Change:
    """The applicant withdraws an application that has not been decided."""
    require_role(principal, "developer")
    require_member(principal, application.organization_id, f"application {application.id}")
    if application.state not in OPEN_STATES:
        raise Conflict(
            f"application {application.id} is {application.state}; it cannot be withdrawn"
        )
    updated = application.model_copy(update={"state": "withdrawn", "clock_stopped_at": None})
    event = Event(
        kind="application.withdrawn",
        subject=application.id,
        model_id=application.model_id,
        actor=principal.id,
        at=now,
    )
    return Change((updated,), (event,))


def _decision(
    *,
    new_id: str,
    application: Application,
    framework: Framework,
    outcome: Outcome,
    tier: TierId,
    jurisdictions: tuple[str, ...],
    conditions: tuple[str, ...],
    reasons: tuple[Reason, ...],
    departure: bool,
    justification: str | None,
    deemed: bool,
    decided_by: str | None,
    now: dt.datetime,
) -> Decision:
    procedure = framework.procedure
    return Decision(
        id=new_id,
        application_id=application.id,
        model_id=application.model_id,
        outcome=outcome,
        tier=tier,
        jurisdictions=jurisdictions,
        conditions=conditions,
        reasons=reasons,
        assessed_tier=application.assessment.get("max_tier", "halted"),
        departure=departure,
        justification=justification,
        deemed=deemed,
        decided_by=decided_by,
        decided_at=now,
        valid_until=now + dt.timedelta(days=procedure.decision_valid_days),
        appeal_deadline=now + dt.timedelta(days=procedure.appeal_window_days),
    )


def _departs(
    application: Application, outcome: Outcome, tier: TierId, jurisdictions: tuple[str, ...]
) -> bool:
    """A decision departs when it is more open, or more closed, than the assessor prescribes."""
    prescribed = prescribed_tier(application)
    if outcome == "denied":
        return tier_rank(prescribed) < tier_rank("internal")
    if tier != prescribed:
        return True
    permitted = {j["group"]: j["max_tier"] for j in application.assessment.get("jurisdictions", ())}
    return any(
        tier_rank(tier) < tier_rank(permitted.get(group, "halted")) for group in jurisdictions
    )


def _check_citations(
    reasons: tuple[Reason, ...], application: Application, framework: Framework
) -> None:
    rules = citable_rules(framework)
    evidence = {e.sha256 for e in application.evidence}
    for index, reason in enumerate(reasons):
        for rule in reason.rules:
            if rule not in rules:
                raise InvalidInput(
                    f"reasons[{index}].rules: {rule!r} is not a rule, level, metric, safeguard or "
                    "procedure id of the framework"
                )
        for digest in reason.evidence:
            if digest not in evidence:
                raise InvalidInput(
                    f"reasons[{index}].evidence: {digest[:16]}... is not evidence of this "
                    "application"
                )
        if not reason.rules and not reason.evidence:
            raise InvalidInput(
                f"reasons[{index}]: a reason must cite at least one framework rule or "
                "evidence digest"
            )
