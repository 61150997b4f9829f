"""Directives: halt, restrict or restore a model, with grounds, a hearing and a sunset."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from clearance.errors import Conflict, InvalidInput
from clearance.framework import Framework
from clearance.register._deployment import check_known
from clearance.register._duties import require_role
from clearance.register._events import SCHEDULER, Change, Event
from clearance.register._records import (
    CHANNELS,
    Directive,
    DirectiveAction,
    Grant,
    Limits,
    ModelConfig,
    Principal,
    Renewal,
    Scope,
)


def issue_directive(
    *,
    new_id: str,
    model: ModelConfig,
    admin: Principal,
    action: DirectiveAction,
    grounds: str,
    scope: Scope,
    active: Sequence[Directive],
    framework: Framework,
    grant_ids: Sequence[str],
    limits: Limits | None = None,
    now: dt.datetime,
) -> Change:
    """Issue a directive with immediate effect; it supersedes the model's active directives.

    A restore that names organizations is one act that grants each of them access: restoring a
    model to 100 agencies writes one directive, not 100 decisions.
    """
    require_role(admin, "admin")
    if action == "halt" and scope != Scope():
        raise InvalidInput("scope: a halt applies to everyone; use restrict to limit a model")
    if action == "restrict" and scope == Scope():
        raise InvalidInput(
            "scope: a restriction must name organizations, jurisdictions, groups, channels or tiers"
        )
    check_known("jurisdiction group", scope.groups, framework.group_ids(), "groups")
    check_known("channel", scope.channels, CHANNELS, "channels")
    if action == "restore" and not active:
        raise Conflict(f"model {model.name} has no active directive to restore from")
    if len(grant_ids) < len(scope.organizations):
        raise ValueError("one grant id is needed per organization")
    procedure = framework.procedure.directive
    directive = Directive(
        id=new_id,
        model_id=model.id,
        action=action,
        grounds=grounds,
        scope=scope,
        issued_by=admin.id,
        issued_at=now,
        hearing_date=now + dt.timedelta(days=framework.procedure.hearing_within_days),
        sunset_at=now + dt.timedelta(days=procedure.sunset_days),
    )
    records: list[Directive | Grant] = [directive]
    events = [
        Event(
            kind="directive.issued",
            subject=new_id,
            model_id=model.id,
            actor=admin.id,
            at=now,
            data={
                "action": action,
                "organizations": len(scope.organizations),
                "sunset_at": directive.sunset_at.isoformat(),
            },
        )
    ]
    for old in active:
        records.append(old.model_copy(update={"state": "superseded"}))
        events.append(
            Event(
                kind="directive.superseded",
                subject=old.id,
                model_id=model.id,
                actor=admin.id,
                at=now,
                data={"by": new_id},
            )
        )
    if action in ("restrict", "restore"):
        for grant_id, organization in zip(grant_ids, sorted(scope.organizations), strict=False):
            records.append(
                Grant(
                    id=grant_id,
                    organization_id=organization,
                    model_id=model.id,
                    channels=scope.channels,
                    jurisdictions=scope.jurisdictions,
                    limits=limits or Limits(),
                    expires_at=directive.sunset_at,
                    origin=new_id,
                    granted_by=admin.id,
                    granted_at=now,
                )
            )
        if scope.organizations:
            events.append(
                Event(
                    kind="grant.issued",
                    subject=new_id,
                    model_id=model.id,
                    actor=admin.id,
                    at=now,
                    data={"grants": len(scope.organizations), "origin": new_id},
                )
            )
    return Change(tuple(records), tuple(events))


def renew_directive(
    directive: Directive,
    admin: Principal,
    grounds: str,
    framework: Framework,
    now: dt.datetime,
    grants: Sequence[Grant] = (),
) -> Change:
    """Renew before the sunset: only with new grounds, not too often, not too many times.

    The grants the directive issued (among `grants`, the model's) run to the new sunset with it.
    """
    require_role(admin, "admin")
    procedure = framework.procedure.directive
    if directive.state != "active":
        raise Conflict(f"directive {directive.id} is {directive.state}; only an active one renews")
    previous = [directive.grounds, *(r.grounds for r in directive.renewals)]
    if grounds.strip() in {g.strip() for g in previous}:
        raise Conflict("a renewal needs new grounds, not the ones already given")
    if len(directive.renewals) >= procedure.max_renewals:
        raise Conflict(
            f"directive {directive.id} was renewed {len(directive.renewals)} times, the most the "
            "framework allows"
        )
    last = directive.renewals[-1].renewed_at if directive.renewals else directive.issued_at
    earliest = last + dt.timedelta(days=procedure.renewal_min_interval_days)
    if now < earliest:
        raise Conflict(
            f"directive {directive.id} can be renewed from {earliest.date().isoformat()} "
            f"({procedure.renewal_min_interval_days} days after the last act)"
        )
    sunset = now + dt.timedelta(days=procedure.sunset_days)
    renewal = Renewal(grounds=grounds, renewed_by=admin.id, renewed_at=now, sunset_at=sunset)
    updated = directive.model_copy(
        update={"renewals": (*directive.renewals, renewal), "sunset_at": sunset}
    )
    records: list[Directive | Grant] = [updated]
    events = [
        Event(
            kind="directive.renewed",
            subject=directive.id,
            model_id=directive.model_id,
            actor=admin.id,
            at=now,
            data={"sunset_at": sunset.isoformat(), "renewal": len(updated.renewals)},
        )
    ]
    for grant in grants:
        if grant.origin != directive.id or grant.state != "active":
            continue
        records.append(grant.model_copy(update={"expires_at": sunset}))
        events.append(
            Event(
                kind="grant.modified",
                subject=grant.id,
                model_id=grant.model_id,
                actor=admin.id,
                at=now,
                data={"directive": directive.id, "expires_at": sunset.isoformat()},
            )
        )
    return Change(tuple(records), tuple(events))


def expire_directive(directive: Directive, now: dt.datetime) -> Change:
    """The sunset passed without renewal: the directive no longer has effect."""
    if directive.state != "active" or now < directive.sunset_at:
        raise Conflict(f"directive {directive.id} does not expire now")
    event = Event(
        kind="directive.expired",
        subject=directive.id,
        model_id=directive.model_id,
        actor=SCHEDULER,
        at=now,
        data={"sunset_at": directive.sunset_at.isoformat()},
    )
    return Change((directive.model_copy(update={"state": "expired"}),), (event,))
