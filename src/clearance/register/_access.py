"""Access to restricted models, decided case by case; and third-party risk reports."""

from __future__ import annotations

import datetime as dt
import re

from clearance.errors import Conflict, Forbidden, InvalidInput
from clearance.framework import Framework, tier_rank
from clearance.register._deployment import DEPLOYED_RANK, cell, check_known
from clearance.register._duties import require_independent, require_role
from clearance.register._events import SCHEDULER, Change, Event
from clearance.register._records import (
    CHANNELS,
    AccessRequest,
    Grant,
    Limits,
    ModelConfig,
    Organization,
    Principal,
    RiskReport,
)
from clearance.register._status import ModelStatus

USE_CASE_ID = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,63}$")


def request_access(
    *,
    new_id: str,
    model: ModelConfig,
    principal: Principal,
    use_case: str,
    channels: tuple[str, ...],
    jurisdictions: tuple[str, ...],
    framework: Framework,
    now: dt.datetime,
) -> Change:
    """An organization asks to use a model; any principal may ask for their own organization.

    The use case is an id from the framework's closed list, or (when it lists none) an id the
    grant will carry: the gateway matches the caller's declared use case against it exactly.
    """
    if framework.use_cases:
        check_known("use case", (use_case,), tuple(sorted(framework.use_cases)), "use_case")
    elif not USE_CASE_ID.match(use_case):
        raise InvalidInput(
            f"use_case: {use_case[:60]!r} is not a use-case id (lower-case letters, digits, "
            "'-', '_', '.', ':'); callers declare it in the X-Clearance-Use-Case header"
        )
    check_known("channel", channels, CHANNELS, "channels")
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
    status: ModelStatus | None = None,
    organization: Organization | None = None,
    framework: Framework | None = None,
) -> Change:
    """A reviewer or administrator grants access within a scope, or refuses with reasons.

    A grant is checked when issued: it may open only cells of the deployment table that a grant
    can open (approved partners or more open) for the organization and every country it names.
    """
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
    if status is None or organization is None or framework is None:
        raise ValueError("a grant is checked against the model's status, organization, framework")
    check_grantable(model, status, organization, framework, request.jurisdictions)
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


def check_grantable(
    model: ModelConfig,
    status: ModelStatus,
    organization: Organization,
    framework: Framework,
    countries: tuple[str, ...],
) -> None:
    """Conflict, with the reason, when a grant to `organization` for `countries` (none: its own)
    would open what no recorded act permits."""
    if status.status == "halted":
        raise Conflict(f"model {model.name} is halted by a directive; no grant can open it")
    restricted_only = status.status == "restricted" and status.tier is None
    if status.status not in ("approved", "restricted"):
        raise Conflict(
            f"model {model.name} is {status.status}: it has no standing approval that a grant "
            "could open"
        )
    scope = status.restricted_to
    # the gateway admits any holder of a grant on a model restricted to named organizations:
    # the organizations a restriction names are the only ones a grant may open it to
    if scope is not None and scope.organizations and organization.id not in scope.organizations:
        raise Conflict(
            f"model {model.name} is restricted by a directive to "
            f"{', '.join(scope.organizations)}; a grant cannot open it to {organization.id}"
        )
    if restricted_only and (scope is None or not scope.organizations):
        raise Conflict(
            f"model {model.name} is restricted with no standing approval; a grant can open it "
            "only to the organizations its directive names"
        )
    for country in dict.fromkeys((organization.jurisdiction, *countries)):
        group = framework.group_of(country)
        group_id = group.id if group else None
        if scope is not None and scope.groups and group_id not in scope.groups:
            raise Conflict(
                f"jurisdictions: {country} (group {group_id}) is outside the groups the "
                f"directive on {model.name} still serves ({', '.join(scope.groups)})"
            )
        if restricted_only:
            continue
        sector = organization.sector if country == organization.jurisdiction else ""
        group_tier, tier = cell(status.tiers, status.sector_tiers, group_id, sector)
        if group_tier is None or tier is None:
            raise Conflict(
                f"jurisdictions: {country} (group {group_id}) is not in the decision's table "
                f"for {model.name} (it permits {', '.join(status.tiers) or 'no group'})"
            )
        if tier_rank(tier) > DEPLOYED_RANK:
            where = f"sector {sector} in group {group_id}" if tier != group_tier else group_id
            raise Conflict(
                f"the decision on {model.name} sets {where} to {tier}; a grant can open "
                "approved_partners at most"
            )


def revoke_grant(grant: Grant, admin: Principal, now: dt.datetime) -> Change:
    """An administrator withdraws a grant before its expiry."""
    require_role(admin, "admin")
    if grant.state != "active":
        raise Conflict(f"grant {grant.id} is {grant.state}")
    event = Event(
        kind="grant.revoked", subject=grant.id, model_id=grant.model_id, actor=admin.id, at=now
    )
    revoked = grant.model_copy(
        update={"state": "revoked", "revoked_by": admin.id, "revoked_at": now}
    )
    return Change((revoked,), (event,))


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
