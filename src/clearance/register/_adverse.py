"""Adverse acts and their hearings: halts and restrictions, refusals and revocations of access.

Each act opens a hearing. An urgent act takes effect at once and the hearing follows it; any
other act is only proposed (a directive `proposed`, a request `refusal_proposed`, a grant still
active) until the hearing's outcome:

- confirm: the act takes effect (or, if urgent, stands);
- modify: the act takes effect with a new scope instead (a directive becomes a restriction to
  that scope; a refusal becomes a grant within it; a revoked grant continues within it);
- revoke: the act is withdrawn (or, if urgent, undone).

A hearing whose date passes with no outcome lapses and takes the act with it: an urgent
directive lapses and the model returns to its decided status, a refusal is reopened, a
revoked grant is reinstated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from clearance.errors import Conflict, InvalidInput
from clearance.framework import Framework
from clearance.register._access import check_grantable, decide_access
from clearance.register._directives import issue_directive
from clearance.register._duties import require_role
from clearance.register._events import SCHEDULER, Change, Event
from clearance.register._hearings import check_closing, closed, lapsed, open_hearing
from clearance.register._records import (
    AccessRequest,
    Directive,
    DirectiveAction,
    Grant,
    Hearing,
    HearingOutcome,
    HearingReason,
    Limits,
    ModelConfig,
    Organization,
    Principal,
    Record,
    Scope,
)
from clearance.register._status import ModelStatus

T = TypeVar("T")

NewId = Callable[[str], str]
"""Makes a fresh record id from a prefix ("dir", "grt")."""


@dataclass(frozen=True)
class HeardAct:
    """The records a hearing's outcome acts on: those its kind of act needs."""

    model: ModelConfig
    directive: Directive | None = None
    active: tuple[Directive, ...] = ()
    """The model's directives in force (a confirmed or modified directive supersedes them)."""
    request: AccessRequest | None = None
    grant: Grant | None = None
    status: ModelStatus | None = None
    """The model's status, for an outcome that opens access (checked like any grant)."""
    organization: Organization | None = None
    """The organization whose access is heard."""


def order_directive(
    *,
    new_id: str,
    hearing_id: str,
    model: ModelConfig,
    admin: Principal,
    action: DirectiveAction,
    grounds: str,
    scope: Scope,
    urgent: bool,
    active: Sequence[Directive],
    framework: Framework,
    grant_ids: Sequence[str],
    limits: Limits | None,
    now: dt.datetime,
) -> Change:
    """Order a directive: a restoration at once; a halt or restriction with its hearing."""
    if action == "restore":
        if urgent:
            raise InvalidInput("urgent: a restoration is not adverse; it takes effect at once")
        change = issue_directive(
            new_id=new_id, model=model, admin=admin, action=action, grounds=grounds,
            scope=scope, active=active, framework=framework, grant_ids=grant_ids,
            limits=limits, now=now,
        )  # fmt: skip
        return _replace_first(change, change.records[0].model_copy(update={"limits": limits}))
    issued = issue_directive(
        new_id=new_id, model=model, admin=admin, action=action, grounds=grounds, scope=scope,
        active=active, framework=framework, grant_ids=grant_ids, limits=limits, now=now,
    )  # fmt: skip
    extra = {"urgent": urgent, "hearing_id": hearing_id, "limits": limits}
    hearing = open_hearing(
        new_id=hearing_id, act="directive", act_id=new_id, model_id=model.id,
        organization_ids=(model.organization_id,), grounds=grounds, urgent=urgent,
        opener=admin, framework=framework, now=now,
    )  # fmt: skip
    if urgent:
        return _replace_first(issued, issued.records[0].model_copy(update=extra)) + hearing
    proposed = issued.records[0].model_copy(update=extra | {"state": "proposed"})
    event = Event(
        kind="directive.proposed",
        subject=new_id,
        model_id=model.id,
        actor=admin.id,
        at=now,
        data={
            "action": action,
            "hearing": hearing_id,
            "hold_by": hearing.records[0].__dict__["hold_by"].isoformat(),
        },
    )
    return Change((proposed,), (event,)) + hearing


