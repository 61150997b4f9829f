"""Decisions on applications: a reviewer's, with reasons and a deployment table, or a deemed one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from clearance.errors import Conflict, InvalidInput
from clearance.framework import RULES, Framework, TierId, most_closed, tier_rank
from clearance.register._applications import require_reviewer_of
from clearance.register._deployment import DEPLOYED_RANK, Table, decided_table, prescribed_table
from clearance.register._events import SCHEDULER, Change, Event
from clearance.register._obligations import Condition, Settled, impose, settle_conditions
from clearance.register._records import (
    Application,
    ConditionDeparture,
    Decision,
    Outcome,
    Principal,
    Reason,
)
from clearance.register._testing import contradicted, governing_assessment, require_testing_access


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


def prescribed_tier(application: Application) -> TierId:
    """The tier the assessor prescribes for what was requested: the more closed of the two."""
    assessed: TierId = governing_assessment(application).get("max_tier", "halted")
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
    conditions: tuple[str | Condition, ...],
    reasons: tuple[Reason, ...],
    justification: str | None,
    now: dt.datetime,
    tiers: Mapping[str, TierId] | None = None,
    sector_tiers: Mapping[str, Mapping[str, TierId]] | None = None,
) -> Change:
    """The reviewer decides with written reasons and a deployment table within the caps.

    `tier` in each of `jurisdictions`, or `tiers` per group, with `sector_tiers` per group and
    sector. A cell above its prescription needs a justification and is recorded as a departure;
    refusing what the assessment would deploy needs one too. An approval whose table is empty
    approves internal deployment by the developer only. Each condition becomes an obligation;
    dropping or weakening one that a framework rule requires is a departure too. Once the
    authority has filed its own evidence the caps come from the assessment over both sides'; a
    reason that relies on the developer's evidence where the authority's contradicts it is a
    departure too.
    """
    require_reviewer_of(application, reviewer)
    if application.state != "under_review":
        raise Conflict(
            f"application {application.id} is {application.state}; only an application under "
            "review can be decided"
        )
    _check_citations(reasons, application, framework)
    disputed = contradicted(application)
    relied = sorted({d for r in reasons for d in r.evidence if d in disputed})
    justified = bool(justification and justification.strip())
    if relied and outcome != "denied" and not justified:
        raise InvalidInput(
            f"justification: the reasons rely on the developer's evidence {relied[0][:16]}..., "
            "which the authority's own run contradicts; relying on it is a departure that needs "
            "a written justification"
        )
    if outcome == "approved" and conditions:
        raise InvalidInput("outcome: a decision with conditions is approved_with_conditions")
    if outcome == "denied" and conditions:
        raise InvalidInput("conditions: a denial deploys nowhere and takes no conditions")
    if outcome == "approved_with_conditions" and not conditions:
        raise InvalidInput("conditions: approved_with_conditions needs at least one condition")
    settled: tuple[Settled, ...] = ()
    condition_departures: tuple[ConditionDeparture, ...] = ()
    if outcome != "denied":
        settled, condition_departures = settle_conditions(
            conditions, governing_assessment(application), framework
        )
        if condition_departures and not justified:
            first = condition_departures[0]
            raise InvalidInput(
                f"justification: the condition rule {first.rule} requires ({first.text!r}) is "
                f"{first.change}: {first.detail}; a departure needs a written justification (or "
                "keep the condition on the rule's terms)"
            )
    if outcome == "denied":
        if tiers or sector_tiers:
            raise InvalidInput("tiers: a denial deploys nowhere; leave tiers empty")
        table = Table({}, {})
        refuses_deployable = tier_rank(prescribed_tier(application)) <= DEPLOYED_RANK
        if refuses_deployable and not justified:
            raise InvalidInput(
                "justification: the assessment permits deployment (prescribed tier "
                f"{prescribed_tier(application)}), so a denial needs a written justification"
            )
        departure = refuses_deployable
    else:
        table = decided_table(
            assessment=governing_assessment(application),
            requested=application.requested_tier,
            requested_groups=application.requested_jurisdictions,
            framework=framework,
            tier=tier,
            jurisdictions=jurisdictions,
            tiers=tiers,
            sector_tiers=sector_tiers or {},
            justified=justified,
        )
        departure = bool(table.departures) or bool(condition_departures) or bool(relied)
    decision = _decision(
        new_id=new_id,
        application=application,
        framework=framework,
        outcome=outcome,
        table=table,
        conditions=tuple(c.text for c in settled),
        reasons=reasons,
        departure=departure,
        justification=justification if departure else None,
        deemed=False,
        decided_by=reviewer.id,
        now=now,
    ).model_copy(update={"condition_departures": condition_departures})
    obligations = impose(
        decision=decision, organization_id=application.organization_id, settled=settled, now=now
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
            "tiers": decision.tiers,
            "sector_tiers": decision.sector_tiers,
            "departure": departure,
            "departures": [d.model_dump(mode="json") for d in decision.departures],
            "condition_departures": [
                d.model_dump(mode="json") for d in decision.condition_departures
            ],
            "obligations": [o.id for o in obligations],
            **({"contradicted_evidence": relied} if relied else {}),
        },
    )
    return Change((updated, decision, *obligations), (event,))


def deem_decision(
    *, new_id: str, application: Application, framework: Framework, now: dt.datetime
) -> Change:
    """The deadline passed without a decision: the framework's deemed-approval rule applies.

    Each requested group gets the more closed of the rule's tier and that group's cap, each
    sector its own cap; a group where that admits nobody beyond the developer is left out.
    """
    if application.state not in ("filed", "under_review", "information_requested"):
        raise Conflict(f"application {application.id} is {application.state}; nothing to deem")
    require_testing_access(application)
    if application.clock_stopped_at is not None:
        raise Conflict(f"application {application.id}'s clock is stopped; nothing to deem")
    if now < application.deadline:
        raise Conflict(f"application {application.id} is not overdue until {application.deadline}")
    rule = framework.procedure.deemed_approval
    if not rule.enabled:
        raise Conflict("this framework has no deemed approval")
    table = prescribed_table(
        governing_assessment(application),
        application.requested_tier,
        application.requested_jurisdictions,
        as_assessed=rule.tier == "as_assessed",
    )
    settled, _ = settle_conditions(
        tuple(governing_assessment(application).get("conditions", ())),
        governing_assessment(application),
        framework,
    )
    conditions = tuple(c.text for c in settled)
    deadline = application.deadline.date().isoformat()
    if not table.tiers:
        text = (
            f"No decision was made by the deadline ({deadline}); the framework deems the "
            "application decided at the tiers the assessment permits, and they permit no "
            "deployment in any requested jurisdiction group, so it stands refused."
        )
        outcome: Outcome = "denied"
    else:
        cells = ", ".join(f"{group}: {tier}" for group, tier in table.tiers.items())
        text = (
            f"Deemed approved: no decision was made by the deadline ({deadline}); under the "
            "framework's procedure the application is approved in each requested group at the "
            f"tier the assessment permits there ({cells}), each sector within its cap."
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
        table=table,
        conditions=conditions,
        reasons=(reason,),
        departure=False,
        justification=None,
        deemed=True,
        decided_by=None,
        now=now,
    )
    obligations = impose(
        decision=decision,
        organization_id=application.organization_id,
        settled=settled if outcome != "denied" else (),
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
            "tier": decision.tier,
            "tiers": decision.tiers,
            "sector_tiers": decision.sector_tiers,
            "deadline": application.deadline.isoformat(),
            "obligations": [o.id for o in obligations],
        },
    )
    return Change((updated, decision, *obligations), (event,))


def _decision(
    *,
    new_id: str,
    application: Application,
    framework: Framework,
    outcome: Outcome,
    table: Table,
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
        tier=table.most_open if table.tiers or outcome == "denied" else "internal",
        jurisdictions=tuple(table.tiers),
        tiers=table.tiers,
        sector_tiers=table.sector_tiers,
        conditions=conditions,
        reasons=reasons,
        assessed_tier=governing_assessment(application).get("max_tier", "halted"),
        departure=departure,
        departures=table.departures,
        justification=justification,
        deemed=deemed,
        decided_by=decided_by,
        decided_at=now,
        valid_until=now + dt.timedelta(days=procedure.decision_valid_days),
        appeal_deadline=now + dt.timedelta(days=procedure.appeal_window_days),
    )


def _check_citations(
    reasons: tuple[Reason, ...], application: Application, framework: Framework
) -> None:
    rules = citable_rules(framework)
    evidence = {e.sha256 for e in (*application.evidence, *application.authority_evidence)}
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
