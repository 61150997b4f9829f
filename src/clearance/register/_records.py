"""The register's records: frozen values whose invariants are checked when they are made."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from clearance.framework import TierId
from clearance.register._values import MAX_SAFE_INTEGER, Country, ModelName, Name, Sha256, Text

Role = Literal["admin", "reviewer", "appeal_panel", "developer", "partner", "reporter"]
OrganizationKind = Literal["authority", "developer", "partner", "reporter"]
ApplicationState = Literal["filed", "under_review", "information_requested", "decided", "withdrawn"]
Outcome = Literal["approved", "approved_with_conditions", "denied"]
AppealState = Literal["filed", "upheld", "overturned", "dismissed"]
AppealAct = Literal["decision", "directive", "access_refusal", "grant_revocation"]
HearingAct = Literal["directive", "access_refusal", "grant_revocation"]
HearingState = Literal["open", "closed", "lapsed"]
HearingOutcome = Literal["confirm", "modify", "revoke"]
VoteChoice = Literal["upheld", "overturned"]
DirectiveAction = Literal["halt", "restrict", "restore"]
DirectiveState = Literal[
    "active", "expired", "superseded", "proposed", "lapsed", "revoked", "set_aside"
]
AccessState = Literal["pending", "granted", "refused", "refusal_proposed"]
GrantState = Literal["active", "expired", "revoked"]
GrantPurpose = Literal["access", "testing"]
Channel = Literal["api", "app"]
"""How a call reaches a model: the developer's API, or the developer's consumer app."""
CHANNELS: tuple[Channel, ...] = ("api", "app")
ObligationState = Literal["open", "under_review", "met", "breached", "ended"]
"""open: not yet met (a continuing one stays open while it stands); under_review: fulfilment
evidence awaits a reviewer; met; breached: overdue and unmet, its consequence applied; ended:
the decision it belonged to no longer stands."""
FulfilmentState = Literal["filed", "accepted", "rejected"]
ModelStatusName = Literal[
    "unreviewed", "pending", "approved", "denied", "restricted", "halted", "lapsed"
]


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("times must carry a time zone")
    return value.astimezone(dt.UTC)


Instant = Annotated[dt.datetime, AfterValidator(_aware)]


class Record(BaseModel):
    """Base of every register record: frozen, no unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Organization(Record):
    """A party: the authority, a developer, a partner, or a third-party reporter."""

    id: str
    name: Name
    kind: OrganizationKind
    jurisdiction: Country
    sector: str = ""
    name_public: bool = True
    """False: the name appears in no public page, API answer or log statement; counts still do."""
    name_commitment: Sha256 | None = None
    """For a withheld name: SHA-256 of a secret salt (kept by the register) and the name, which
    the log carries instead of the name so that the authority can later prove whose it was."""
    created_at: Instant


class Principal(Record):
    """A person or system holding an API key, acting for an organization in some roles."""

    id: str
    organization_id: str
    name: Name
    roles: tuple[Role, ...] = Field(min_length=1)
    expertise: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    """Organization ids this principal has declared a conflict of interest with."""
    channel: Channel = "api"
    """The channel this principal's key calls on: a consumer app's key calls as `app`."""
    created_at: Instant


class ModelConfig(Record):
    """A model configuration: one set of weights, one variant, the channels it is offered on."""

    id: str
    organization_id: str
    name: ModelName
    """The name callers use at the gateway; unique in the register."""
    version: Name
    variant: Name = "standard"
    weights_digest: Sha256
    channels: tuple[str, ...] = ("api",)
    upstream_url: str | None = None
    sibling: str | None = None
    """For a restricted variant: the id of its public sibling, shown beside it."""
    created_at: Instant


class EvidenceGrant(Record):
    """A reviewer's permission for one principal to read the bytes of confidential evidence."""

    id: str
    sha256: Sha256
    principal_id: str
    granted_by: str
    granted_at: Instant
    reason: Text


class EvidenceRef(Record):
    """Evidence filed with an application, named by the SHA-256 of its bytes."""

    sha256: Sha256
    name: str
    kind: str