def refuse_access(
    *,
    request: AccessRequest,
    model: ModelConfig,
    decider: Principal,
    reasons: str,
    urgent: bool,
    hearing_id: str,
    framework: Framework,
    now: dt.datetime,
) -> Change:
    """Refuse an access request: proposed until the hearing, or at once when urgent."""
    refused = decide_access(
        request=request, model=model, decider=decider, granted=False, reasons=reasons,
        limits=Limits(), expires_at=None, grant_id="", now=now,
    )  # fmt: skip
    hearing = open_hearing(
        new_id=hearing_id, act="access_refusal", act_id=request.id, model_id=model.id,
        organization_ids=(request.organization_id,), grounds=reasons, urgent=urgent,
        opener=decider, framework=framework, now=now,
    )  # fmt: skip
    if urgent:
        return refused + hearing
    proposed = refused.records[0].model_copy(update={"state": "refusal_proposed"})
    event = Event(
        kind="access.refusal_proposed",
        subject=request.id,
        model_id=model.id,
        actor=decider.id,
        at=now,
        data={"organization": request.organization_id, "hearing": hearing_id},
    )
    return Change((proposed,), (event,)) + hearing


def revoke_access(
    *,
    grant: Grant,
    admin: Principal,
    grounds: str,
    urgent: bool,
    hearing_id: str,
    hearing_open: bool,
    framework: Framework,
    now: dt.datetime,
) -> Change:
    """Revoke a grant: proposed until the hearing, or at once when urgent."""
    require_role(admin, "admin")
    if grant.state != "active":
        raise Conflict(f"grant {grant.id} is {grant.state}")
    if hearing_open:
        raise Conflict(f"a hearing on revoking grant {grant.id} is already open")
    hearing = open_hearing(
        new_id=hearing_id, act="grant_revocation", act_id=grant.id, model_id=grant.model_id,
        organization_ids=(grant.organization_id,), grounds=grounds, urgent=urgent,
        opener=admin, framework=framework, now=now,
    )  # fmt: skip
    if not urgent:
        return hearing
    return _revoked(grant, admin.id, now) + hearing


def close_hearing(
    *,
    hearing: Hearing,
    closer: Principal,
    outcome: HearingOutcome,
    reasons: tuple[HearingReason, ...],
    scope: Scope | None,
    limits: Limits | None,
    act: HeardAct,
    framework: Framework,
    new_id: NewId,
    now: dt.datetime,
) -> Change:
    """The authority closes the hearing; the outcome acts on the act as the module says."""
    check_closing(hearing, closer, outcome, reasons, scope, limits, now)
    if hearing.act == "directive":
        effect = _directive_outcome(
            hearing, closer, outcome, scope, limits, act, framework, new_id, now
        )
    elif hearing.act == "access_refusal":
        effect = _refusal_outcome(
            hearing, closer, outcome, scope, limits, act, framework, new_id, now
        )
    else:
        effect = _revocation_outcome(hearing, closer, outcome, scope, limits, act, framework, now)
    made = Directive if hearing.act == "directive" else Grant
    result = next(
        (
            str(r.__dict__["id"])
            for r in effect.records
            if outcome == "modify" and isinstance(r, made) and r.__dict__["id"] != hearing.act_id
        ),
        None,
    )
    return closed(hearing, closer, outcome, reasons, scope, limits, result, now) + effect


def miss_hearing(hearing: Hearing, act: HeardAct, now: dt.datetime) -> Change:
    """The hearing's date passed with no outcome: the act lapses (applied by the scheduler)."""
    change = lapsed(hearing, now)
    reason = {"hearing": hearing.id, "hold_by": hearing.hold_by.isoformat()}
    if hearing.act == "directive":
        directive = _need(act.directive, hearing)
        if directive.state not in ("proposed", "active"):
            return change
        event = Event(
            kind="directive.lapsed",
            subject=directive.id,
            model_id=directive.model_id,
            actor=SCHEDULER,
            at=now,
            data=reason | {"was": directive.state},
        )
        return change + Change((directive.model_copy(update={"state": "lapsed"}),), (event,))
    if hearing.act == "access_refusal":
        request = _need(act.request, hearing)
        if request.state not in ("refusal_proposed", "refused"):
            return change
        return change + _reopened(request, SCHEDULER, now, reason)
    grant = _need(act.grant, hearing)
    if grant.state != "revoked":
        return change
    return change + _reinstated(grant, SCHEDULER, now, reason)


