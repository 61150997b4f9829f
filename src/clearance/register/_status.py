"""A model's public status: what its decisions and directives add up to at a given time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pydantic import Field

from clearance.framework import TierId
from clearance.register._records import (
    Application,
    Decision,
    Directive,
    ModelConfig,
    ModelStatusName,
    Record,
    Scope,
)


class ModelStatus(Record):
    """What a model may do now: status, tier, jurisdictions, and the acts that set them."""

    model_id: str
    name: str
    organization_id: str
    status: ModelStatusName
    tier: TierId | None = None
    jurisdictions: tuple[str, ...] = ()
    tiers: dict[str, TierId] = Field(default_factory=dict)
    """The standing decision's table: jurisdiction group to tier."""
    sector_tiers: dict[str, dict[str, TierId]] = Field(default_factory=dict)
    conditions: tuple[str, ...] = ()
    decision_id: str | None = None
    directive_id: str | None = None
    restricted_to: Scope | None = None
    pending_application_id: str | None = None
    valid_until: dt.datetime | None = None


def model_status(
    model: ModelConfig,
    decisions: Sequence[Decision],
    directives: Sequence[Directive],
    applications: Sequence[Application],
    now: dt.datetime,
) -> ModelStatus:
    """The status a directive, else the latest standing decision, gives the model at `now`."""
    pending = next(
        (
            a
            for a in sorted(applications, key=lambda a: a.filed_at, reverse=True)
            if a.state in ("filed", "under_review", "information_requested")
        ),
        None,
    )
    standing = [d for d in decisions if not d.set_aside]
    decision = max(standing, key=lambda d: d.decided_at) if standing else None
    active = [d for d in directives if d.state == "active" and d.sunset_at > now]
    directive = max(active, key=lambda d: d.issued_at) if active else None
    base = ModelStatus(
        model_id=model.id,
        name=model.name,
        organization_id=model.organization_id,
        status="pending" if pending else "unreviewed",
        pending_application_id=pending.id if pending else None,
    )
    if decision is not None:
        if decision.outcome == "denied":
            status: ModelStatusName = "pending" if pending else "denied"
            tier: TierId | None = None
        elif decision.valid_until <= now:
            status, tier = ("pending" if pending else "lapsed"), None
        else:
            status, tier = "approved", decision.tier
        base = base.model_copy(
            update={
                "status": status,
                "tier": tier,
                "jurisdictions": decision.jurisdictions if tier else (),
                "tiers": decision.tiers if tier else {},
                "sector_tiers": decision.sector_tiers if tier else {},
                "conditions": decision.conditions if tier else (),
                "decision_id": decision.id,
                "valid_until": decision.valid_until,
            }
        )
    if directive is None:
        return base
    if directive.action == "halt":
        return base.model_copy(
            update={"status": "halted", "tier": "halted", "directive_id": directive.id}
        )
    if directive.action == "restore" and directive.scope == Scope():
        return base.model_copy(update={"directive_id": directive.id})
    return base.model_copy(
        update={
            "status": "restricted",
            "directive_id": directive.id,
            "restricted_to": directive.scope,
        }
    )
