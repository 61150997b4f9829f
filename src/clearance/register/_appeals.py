"""Appeals of adverse acts: filed within the window, by the party the act affects.

Decisions are appealed by the applicant; directives by the model's developer; refusals and
revocations of access by the organization refused or revoked. Panels, votes and the panel's
deadline are in `_panels`.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from clearance.errors import Conflict
from clearance.framework import Framework
from clearance.register._duties import require_member, require_role
from clearance.register._events import SCHEDULER, Change, Event
from clearance.register._records import Appeal, AppealAct, Application, Decision, Principal

Ruling = Literal["upheld", "overturned", "dismissed"]


def file_appeal(
    *,
    new_id: str,
    decision: Decision,
    application: Application,
    principal: Principal,
    grounds: str,
    framework: Framework,
    pending: bool,
    now: dt.datetime,
    framework_digest: str | None = None,
) -> Change:
    """The applicant appeals a decision before the window closes."""
    require_role(principal, "developer")
    require_member(principal, application.organization_id, f"decision {decision.id}")
    if decision.final:
        raise Conflict(f"decision {decision.id} is final; it can no longer be appealed")
    if now >= decision.appeal_deadline:
        raise Conflict(
            f"the appeal window for decision {decision.id} closed on {decision.appeal_deadline}"
        )
    if pending:
        raise Conflict(f"decision {decision.id} already has an appeal pending")
    appeal = Appeal(
        id=new_id,
        decision_id=decision.id,
        model_id=decision.model_id,
        organization_id=application.organization_id,
        grounds=grounds,
        filed_by=principal.id,
        filed_at=now,
        decide_by=now + dt.timedelta(days=framework.procedure.appeal_decision_days),
        act="decision",
        act_id=decision.id,
        framework_digest=framework_digest,
        excluded=tuple(p for p in (decision.decided_by, application.reviewer_id) if p),
    )
    event = Event(
        kind="appeal.filed",
        subject=new_id,
        model_id=decision.model_id,
        actor=principal.id,
        at=now,
        data={
            "act": "decision",
            "decision": decision.id,
            "decide_by": appeal.decide_by.isoformat(),
        },
    )
    return Change((appeal,), (event,))


def file_act_appeal(
    *,
    new_id: str,
    act: AppealAct,
    act_id: str,
    model_id: str,
    organization_id: str,
    principal: Principal,
    grounds: str,
    framework: Framework,
    framework_digest: str | None,
    participants: tuple[str, ...],
    window_opened_at: dt.datetime,
    not_appealable: str | None,
    pending: bool,
    now: dt.datetime,
) -> Change:
    """The affected organization appeals a directive, a refusal or a revocation of access.

    `window_opened_at` is when the act took its final form (took effect, or its hearing closed);
    `not_appealable` says why the act cannot be appealed now (None when it can).
    """
    require_member(principal, organization_id, f"the {act.replace('_', ' ')} {act_id}")
    if not_appealable is not None:
        raise Conflict(not_appealable)
    closes = window_opened_at + dt.timedelta(days=framework.procedure.appeal_window_days)
    if now >= closes:
        raise Conflict(
            f"the appeal window for the {act.replace('_', ' ')} {act_id} closed on "
            f"{closes.isoformat()}"
        )
    if pending:
        raise Conflict(f"the {act.replace('_', ' ')} {act_id} already has an appeal pending")
    appeal = Appeal(
        id=new_id,
        model_id=model_id,
        organization_id=organization_id,
        grounds=grounds,
        filed_by=principal.id,
        filed_at=now,
        decide_by=now + dt.timedelta(days=framework.procedure.appeal_decision_days),
        act=act,
        act_id=act_id,
        framework_digest=framework_digest,
        excluded=tuple(sorted(set(participants))),
    )
    event = Event(
        kind="appeal.filed",
        subject=new_id,
        model_id=model_id,
        actor=principal.id,
        at=now,
        data={"act": act, "act_id": act_id, "decide_by": appeal.decide_by.isoformat()},
    )
    return Change((appeal,), (event,))


def lapse_decision(decision: Decision, now: dt.datetime) -> Change:
    """The approval's validity ended: recorded once, so the model's status reads lapsed."""
    if decision.lapsed or decision.outcome == "denied" or now < decision.valid_until:
        raise Conflict(f"decision {decision.id} does not lapse now")
    event = Event(
        kind="decision.lapsed",
        subject=decision.id,
        model_id=decision.model_id,
        actor=SCHEDULER,
        at=now,
        data={"valid_until": decision.valid_until.isoformat()},
    )
    return Change((decision.model_copy(update={"lapsed": True}),), (event,))


def close_appeal_window(decision: Decision, pending: bool, now: dt.datetime) -> Change:
    """The window closed with no appeal pending: the decision becomes final."""
    if decision.final or pending or now < decision.appeal_deadline:
        raise Conflict(f"decision {decision.id} cannot become final now")
    final = decision.model_copy(update={"final": True})
    event = Event(
        kind="decision.final",
        subject=decision.id,
        model_id=decision.model_id,
        actor=SCHEDULER,
        at=now,
        data={"reason": "appeal window closed"},
    )
    return Change((final,), (event,))