def _directive_outcome(
    hearing: Hearing,
    closer: Principal,
    outcome: HearingOutcome,
    scope: Scope | None,
    limits: Limits | None,
    act: HeardAct,
    framework: Framework,
    new_id: NewId,
    now: dt.datetime,
) -> Change:
    directive = _need(act.directive, hearing)
    if directive.state not in ("proposed", "active"):
        raise Conflict(
            f"directive {directive.id} is {directive.state}; the hearing cannot act on it"
        )
    if outcome == "revoke":
        event = Event(
            kind="directive.revoked",
            subject=directive.id,
            model_id=directive.model_id,
            actor=closer.id,
            at=now,
            data={"hearing": hearing.id, "was": directive.state},
        )
        return Change((directive.model_copy(update={"state": "revoked"}),), (event,))
    if outcome == "confirm":
        if directive.state == "active":
            return Change((), ())
        issued = issue_directive(
            new_id=directive.id, model=act.model, admin=closer, action=directive.action,
            grounds=directive.grounds, scope=directive.scope, active=act.active,
            framework=framework, grant_ids=[new_id("grt") for _ in directive.scope.organizations],
            limits=directive.limits, now=now,
        )  # fmt: skip
        effective = issued.records[0].model_copy(
            update={
                "issued_by": directive.issued_by,
                "hearing_id": hearing.id,
                "limits": directive.limits,
            }
        )
        return _replace_first(issued, effective)
    new_scope = scope or Scope()
    if new_scope == Scope():
        raise InvalidInput("scope: a modified directive needs the scope it is to have")
    modified_id = new_id("dir")
    issued = issue_directive(
        new_id=modified_id, model=act.model, admin=closer, action="restrict",
        grounds=f"Modified after hearing {hearing.id}: {directive.grounds}"[:20_000],
        scope=new_scope, active=act.active, framework=framework,
        grant_ids=[new_id("grt") for _ in new_scope.organizations], limits=limits, now=now,
    )  # fmt: skip
    modified = issued.records[0].model_copy(update={"hearing_id": hearing.id, "limits": limits})
    change = _replace_first(issued, modified)
    if directive.state == "proposed":
        event = Event(
            kind="directive.superseded",
            subject=directive.id,
            model_id=directive.model_id,
            actor=closer.id,
            at=now,
            data={"by": modified_id},
        )
        change += Change((directive.model_copy(update={"state": "superseded"}),), (event,))
    return change


def _refusal_outcome(
    hearing: Hearing,
    closer: Principal,
    outcome: HearingOutcome,
    scope: Scope | None,
    limits: Limits | None,
    act: HeardAct,
    framework: Framework,
    new_id: NewId,
    now: dt.datetime,
) -> Change:
    request = _need(act.request, hearing)
    if request.state not in ("refusal_proposed", "refused"):
        raise Conflict(f"access request {request.id} is {request.state}; nothing to act on")
    if outcome == "revoke":
        return _reopened(request, closer.id, now, {"hearing": hearing.id})
    if outcome == "confirm":
        if request.state == "refused":
            return Change((), ())
        event = Event(
            kind="access.refused",
            subject=request.id,
            model_id=request.model_id,
            actor=closer.id,
            at=now,
            data={"organization": request.organization_id, "hearing": hearing.id},
        )
        return Change(
            (request.model_copy(update={"state": "refused", "decided_at": now}),), (event,)
        )
    new_scope = scope or Scope()
    channels = new_scope.channels or request.channels
    _check_channels(act, channels)
    _check_opening(act, framework, new_scope.jurisdictions or request.jurisdictions)
    grant = Grant(
        id=new_id("grt"),
        organization_id=request.organization_id,
        model_id=request.model_id,
        channels=channels,
        use_cases=(request.use_case,),
        jurisdictions=new_scope.jurisdictions or request.jurisdictions,
        limits=limits or Limits(),
        origin=request.id,
        granted_by=closer.id,
        granted_at=now,
    )
    granted = request.model_copy(
        update={
            "state": "granted",
            "decided_by": closer.id,
            "decided_at": now,
            "grant_id": grant.id,
        }
    )
    events = (
        Event(
            kind="access.granted",
            subject=request.id,
            model_id=request.model_id,
            actor=closer.id,
            at=now,
            data={"grant": grant.id, "hearing": hearing.id},
        ),
        Event(
            kind="grant.issued",
            subject=grant.id,
            model_id=request.model_id,
            actor=closer.id,
            at=now,
            data={"origin": request.id, "hearing": hearing.id},
        ),
    )
    return Change((granted, grant), events)