class SelfAssessmentDifference(Record):
    """One way the applicant's self-assessment differs from the register's run at filing."""

    aspect: Literal["framework", "evidence", "outcome"]
    text: str


class Discrepancy(Record):
    """One metric on which the authority's own runs contradict the developer's."""

    metric: str
    domain: str
    level: str
    """The level whose threshold the two sides read differently."""
    developer: str
    """What the developer's evidence shows for that level: ruled_out, reached, inconclusive."""
    authority: str
    developer_evidence: tuple[Sha256, ...] = ()
    authority_evidence: tuple[Sha256, ...] = ()
    text: str


class Application(Record):
    """A release application and where it stands on the procedure's clock."""

    id: str
    model_id: str
    organization_id: str
    framework_digest: Sha256
    requested_tier: TierId
    requested_jurisdictions: tuple[str, ...] = Field(min_length=1)
    evidence: tuple[EvidenceRef, ...] = ()
    safeguards: tuple[str, ...] = ()
    safeguards_declaration: Sha256 | None = None
    """SHA-256 of the uploaded safeguards declaration the assessment used."""
    assessment: dict[str, Any]
    """The register's own assessment at filing (same function the applicant can run)."""
    self_assessment: dict[str, Any] | None = None
    """The applicant's own run of the assessor (its JSON output), if they filed one."""
    self_assessment_differences: tuple[SelfAssessmentDifference, ...] = ()
    """How the self-assessment differs from `assessment` (framework, evidence, outcome)."""
    state: ApplicationState = "filed"
    filed_at: Instant
    deadline: Instant
    clock_stopped_at: Instant | None = None
    reviewer_id: str | None = None
    decision_id: str | None = None
    excluded_reviewers: tuple[str, ...] = ()
    """Reviewers whose decision on this application was overturned: it goes to someone else."""
    testing_grant_id: str | None = None
    """The authority's testing grant on the model, issued at filing when the framework says so."""
    testing_access_missing: bool = False
    """True while the developer owes the pre-release upstream the framework requires: the clock
    stands still and the application cannot be deemed approved."""
    authority_evidence: tuple[EvidenceRef, ...] = ()
    """Evidence the authority produced itself (its own evaluation runs), beside the developer's."""
    authority_assessment: dict[str, Any] | None = None
    """The assessment over the developer's and the authority's evidence together."""
    discrepancies: tuple[Discrepancy, ...] = ()
    """Where the authority's runs contradict the developer's on the same metric."""


class InformationRequest(Record):
    """A reviewer's question to the applicant; while open, it may stop the clock."""

    id: str
    application_id: str
    question: Text
    asked_by: str
    asked_at: Instant
    respond_by: Instant
    response: str | None = None
    answered_at: Instant | None = None


class Reason(Record):
    """One written reason, citing framework rule ids and evidence digests."""

    text: Text
    rules: tuple[str, ...] = ()
    evidence: tuple[Sha256, ...] = ()


class Departure(Record):
    """One cell of a decision's table set more openly than the framework prescribes for it."""

    group: str
    sector: str | None = None
    """None: the group as a whole; else one end-user sector in it."""
    prescribed: TierId
    tier: TierId


class ConditionDeparture(Record):
    """A condition a framework rule requires that a decision dropped or weakened (justified)."""

    rule: str
    text: str
    change: Literal["dropped", "weakened"]
    detail: str


class Consequence(Record):
    """What a breached obligation brings about: the model halted, or its tier capped."""

    action: Literal["halt", "cap_tier"]
    tier: TierId | None = None

    @model_validator(mode="after")
    def _tier_fits_action(self) -> Consequence:
        if self.action == "cap_tier" and self.tier in (None, "public"):
            raise ValueError("cap_tier needs a tier more closed than public")
        if self.action == "halt" and self.tier is not None:
            raise ValueError("a halt takes no tier")
        return self


class Fulfilment(Record):
    """Evidence the developer filed that an obligation is met, and the reviewer's answer."""

    id: str
    text: Text
    evidence: tuple[Sha256, ...] = Field(min_length=1)
    filed_by: str
    filed_at: Instant
    state: FulfilmentState = "filed"
    reasons: str | None = None
    reviewed_by: str | None = None
    reviewed_at: Instant | None = None


