"""Appeals: filed within the window, heard by a panel that excludes whoever decided."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from clearance.errors import Conflict, Forbidden
from clearance.framework import Framework
from clearance.register._duties import require_independent, require_member, require_role
from clearance.register._events import SCHEDULER, Change, Event
from clearance.register._records import Appeal, Application, Decision, Principal

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
    )
    event = Event(
        kind="appeal.filed",
        subject=new_id,
        model_id=decision.model_id,
        actor=principal.id,
        at=now,
        data={"decision": decision.id, "decide_by": appeal.decide_by.isoformat()},
    )
    return Change((appeal,), (event,))


def _require_eligible(member: Principal, appeal: Appeal, decision: Decision) -> None:
    require_role(member, "appeal_panel")
    if member.id == decision.decided_by:
        raise Forbidden(f"{member.name} made decision {decision.id} and cannot hear its appeal")
    require_independent(member, appeal.organization_id, f"appeal {appeal.id}")


def appoint_panel(
    appeal: Appeal,
    decision: Decision,
    admin: Principal,
    members: tuple[Principal, ...],
    now: dt.datetime,
) -> Change:
    """An administrator appoints the panel; each member must be eligible."""
    require_role(admin, "admin")
    if appeal.state != "filed":
        raise Conflict(f"appeal {appeal.id} was already ruled on")
    if not members:
        raise Conflict("a panel needs at least one member")
    for member in members:
        _require_eligible(member, appeal, decision)
    updated = appeal.model_copy(update={"panel": tuple(sorted(m.id for m in members))})
    event = Event(
        kind="appeal.panel_appointed",
        subject=appeal.id,
        model_id=appeal.model_id,
        actor=admin.id,
        at=now,
        data={"panel": list(updated.panel)},
    )
    return Change((updated,), (event,))


def rule_on_appeal(
    *,
    appeal: Appeal,
    decision: Decision,
    application: Application,
    member: Principal,
    ruling: Ruling,
    text: str,
    framework: Framework,
    now: dt.datetime,
) -> Change:
    """A panel member rules; overturning sets the decision aside and reopens the application."""
    _require_eligible(member, appeal, decision)
    if appeal.panel and member.id not in appeal.panel:
        raise Forbidden(f"{member.name} is not on the panel of appeal {appeal.id}")
    if appeal.state != "filed":
        raise Conflict(f"appeal {appeal.id} was already ruled on ({appeal.state})")
    ruled = appeal.model_copy(
        update={"state": ruling, "ruling": text, "ruled_by": member.id, "ruled_at": now}
    )
    events = [
        Event(
            kind="appeal.ruled",
            subject=appeal.id,
            model_id=appeal.model_id,
            actor=member.id,
            at=now,
            data={"decision": decision.id, "ruling": ruling},
        )
    ]
    records: list[object] = [ruled]
    if ruling == "overturned":
        records.append(decision.model_copy(update={"final": True, "set_aside": True}))
        records.append(
            application.model_copy(
                update={
                    "state": "under_review",
                    "decision_id": None,
                    "reviewer_id": None,
                    "deadline": now + dt.timedelta(days=framework.procedure.decision_days),
                }
            )
        )
        events.append(
            Event(
                kind="decision.set_aside",
                subject=decision.id,
                model_id=decision.model_id,
                actor=member.id,
                at=now,
                data={"appeal": appeal.id, "application": application.id},
            )
        )
    else:
        records.append(decision.model_copy(update={"final": True}))
        events.append(
            Event(
                kind="decision.final",
                subject=decision.id,
                model_id=decision.model_id,
                actor=member.id,
                at=now,
                data={"appeal": appeal.id},
            )
        )
    return Change(tuple(records), tuple(events))  # type: ignore[arg-type]


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
