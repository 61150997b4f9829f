"""Hearings: the organization an adverse act affects is heard, on a clock that binds the authority.

A hearing opens with the act: before it takes effect, or after it when the act is urgent. Its
date comes from the framework (`procedure.hearing_within_days`). Until then the affected
organization files written submissions (text and evidence digests); the authority closes the
hearing with an outcome (confirm, modify, revoke) and reasons that answer every submission. What
each outcome does to the act, and what a missed date does, is in `_adverse`.
"""

from __future__ import annotations

import datetime as dt

from clearance.errors import Conflict, Forbidden, InvalidInput
from clearance.framework import Framework
from clearance.register._duties import require_independent, require_role
from clearance.register._events import SCHEDULER, Change, Event
from clearance.register._records import (
    Hearing,
    HearingAct,
    HearingOutcome,
    HearingReason,
    Limits,
    Principal,
    Scope,
    Submission,
)


def open_hearing(
    *,
    new_id: str,
    act: HearingAct,
    act_id: str,
    model_id: str,
    organization_ids: tuple[str, ...],
    grounds: str,
    urgent: bool,
    opener: Principal | str,
    framework: Framework,
    now: dt.datetime,
) -> Change:
    """Open the hearing on an act; its date is `procedure.hearing_within_days` from now.

    `opener` is the principal who ordered the act, or the scheduler for a breach consequence.
    """
    opened_by = opener if isinstance(opener, str) else opener.id
    hearing = Hearing(
        id=new_id,
        act=act,
        act_id=act_id,
        model_id=model_id,
        organization_ids=tuple(sorted(set(organization_ids))),
        grounds=grounds,
        urgent=urgent,
        opened_by=opened_by,
        opened_at=now,
        hold_by=now + dt.timedelta(days=framework.procedure.hearing_within_days),
    )
    event = Event(
        kind="hearing.opened",
        subject=new_id,
        model_id=model_id,
        actor=opened_by,
        at=now,
        data={
            "act": act,
            "act_id": act_id,
            "urgent": urgent,
            "timing": "after the act" if urgent else "before the act",
            "hold_by": hearing.hold_by.isoformat(),
            "organizations": list(hearing.organization_ids),
        },
    )
    return Change((hearing,), (event,))


def file_submission(
    *,
    new_id: str,
    hearing: Hearing,
    principal: Principal,
    text: str,
    evidence: tuple[str, ...],
    now: dt.datetime,
) -> Change:
    """The affected organization files a written submission while the hearing is open."""
    if principal.organization_id not in hearing.organization_ids:
        raise Forbidden(
            f"only the organization the act affects may make submissions at hearing {hearing.id}"
        )
    if hearing.state != "open":
        raise Conflict(f"hearing {hearing.id} is {hearing.state}; it takes no more submissions")
    if now >= hearing.hold_by:
        raise Conflict(
            f"hearing {hearing.id} was to be held by {hearing.hold_by.isoformat()}; it takes no "
            "more submissions"
        )
    submission = Submission(
        id=new_id, text=text, evidence=evidence, filed_by=principal.id, filed_at=now
    )
    updated = hearing.model_copy(update={"submissions": (*hearing.submissions, submission)})
    event = Event(
        kind="hearing.submission",
        subject=hearing.id,
        model_id=hearing.model_id,
        actor=principal.id,
        at=now,
        data={"submission": new_id, "evidence": list(evidence)},
    )
    return Change((updated,), (event,))


def check_closing(
    hearing: Hearing,
    closer: Principal,
    outcome: HearingOutcome,
    reasons: tuple[HearingReason, ...],
    scope: Scope | None,
    limits: Limits | None,
    now: dt.datetime,
) -> None:
    """Refuse an outcome the authority may not give: wrong person, too late, or unanswered."""
    if hearing.act == "access_refusal":
        require_role(closer, "admin", "reviewer")
    else:
        require_role(closer, "admin")
    for organization in hearing.organization_ids:
        require_independent(closer, organization, f"hearing {hearing.id}")
    if hearing.state != "open":
        raise Conflict(f"hearing {hearing.id} is already {hearing.state}")
    if now >= hearing.hold_by:
        raise Conflict(
            f"hearing {hearing.id} was to be held by {hearing.hold_by.isoformat()}; the date "
            "passed with no outcome, so the act lapses"
        )
    if not reasons:
        raise InvalidInput("reasons: an outcome needs reasons")
    known = {s.id for s in hearing.submissions}
    answered: set[str] = set()
    for index, reason in enumerate(reasons):
        unknown = sorted(set(reason.answers) - known)
        if unknown:
            raise InvalidInput(
                f"reasons[{index}].answers: {', '.join(unknown)} is not a submission of "
                f"hearing {hearing.id}"
            )
        answered |= set(reason.answers)
    unanswered = sorted(known - answered)
    if unanswered:
        raise InvalidInput(
            f"reasons: the outcome must answer every submission; {', '.join(unanswered)} "
            "is not answered"
        )
    if outcome == "modify" and (scope is None or scope == Scope()) and limits is None:
        raise InvalidInput("scope: a modified act needs the new scope (or limits) it is to have")
    if outcome != "modify" and (scope is not None or limits is not None):
        raise InvalidInput("scope: only an outcome that modifies the act takes a new scope")


def closed(
    hearing: Hearing,
    closer: Principal,
    outcome: HearingOutcome,
    reasons: tuple[HearingReason, ...],
    scope: Scope | None,
    limits: Limits | None,
    result_id: str | None,
    now: dt.datetime,
) -> Change:
    """The hearing closed with its outcome and reasons (the act's side is added by the caller)."""
    updated = hearing.model_copy(
        update={
            "state": "closed",
            "outcome": outcome,
            "reasons": reasons,
            "scope": scope,
            "limits": limits,
            "result_id": result_id,
            "closed_by": closer.id,
            "closed_at": now,
        }
    )
    event = Event(
        kind="hearing.closed",
        subject=hearing.id,
        model_id=hearing.model_id,
        actor=closer.id,
        at=now,
        data={
            "act": hearing.act,
            "act_id": hearing.act_id,
            "outcome": outcome,
            "submissions": len(hearing.submissions),
            "result": result_id,
        },
    )
    return Change((updated,), (event,))


def lapsed(hearing: Hearing, now: dt.datetime) -> Change:
    """The hearing's date passed with no outcome (applied by the scheduler)."""
    if hearing.state != "open" or now < hearing.hold_by:
        raise Conflict(f"hearing {hearing.id} does not lapse now")
    event = Event(
        kind="hearing.lapsed",
        subject=hearing.id,
        model_id=hearing.model_id,
        actor=SCHEDULER,
        at=now,
        data={
            "act": hearing.act,
            "act_id": hearing.act_id,
            "hold_by": hearing.hold_by.isoformat(),
        },
    )
    return Change((hearing.model_copy(update={"state": "lapsed"}),), (event,))