class Obligation(Record):
    """A decision's condition as a typed record: due when, fulfilled by what, breached how."""

    id: str
    decision_id: str
    model_id: str
    organization_id: str
    text: Text
    rule: str | None = None
    """The framework finding rule that requires it; None for a condition the reviewer added."""
    due_at: Instant | None = None
    """When it must be met; None: continuing (in force while the decision stands)."""
    evidence: str = ""
    """What evidence fulfils it, in words."""
    on_breach: Consequence | None = None
    state: ObligationState = "open"
    fulfilments: tuple[Fulfilment, ...] = ()
    created_at: Instant
    met_at: Instant | None = None
    breached_at: Instant | None = None
    consequence_id: str | None = None
    """The directive its breach issued."""


class Decision(Record):
    """The outcome of an application, with reasons, conditions and its validity.

    `tiers` is the deployment table: jurisdiction group to tier, with `sector_tiers` for the
    end-user sectors whose cell differs from their group's. `tier` is the most open cell and
    `jurisdictions` the groups in the table, kept for readers of the one-tier form.
    """

    id: str
    application_id: str
    model_id: str
    outcome: Outcome
    tier: TierId
    jurisdictions: tuple[str, ...]
    conditions: tuple[str, ...] = ()
    reasons: tuple[Reason, ...] = Field(min_length=1)
    assessed_tier: TierId
    tiers: dict[str, TierId] = Field(default_factory=dict)
    sector_tiers: dict[str, dict[str, TierId]] = Field(default_factory=dict)
    departure: bool = False
    departures: tuple[Departure, ...] = ()
    condition_departures: tuple[ConditionDeparture, ...] = ()
    """Conditions a framework rule requires that this decision dropped or weakened."""
    justification: str | None = None
    deemed: bool = False
    decided_by: str | None = None
    decided_at: Instant
    valid_until: Instant
    appeal_deadline: Instant
    final: bool = False
    """True once the appeal window has closed without an appeal, or an appeal was ruled on."""
    set_aside: bool = False
    """True when an appeal overturned it; the application is then reviewed again."""
    lapsed: bool = False
    """True once the clock has recorded that the approval's validity ended."""


class Appeal(Record):
    """An appeal of an adverse act, heard by a panel that excludes whoever took part in it."""

    id: str
    decision_id: str | None = None
    """The decision appealed, when the act is a decision."""
    model_id: str
    organization_id: str
    grounds: Text
    filed_by: str
    filed_at: Instant
    decide_by: Instant
    panel: tuple[str, ...] = ()
    state: AppealState = "filed"
    ruling: str | None = None
    ruled_by: str | None = None
    ruled_at: Instant | None = None
    act: AppealAct = "decision"
    act_id: str | None = None
    """The id of the act appealed: a decision, a directive, an access request or a grant."""
    framework_digest: str | None = None
    """The framework whose procedure governs the appeal (panel size, deadline, missed deadline)."""
    excluded: tuple[str, ...] = ()
    """Principals who may not sit: those who took part in the act, and panels that let a
    deadline pass."""
    votes: tuple[Vote, ...] = ()
    escalations: int = 0


class Scope(Record):
    """Who and where a directive or grant reaches; empty means no limit on that axis."""

    organizations: tuple[str, ...] = ()
    jurisdictions: tuple[Country, ...] = ()
    channels: tuple[str, ...] = ()
    tiers: tuple[TierId, ...] = ()
    groups: tuple[str, ...] = ()
    """Jurisdiction groups still served; the others are refused while the directive stands."""


class Renewal(Record):
    """A directive's renewal: new reasons, a new sunset."""

    grounds: Text
    renewed_by: str
    renewed_at: Instant
    sunset_at: Instant


class Directive(Record):
    """An authority's order on a model: halt, restrict, or restore, with a hearing and a sunset."""

    id: str
    model_id: str
    action: DirectiveAction
    grounds: Text
    scope: Scope = Scope()
    issued_by: str
    issued_at: Instant
    hearing_date: Instant
    sunset_at: Instant
    renewals: tuple[Renewal, ...] = ()
    state: DirectiveState = "active"
    urgent: bool = False
    """Urgent: in effect at once, the hearing follows; otherwise proposed until the hearing."""
    hearing_id: str | None = None
    """The hearing on this directive, or the hearing whose outcome issued it."""
    limits: Limits | None = None
    """Conditions on the grants a restriction or restoration issues to named organizations."""


