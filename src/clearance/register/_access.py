"""Access to restricted models, decided case by case; and third-party risk reports."""

from __future__ import annotations

import datetime as dt

from clearance.errors import Conflict, Forbidden, InvalidInput
from clearance.register._duties import require_independent, require_role
from clearance.register._events import SCHEDULER, Change, Event
from clearance.register._records import (
    AccessRequest,
    Grant,
    Limits,
    ModelConfig,
    Principal,
    RiskReport,
)


def request_access(
    *,
    new_id: str,
    model: ModelConfig,
    principal: Principal,
    use_case: str,
    channels: tuple[str, ...],
    jurisdictions: tuple[str, ...],
    now: dt.datetime,
) -> Change:
    """An organization asks to use a model; any principal may ask for their own organization."""
    unknown = sorted(set(channels) - set(model.channels))
    if unknown:
        raise InvalidInput(
            f"channels: model {model.name} is not offered on {', '.join(unknown)} "
            f"(it is on {', '.join(model.channels)})"
        )
    request = AccessRequest(
        id=new_id,
        organization_id=principal.organization_id,
        model_id=model.id,
        use_case=use_case,
        channels=channels,
        jurisdictions=jurisdictions,
        filed_by=principal.id,
        filed_at=now,
    )
    event = Event(
        kind="access.requested",
        subject=new_id,
        model_id=model.id,
        actor=principal.id,
        at=now,
        data={"organization": principal.organization_id},
    )
    return Change((request,), (event,))


def decide_access(
    *,
    request: AccessRequest,
    model: ModelConfig,
    decider: Principal,
    granted: bool,
    reasons: str,
    limits: Limits,
    expires_at: dt.datetime | None,
    grant_id: str,
    now: dt.datetime,
) -> Change:
    """A reviewer or administrator grants access within a scope, or refuses with reasons."""
    require_role(decider, "reviewer", "admin")
    require_independent(decider, request.organization_id, f"access request {request.id}")
    require_independent(decider, model.organization_id, f"model {model.name}")
    if decider.id in request.excluded:
        raise Forbidden(
            f"{decider.name}'s refusal of access request {request.id} was overturned on appeal; "
            "another reviewer decides it"
        )
    if request.state != "pending":
        raise Conflict(f"access request {request.id} was already {request.state}")
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("expires_at: a grant must expire in the future")
    if not granted:
        refused = request.model_copy(
            update={
                "state": "refused",
                "reasons": reasons,
                "decided_by": decider.id,
                "decided_at": now,
            }
        )
        event = Event(
            kind="access.refused",
            subject=request.id,
            model_id=model.id,
            actor=decider.id,
            at=now,
            data={"organization": request.organization_id},
        )
        return Change((refused,), (event,))
    grant = Grant(
        id=grant_id,
        organization_id=request.organization_id,
        model_id=model.id,
        channels=request.channels,
        use_cases=(request.use_case,),
        jurisdictions=request.jurisdictions,
        limits=limits,
        expires_at=expires_at,
        origin=request.id,
        granted_by=decider.id,
        granted_at=now,
    )
    accepted = request.model_copy(
        update={
            "state": "granted",
            "reasons": reasons,
            "decided_by": decider.id,
            "decided_at": now,
            "grant_id": grant_id,
        }
    )
    events = (
        Event(
            kind="access.granted",
            subject=request.id,
            model_id=model.id,
            actor=decider.id,
            at=now,
            data={"grant": grant_id},
        ),
        Event(
            kind="grant.issued",
            subject=grant_id,
            model_id=model.id,
            actor=decider.id,
            at=now,
            data={
                "origin": request.id,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        ),
    )
    return Change((accepted, grant), events)


def revoke_grant(grant: Grant, admin: Principal, now: dt.datetime) -> Change:
    """An administrator withdraws a grant before its expiry."""
    require_role(admin, "admin")
    if grant.state != "active":
        raise Conflict(f"grant {grant.id} is {grant.state}")
    event = Event(
        kind="grant.revoked", subject=grant.id, model_id=grant.model_id, actor=admin.id, at=now
    )
    return Change((grant.model_copy(update={"state": "revoked"}),), (event,))


def expire_grant(grant: Grant, now: dt.datetime) -> Change:
    """The grant reached its expiry."""
    if grant.state != "active" or grant.expires_at is None or now < grant.expires_at:
        raise Conflict(f"grant {grant.id} does not expire now")
    event = Event(
        kind="grant.expired", subject=grant.id, model_id=grant.model_id, actor=SCHEDULER, at=now
    )
    return Change((grant.model_copy(update={"state": "expired"}),), (event,))


def file_report(
    *,
    new_id: str,
    model: ModelConfig,
    principal: Principal,
    title: str,
    summary: str,
    conflict_of_interest: str,
    now: dt.datetime,
) -> Change:
    """A third party files a risk report; its conflict-of-interest disclosure is published."""
    if not conflict_of_interest.strip():
        raise InvalidInput(
            'conflict_of_interest: a disclosure is mandatory; write "None" if there is none'
        )
    report = RiskReport(
        id=new_id,
        model_id=model.id,
        organization_id=principal.organization_id,
        filed_by=principal.id,
        title=title,
        summary=summary,
        conflict_of_interest=conflict_of_interest,
        filed_at=now,
    )
    event = Event(
        kind="report.filed",
        subject=new_id,
        model_id=model.id,
        actor=principal.id,
        at=now,
        data={"organization": principal.organization_id},
    )
    return Change((report,), (event,))


def warn_grant_expiry(grant: Grant, now: dt.datetime) -> Change:
    """The grant expires within the notice period: recorded once, so its holder is told."""
    if grant.state != "active" or grant.expires_at is None or now >= grant.expires_at:
        raise Conflict(f"grant {grant.id} is not about to expire")
    event = Event(
        kind="grant.expiring",
        subject=grant.id,
        model_id=grant.model_id,
        actor=SCHEDULER,
        at=now,
        data={"expires_at": grant.expires_at.isoformat(), "organization": grant.organization_id},
    )
    return Change((), (event,))