def _revocation_outcome(
    hearing: Hearing,
    closer: Principal,
    outcome: HearingOutcome,
    scope: Scope | None,
    limits: Limits | None,
    act: HeardAct,
    framework: Framework,
    now: dt.datetime,
) -> Change:
    grant = _need(act.grant, hearing)
    if grant.state not in ("active", "revoked"):
        raise Conflict(f"grant {grant.id} is {grant.state}; the hearing cannot act on it")
    if outcome == "confirm":
        if grant.state == "revoked":
            return Change((), ())
        return _revoked(grant, hearing.opened_by, now, closer.id)
    if outcome == "revoke":
        if grant.state == "active":
            return Change((), ())
        return _reinstated(grant, closer.id, now, {"hearing": hearing.id})
    new_scope = scope or Scope()
    _check_channels(act, new_scope.channels)
    if new_scope.jurisdictions:
        _check_opening(act, framework, new_scope.jurisdictions)
    modified = grant.model_copy(
        update={
            "state": "active",
            "channels": new_scope.channels or grant.channels,
            "jurisdictions": new_scope.jurisdictions or grant.jurisdictions,
            "limits": limits or grant.limits,
            "revoked_by": None,
            "revoked_at": None,
        }
    )
    event = Event(
        kind="grant.modified",
        subject=grant.id,
        model_id=grant.model_id,
        actor=closer.id,
        at=now,
        data={"hearing": hearing.id, "reinstated": grant.state == "revoked"},
    )
    return Change((modified,), (event,))


def _check_channels(act: HeardAct, channels: tuple[str, ...]) -> None:
    """An outcome gives access only on the channels the model is offered on."""
    unknown = sorted(set(channels) - set(act.model.channels))
    if unknown:
        raise InvalidInput(
            f"scope.channels: model {act.model.name} is not offered on {', '.join(unknown)}"
        )


def _check_opening(act: HeardAct, framework: Framework, countries: tuple[str, ...]) -> None:
    """An outcome that opens access is checked against the decision like any grant."""
    if act.status is None or act.organization is None:
        raise ValueError("an outcome that opens access needs the model's status and organization")
    check_grantable(act.model, act.status, act.organization, framework, countries)


def _revoked(grant: Grant, revoked_by: str, now: dt.datetime, actor: str | None = None) -> Change:
    change = _revoke(grant, actor or revoked_by, now)
    record = change.records[0].model_copy(update={"revoked_by": revoked_by, "revoked_at": now})
    return _replace_first(change, record)


def _revoke(grant: Grant, actor: str, now: dt.datetime) -> Change:
    # the administrator's role was checked when the revocation was ordered
    if grant.state != "active":
        raise Conflict(f"grant {grant.id} is {grant.state}")
    event = Event(
        kind="grant.revoked", subject=grant.id, model_id=grant.model_id, actor=actor, at=now
    )
    return Change((grant.model_copy(update={"state": "revoked"}),), (event,))


def _reinstated(grant: Grant, actor: str, now: dt.datetime, data: dict[str, str]) -> Change:
    event = Event(
        kind="grant.reinstated",
        subject=grant.id,
        model_id=grant.model_id,
        actor=actor,
        at=now,
        data=data,
    )
    record = grant.model_copy(update={"state": "active", "revoked_by": None, "revoked_at": None})
    return Change((record,), (event,))


def _reopened(request: AccessRequest, actor: str, now: dt.datetime, data: dict[str, str]) -> Change:
    event = Event(
        kind="access.reopened",
        subject=request.id,
        model_id=request.model_id,
        actor=actor,
        at=now,
        data=data | {"organization": request.organization_id},
    )
    record = request.model_copy(
        update={"state": "pending", "reasons": None, "decided_by": None, "decided_at": None}
    )
    return Change((record,), (event,))


def _need(record: T | None, hearing: Hearing) -> T:
    if record is None:
        raise ValueError(f"hearing {hearing.id} needs its {hearing.act} record")
    return record


def _replace_first(change: Change, record: Record) -> Change:
    return Change((record, *change.records[1:]), change.events, change.removed)
