"""Appeal panels: composed by the framework's rule, ruling by majority, bound by a deadline.

The panel has `procedure.appeal_panel_size` members (odd), appointed by an administrator; none
took part in the act appealed, none belongs to or declared a conflict with the organizations
concerned. Each member votes once, with reasons; when every member has voted, the majority's
vote is the ruling and every vote is recorded in it. If the panel has not ruled by its deadline
the framework's `procedure.appeal_on_missed` applies, once: `uphold_appeal` sets the act aside,
`escalate` discharges the panel and gives a new one (without its members) a new deadline.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from clearance.errors import Conflict, Forbidden, InvalidInput
from clearance.framework import Framework
from clearance.register._duties import require_independent, require_role
from clearance.register._events import SCHEDULER, Change, Event, EventKind
from clearance.register._records import (
    AccessRequest,
    Appeal,
    Application,
    Decision,
    Directive,
    Grant,
    Principal,
    Record,
    Vote,
    VoteChoice,
)


@dataclass(frozen=True)
class AppealedAct:
    """The records a ruling acts on: those its kind of act needs."""

    decision: Decision | None = None
    application: Application | None = None
    directive: Directive | None = None
    request: AccessRequest | None = None
    grant: Grant | None = None


def appoint_panel(
    *,
    appeal: Appeal,
    admin: Principal,
    members: tuple[Principal, ...],
    interested: tuple[str, ...],
    framework: Framework,
    now: dt.datetime,
) -> Change:
    """An administrator appoints the panel; `interested` are the organizations concerned."""
    require_role(admin, "admin")
    if appeal.state != "filed":
        raise Conflict(f"appeal {appeal.id} was already ruled on")
    if appeal.votes:
        raise Conflict(f"the panel of appeal {appeal.id} has started voting; it cannot change")
    size = framework.procedure.appeal_panel_size
    ids = {m.id for m in members}
    if len(ids) != size or len(members) != size:
        raise InvalidInput(
            f"members: the framework's appeal panels have {size} different member(s); "
            f"{len(ids)} given"
        )
    for member in members:
        require_role(member, "appeal_panel")
        if member.id in appeal.excluded:
            raise Forbidden(
                f"{member.name} took part in the {appeal.act.replace('_', ' ')} appealed, or sat "
                f"on a panel that let its deadline pass, and cannot hear appeal {appeal.id}"
            )
        for organization in interested:
            require_independent(member, organization, f"appeal {appeal.id}")
    updated = appeal.model_copy(update={"panel": tuple(sorted(ids))})
    event = Event(
        kind="appeal.panel_appointed",
        subject=appeal.id,
        model_id=appeal.model_id,
        actor=admin.id,
        at=now,
        data={"panel": list(updated.panel), "decide_by": appeal.decide_by.isoformat()},
    )
    return Change((updated,), (event,))


def majority(appeal: Appeal) -> VoteChoice | None:
    """The panel's ruling once every member has voted: the vote of the majority."""
    if not appeal.panel or len(appeal.votes) < len(appeal.panel):
        return None
    counts = Counter(v.vote for v in appeal.votes)
    return "overturned" if counts["overturned"] > counts["upheld"] else "upheld"


def vote_on_appeal(
    *,
    appeal: Appeal,
    member: Principal,
    vote: VoteChoice,
    text: str,
    act: AppealedAct,
    framework: Framework,
    now: dt.datetime,
) -> Change:
    """A panel member votes once; the last vote makes the ruling."""
    if appeal.state != "filed":
        raise Conflict(f"appeal {appeal.id} was already ruled on ({appeal.state})")
    if not appeal.panel:
        raise Conflict(f"appeal {appeal.id} has no panel yet")
    if member.id not in appeal.panel:
        raise Conflict(f"{member.name} is not on the panel of appeal {appeal.id}")
    if any(v.member == member.id for v in appeal.votes):
        raise Conflict(f"{member.name} has already voted on appeal {appeal.id}")
    voted = appeal.model_copy(
        update={"votes": (*appeal.votes, Vote(member=member.id, vote=vote, text=text, at=now))}
    )
    event = Event(
        kind="appeal.vote",
        subject=appeal.id,
        model_id=appeal.model_id,
        actor=member.id,
        at=now,
        data={"vote": vote, "votes": len(voted.votes), "panel": len(voted.panel)},
    )
    ruling = majority(voted)
    if ruling is None:
        return Change((voted,), (event,))
    texts = [f"{v.member} ({v.vote}): {v.text}" for v in voted.votes if v.vote == ruling]
    settled = settle_appeal(
        appeal=voted,
        ruling=ruling,
        text="\n\n".join(texts),
        act=act,
        framework=framework,
        actor=member.id,
        now=now,
    )
    return Change(settled.records, (event, *settled.events))