class AccessRequest(Record):
    """An organization's request to use a restricted model, decided case by case."""

    id: str
    organization_id: str
    model_id: str
    use_case: Text
    channels: tuple[str, ...] = ("api",)
    jurisdictions: tuple[Country, ...] = ()
    filed_by: str
    filed_at: Instant
    state: AccessState = "pending"
    reasons: str | None = None
    decided_by: str | None = None
    decided_at: Instant | None = None
    grant_id: str | None = None
    excluded: tuple[str, ...] = ()
    """Deciders whose refusal was overturned on appeal: the request goes to someone else."""


class Limits(Record):
    """A grant's conditions on use."""

    requests_per_minute: int | None = Field(default=None, ge=1, le=MAX_SAFE_INTEGER)
    tokens_per_minute: int | None = Field(default=None, ge=1, le=MAX_SAFE_INTEGER)
    retain_content: bool = False
    """Only when true may the gateway keep prompts and completions for this grant."""


class Grant(Record):
    """Permission for one organization to call one model, within a scope and until an expiry."""

    id: str
    organization_id: str
    model_id: str
    channels: tuple[str, ...] = ()
    use_cases: tuple[str, ...] = ()
    jurisdictions: tuple[Country, ...] = ()
    limits: Limits = Limits()
    expires_at: Instant | None = None
    origin: str
    """The access request or directive this grant came from."""
    granted_by: str
    granted_at: Instant
    state: GrantState = "active"
    revoked_by: str | None = None
    revoked_at: Instant | None = None
    purpose: GrantPurpose = "access"
    """access: an organization uses the model; testing: the authority tests a model under review
    (issued at filing, whatever the model's status)."""
    pre_release_upstream: str | None = None
    """For a testing grant: the base URL of the model's pre-release server, named by the
    developer; the gateway sends the authority's calls there. Never published."""


class RiskReport(Record):
    """A third party's risk report, published with its conflict-of-interest disclosure."""

    id: str
    model_id: str
    organization_id: str
    filed_by: str
    title: Name
    summary: Text
    conflict_of_interest: Text
    """Mandatory and published: e.g. "We compete with the developer" or "None"."""
    filed_at: Instant


class Vote(Record):
    """One appeal panel member's vote, with the member's reasons."""

    member: str
    vote: VoteChoice
    """upheld: the act stands; overturned: it is set aside."""
    text: Text
    at: Instant


class Submission(Record):
    """A written submission of the affected organization at a hearing."""

    id: str
    text: Text
    evidence: tuple[Sha256, ...] = ()
    filed_by: str
    filed_at: Instant


class HearingReason(Record):
    """A reason for a hearing's outcome, naming the submissions it answers."""

    text: Text
    answers: tuple[str, ...] = ()
    """Ids of the submissions this reason answers; every submission must be answered."""


class Hearing(Record):
    """The affected party heard on an adverse act: before it, or after it when it is urgent."""

    id: str
    act: HearingAct
    act_id: str
    model_id: str
    organization_ids: tuple[str, ...] = Field(min_length=1)
    """The organizations the act affects: they may file submissions."""
    grounds: Text
    urgent: bool
    opened_by: str
    opened_at: Instant
    hold_by: Instant
    """The authority's deadline: an outcome by then, or the act lapses."""
    submissions: tuple[Submission, ...] = ()
    state: HearingState = "open"
    outcome: HearingOutcome | None = None
    reasons: tuple[HearingReason, ...] = ()
    scope: Scope | None = None
    """The new scope, when the outcome modifies the act."""
    limits: Limits | None = None
    result_id: str | None = None
    """The record the outcome made (a directive for a modified directive, a grant)."""
    closed_by: str | None = None
    closed_at: Instant | None = None


# Appeal and Directive name Vote and Limits, which are defined after them.
Appeal.model_rebuild()
Directive.model_rebuild()
