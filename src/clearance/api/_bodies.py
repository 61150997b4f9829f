"""Request bodies: what arrives over HTTP, checked once at the boundary."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from clearance.framework import TierId
from clearance.register import (
    MAX_GRACE_SECONDS,
    Channel,
    Consequence,
    HearingReason,
    Limits,
    Reason,
    Role,
    Scope,
)
from clearance.register._values import Country, ModelName, Name, Sha256, Text


class Body(BaseModel):
    """Base of request bodies: unknown fields are an error, not ignored."""

    model_config = ConfigDict(extra="forbid")


class NewOrganization(Body):
    name: Name
    kind: Literal["developer", "partner", "reporter", "authority"]
    jurisdiction: Country
    sector: str = Field(
        default="",
        description="End-user sector: one the current framework lists (its sectors, or a "
        "sector an end_user_caps entry names); empty for none.",
    )
    name_public: bool = True


class NewPrincipal(Body):
    organization_id: str
    name: Name
    roles: list[Role] = Field(min_length=1)
    expertise: list[str] = []
    conflicts: list[str] = []
    channel: Channel = Field(
        default="api", description="The channel this key calls on: api, or app for a consumer app."
    )


class NewModel(Body):
    name: ModelName
    version: Name
    variant: Name = "standard"
    weights_digest: Sha256
    channels: list[str] = Field(
        default_factory=lambda: ["api"], min_length=1, description="Channels: api, app."
    )
    upstream_url: str | None = Field(
        default=None,
        max_length=2000,
        description="Base URL of the model's OpenAI-compatible server (e.g. "
        "http://10.0.0.5:8000/v1): the gateway calls it unless its upstreams file names the "
        "model, with the key of the file's entry for the same URL. Never published.",
    )
    sibling: str | None = Field(
        default=None, description="A restricted variant's public sibling (model name or id)."
    )


class NewApplication(Body):
    model: str = Field(description="Model name or id.")
    requested_tier: TierId
    requested_jurisdictions: list[str] = Field(min_length=1)
    evidence: list[Sha256] = Field(
        default_factory=list, description="Digests of uploaded evidence."
    )
    safeguards: Sha256 | None = Field(
        default=None, description="Digest of an uploaded declaration."
    )
    self_assessment: dict[str, Any] | None = None
    pre_release_upstream: str | None = Field(
        default=None,
        description=(
            "Base URL of the model's pre-release server for the authority's testing access "
            "(kept off the public record); the framework may require it."
        ),
    )


class TestingAccess(Body):
    pre_release_upstream: str = Field(
        min_length=1, max_length=2000, description="Base URL of the pre-release server."
    )


class AuthorityEvidence(Body):
    evidence: list[Sha256] = Field(
        min_length=1, description="Digests of the authority's uploaded evaluation logs."
    )


class NewEvaluation(Body):
    task: str = Field(min_length=1, max_length=64, description="A task the framework names.")
    epochs: int | None = Field(default=None, ge=1, le=100)
    limit: int | None = Field(default=None, ge=1, le=10_000)
    max_tokens: int | None = Field(
        default=None, ge=1, le=100_000, description="Bound each answer (default: the model's)."
    )


class Assignment(Body):
    reviewer_id: str | None = Field(default=None, description="Omit to take the case yourself.")


class Question(Body):
    question: Text


class Answer(Body):
    response: str = Field(min_length=1, max_length=100_000)


class NewCondition(Body):
    text: Text
    rule: str | None = Field(
        default=None,
        description="The finding rule that requires this condition, when the text rewords it "
        "(otherwise a required condition is matched by its text).",
    )
    due_days: int | None = Field(
        default=None,
        ge=1,
        description="Days from the decision by which it must be met; null: continuing. Left "
        "out, a required condition takes its rule's term.",
    )
    evidence: str = Field(default="", description="What evidence fulfils it, in words.")
    on_breach: Consequence | None = Field(
        default=None,
        description='What an overdue, unmet condition brings about: {"action": "halt"} or '
        '{"action": "cap_tier", "tier": "approved_partners"}; null: recorded only.',
    )


class NewFulfilment(Body):
    text: Text
    evidence: list[Sha256] = Field(min_length=1, description="Digests of uploaded evidence.")


class FulfilmentReview(Body):
    accepted: bool
    reasons: Text


class NewDecision(Body):
    outcome: Literal["approved", "approved_with_conditions", "denied"]
    tier: TierId = Field(
        default="halted",
        description="One tier for every group in `jurisdictions`; a group whose cap is more "
        "closed needs a justification (a departure, recorded for that group).",
    )
    jurisdictions: list[str] = []
    tiers: dict[str, TierId] | None = Field(
        default=None,
        description="The per-cell form: jurisdiction group to tier (instead of tier and "
        "jurisdictions); a cell above its cap needs a justification.",
    )
    sector_tiers: dict[str, dict[str, TierId]] = Field(
        default_factory=dict,
        description="Group to end-user sector to tier, for sectors whose cell differs.",
    )
    conditions: list[str | NewCondition] = Field(
        default_factory=list,
        description="Each becomes an obligation: a plain text, or one with its terms. A "
        "condition a framework rule requires takes the rule's terms; dropping or weakening it "
        "is a departure that needs a justification.",
    )
    reasons: list[Reason] = Field(min_length=1)
    justification: str | None = None


class NewAppeal(Body):
    grounds: Text


class Panel(Body):
    members: list[str] = Field(min_length=1)


class NewVote(Body):
    vote: Literal["upheld", "overturned"] = Field(
        description="upheld: the act stands; overturned: it is set aside."
    )
    text: Text = Field(description="The member's reasons.")


class NewDirective(Body):
    action: Literal["halt", "restrict", "restore"]
    model: str = Field(description="Model name or id.")
    grounds: Text
    organizations: list[str] = Field(default_factory=list, description="Organization ids or names.")
    jurisdictions: list[Country] = []
    channels: list[str] = []
    tiers: list[TierId] = []
    groups: list[str] = Field(
        default_factory=list, description="Jurisdiction groups still served (restrict)."
    )
    limits: Limits = Limits()
    urgent: bool = Field(
        default=False,
        description="In effect at once, the hearing after it; else proposed until the hearing.",
    )


class Renewal(Body):
    grounds: Text


class NewAccessRequest(Body):
    model: str
    use_case: Text
    channels: list[str] = Field(default_factory=lambda: ["api"], min_length=1)
    jurisdictions: list[Country] = []


class AccessDecision(Body):
    granted: bool
    reasons: Text
    limits: Limits = Limits()
    expires_at: dt.datetime | None = None
    urgent: bool = Field(
        default=False, description="A refusal in effect at once, the hearing after it."
    )


class NewReport(Body):
    model: str
    title: Name
    summary: Text
    conflict_of_interest: str = Field(
        min_length=1, max_length=5_000, description='Mandatory; "None" if there is none.'
    )


class Revocation(Body):
    grounds: Text
    urgent: bool = Field(
        default=False, description="Revoked at once, the hearing after it; else at its outcome."
    )


class NewSubmission(Body):
    text: Text
    evidence: list[Sha256] = Field(default_factory=list, description="Digests of its evidence.")


class HearingOutcome(Body):
    outcome: Literal["confirm", "modify", "revoke"]
    reasons: list[HearingReason] = Field(
        min_length=1, description="Together they must answer every submission (by its id)."
    )
    scope: Scope | None = Field(default=None, description="The new scope, when modifying.")
    limits: Limits | None = Field(default=None, description="Conditions on grants, when modifying.")


class NewWebhook(Body):
    url: str = Field(min_length=1, max_length=2_000, description="An http(s) URL.")


class NewEvidenceGrant(Body):
    principal_id: str = Field(description="The principal who may read the bytes.")
    reason: Text


class Rotation(Body):
    grace_seconds: int = Field(
        default=0,
        ge=0,
        le=MAX_GRACE_SECONDS,
        description="Seconds the principal's present keys stay valid beside the new one "
        "(0: they end at once).",
    )