def settle_appeal(
    *,
    appeal: Appeal,
    ruling: VoteChoice,
    text: str,
    act: AppealedAct,
    framework: Framework,
    actor: str,
    now: dt.datetime,
) -> Change:
    """Record the ruling and do what it means for the act appealed."""
    ruled = appeal.model_copy(
        update={"state": ruling, "ruling": text, "ruled_by": actor, "ruled_at": now}
    )
    event = Event(
        kind="appeal.ruled",
        subject=appeal.id,
        model_id=appeal.model_id,
        actor=actor,
        at=now,
        data={
            "act": appeal.act,
            "act_id": appeal.act_id or appeal.decision_id,
            "decision": appeal.decision_id,
            "ruling": ruling,
            "votes": [{"member": v.member, "vote": v.vote} for v in appeal.votes],
        },
    )
    effect = _effect(appeal, ruling, act, framework, actor, now)
    return Change((ruled, *effect.records), (event, *effect.events))


def miss_panel_deadline(
    appeal: Appeal, act: AppealedAct, framework: Framework, now: dt.datetime
) -> Change:
    """The panel did not rule by its deadline: the framework's consequence (the scheduler)."""
    if appeal.state != "filed" or now < appeal.decide_by:
        raise Conflict(f"appeal {appeal.id} is not overdue now")
    procedure = framework.procedure
    if procedure.appeal_on_missed == "uphold_appeal":
        return settle_appeal(
            appeal=appeal,
            ruling="overturned",
            text=(
                f"The panel did not rule by its deadline ({appeal.decide_by.isoformat()}); "
                "under the framework's procedure (appeal_on_missed: uphold_appeal) the appeal "
                "succeeds and the act is set aside."
            ),
            act=act,
            framework=framework,
            actor=SCHEDULER,
            now=now,
        )
    escalated = appeal.model_copy(
        update={
            "panel": (),
            "votes": (),
            "excluded": tuple(sorted({*appeal.excluded, *appeal.panel})),
            "escalations": appeal.escalations + 1,
            "decide_by": now + dt.timedelta(days=procedure.appeal_decision_days),
        }
    )
    event = Event(
        kind="appeal.escalated",
        subject=appeal.id,
        model_id=appeal.model_id,
        actor=SCHEDULER,
        at=now,
        data={
            "missed": appeal.decide_by.isoformat(),
            "decide_by": escalated.decide_by.isoformat(),
            "discharged": list(appeal.panel),
        },
    )
    return Change((escalated,), (event,))


def _effect(
    appeal: Appeal,
    ruling: VoteChoice,
    act: AppealedAct,
    framework: Framework,
    actor: str,
    now: dt.datetime,
) -> Change:
    if appeal.act == "decision":
        return _decision_effect(appeal, ruling, act, framework, actor, now)
    if ruling == "upheld":
        return Change((), ())
    records: list[Record] = []
    data = {"appeal": appeal.id}
    kind: EventKind
    if appeal.act == "directive" and act.directive is not None:
        directive = act.directive
        if directive.state != "active":
            return Change((), ())
        records.append(directive.model_copy(update={"state": "set_aside"}))
        kind, subject = "directive.set_aside", directive.id
    elif appeal.act == "access_refusal" and act.request is not None:
        request = act.request
        if request.state != "refused":
            return Change((), ())
        deciders = {request.decided_by} if request.decided_by else set()
        excluded = tuple(sorted({*request.excluded, *deciders}))
        records.append(
            request.model_copy(
                update={
                    "state": "pending",
                    "reasons": None,
                    "decided_by": None,
                    "decided_at": None,
                    "excluded": excluded,
                }
            )
        )
        kind, subject = "access.reopened", request.id
    elif appeal.act == "grant_revocation" and act.grant is not None:
        grant = act.grant
        if grant.state != "revoked":
            return Change((), ())
        records.append(
            grant.model_copy(update={"state": "active", "revoked_by": None, "revoked_at": None})
        )
        kind, subject = "grant.reinstated", grant.id
    else:
        raise ValueError(f"appeal {appeal.id} needs its {appeal.act} record")
    event = Event(
        kind=kind,
        subject=subject,
        model_id=appeal.model_id,
        actor=actor,
        at=now,
        data=data,
    )
    return Change(tuple(records), (event,))


def _decision_effect(
    appeal: Appeal,
    ruling: VoteChoice,
    act: AppealedAct,
    framework: Framework,
    actor: str,
    now: dt.datetime,
) -> Change:
    decision, application = act.decision, act.application
    if decision is None or application is None:
        raise ValueError(f"appeal {appeal.id} needs its decision and application")
    if ruling == "upheld":
        event = Event(
            kind="decision.final",
            subject=decision.id,
            model_id=decision.model_id,
            actor=actor,
            at=now,
            data={"appeal": appeal.id},
        )
        return Change((decision.model_copy(update={"final": True}),), (event,))
    overturned = {r for r in (decision.decided_by, application.reviewer_id) if r}
    reopened = application.model_copy(
        update={
            "state": "under_review",
            "decision_id": None,
            "reviewer_id": None,
            "deadline": now + dt.timedelta(days=framework.procedure.decision_days),
            "excluded_reviewers": tuple(sorted({*application.excluded_reviewers, *overturned})),
        }
    )
    event = Event(
        kind="decision.set_aside",
        subject=decision.id,
        model_id=decision.model_id,
        actor=actor,
        at=now,
        data={"appeal": appeal.id, "application": application.id},
    )
    return Change(
        (decision.model_copy(update={"final": True, "set_aside": True}), reopened), (event,)
    )
