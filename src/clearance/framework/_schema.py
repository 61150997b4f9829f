"""The release framework's schema: what an authority publishes, checked once when it is loaded."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, model_validator

Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.:-]{0,63}$")]
"""Ids are lower-case so that rules and evidence can cite them unambiguously."""

TierId = Literal["public", "public_safeguarded", "approved_partners", "internal", "halted"]
"""Deployment tiers, from the most open to the most closed."""

ADDED: dict[str, JsonValue] = {"added": "0.2"}
"""Marks a field added after the first schema: left out of a framework's identity while it holds
its default, so that a framework which does not use it keeps the digest it was published with."""

TIER_ORDER: tuple[TierId, ...] = (
    "public",
    "public_safeguarded",
    "approved_partners",
    "internal",
    "halted",
)


def tier_rank(tier: TierId) -> int:
    """Openness rank of a tier: 0 is the most open, higher is more closed."""
    return TIER_ORDER.index(tier)


def most_closed(*tiers: TierId) -> TierId:
    """The most closed of the given tiers (the cap that binds)."""
    return max(tiers, key=tier_rank)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Level(_Strict):
    """One capability level of a domain; levels are listed from the lowest to the highest."""

    id: Identifier
    name: str
    description: str = ""
    required_safeguards: tuple[Identifier, ...] = ()
    max_tier: TierId = "public"
    """The most open tier a model at this level may have, with every required safeguard in place."""
    max_tier_if_safeguards_missing: TierId | None = None
    """The most open tier while any required safeguard is missing; needed when any is required."""

    @model_validator(mode="after")
    def _missing_is_not_more_open(self) -> Level:
        if self.required_safeguards and self.max_tier_if_safeguards_missing is None:
            raise ValueError(
                f"level {self.id!r} requires safeguards, so it must say "
                "max_tier_if_safeguards_missing"
            )
        if tier_rank(self.tier_if_missing) < tier_rank(self.max_tier):
            raise ValueError("max_tier_if_safeguards_missing must not be more open than max_tier")
        return self

    @property
    def tier_if_missing(self) -> TierId:
        """The cap that binds while a required safeguard is missing."""
        return self.max_tier_if_safeguards_missing or self.max_tier


class Domain(_Strict):
    """A capability domain (cyber, CBRN, autonomous AI R&D) with its ordered levels."""

    id: Identifier
    name: str
    description: str = ""
    levels: tuple[Level, ...] = Field(min_length=1)
    confidential_evidence: bool = Field(default=False, json_schema_extra=ADDED)
    """Evidence about this domain (runs its metrics read, findings that name it) is uploaded as
    confidential unless the upload says otherwise: its bytes are withheld from the public."""

    @model_validator(mode="after")
    def _level_ids_unique(self) -> Domain:
        ids = [level.id for level in self.levels]
        if len(set(ids)) != len(ids):
            raise ValueError(f"level ids must be unique within domain {self.id!r}")
        return self

    def level_index(self, level_id: str) -> int:
        """Position of a level in this domain's order (0 is the baseline)."""
        for index, level in enumerate(self.levels):
            if level.id == level_id:
                return index
        raise KeyError(level_id)


class InspectSource(_Strict):
    """Which Inspect score a metric reads."""

    kind: Literal["inspect"] = "inspect"
    task: str = Field(min_length=1)
    task_versions: tuple[int | str, ...] = (0,)
    """Task versions whose results are comparable with the thresholds."""
    scorer: str = Field(min_length=1)
    metric: str = Field(min_length=1)
    reducer: str | None = None
    """Epochs reducer (mean, at_least_1, pass_at_k, ...); None when the eval ran one epoch."""


class LmEvalSource(_Strict):
    """Which lm-evaluation-harness result a metric reads."""

    kind: Literal["lm_eval"] = "lm_eval"
    task: str = Field(min_length=1)
    task_versions: tuple[int | str | float, ...] = ()
    """Comparable task versions; empty accepts any."""
    metric: str = Field(min_length=1)
    filter: str = "none"


class Elicitation(_Strict):
    """Minimum effort before a low score may rule a level out."""

    min_epochs: int = Field(default=1, ge=1)
    min_samples: int = Field(default=1, ge=1)


class Metric(_Strict):
    """An evaluation metric, the evidence it reads, and its threshold per level."""

    id: Identifier
    domain: Identifier
    description: str = ""
    source: InspectSource | LmEvalSource = Field(discriminator="kind")
    range: tuple[float, float] = (0.0, 1.0)
    thresholds: dict[Identifier, float] = Field(min_length=1)
    """Level id to the score at which that level is reached."""
    elicitation: Elicitation = Elicitation()

    @model_validator(mode="after")
    def _thresholds_in_range(self) -> Metric:
        low, high = self.range
        if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
            raise ValueError("range must be two finite numbers, the lower first")
        for level_id, threshold in self.thresholds.items():
            if not math.isfinite(threshold) or not low <= threshold <= high:
                raise ValueError(
                    f"threshold {threshold} for level {level_id!r} is outside range [{low}, {high}]"
                )
        return self


class Statistics(_Strict):
    """How a score with its standard error becomes reached, ruled out or cannot-rule-out."""

    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    """Two-sided confidence level of the interval built from the standard error."""


class FindingMatch(_Strict):
    """Which red-team findings a rule applies to; every given field must match."""

    category: str | None = None
    scope: Literal["general", "narrow"] | None = None
    severity: tuple[Literal["low", "medium", "high", "critical"], ...] = ()
    reproduced: bool | None = None
    mitigated: bool | None = None
    domain: Identifier | None = None


class OnBreach(_Strict):
    """What an overdue, unmet condition brings about: the model halted, or its tier capped."""

    action: Literal["halt", "cap_tier"]
    tier: TierId | None = None
    """For cap_tier: the most open tier left anywhere (for example approved_partners)."""

    @model_validator(mode="after")
    def _tier_fits_action(self) -> OnBreach:
        if self.action == "cap_tier" and self.tier in (None, "public"):
            raise ValueError("on_breach: cap_tier needs a tier more closed than public")
        if self.action == "halt" and self.tier is not None:
            raise ValueError("on_breach: a halt takes no tier")
        return self


class RequiredCondition(_Strict):
    """A condition a finding rule attaches, with its terms: when it is due, what fulfils it,
    and what its breach brings about. A plain string is a continuing condition with no terms."""

    text: str = Field(min_length=1)
    due_days: int | None = Field(default=None, ge=1)
    """Days from the decision by which it must be met; none: it continues while the decision
    stands and is never overdue."""
    evidence: str = ""
    """What evidence fulfils it, in words (for example "red-team results for the fix")."""
    on_breach: OnBreach | None = None
    """The consequence when it is overdue and unmet; none: the breach is recorded only."""


class FindingRule(_Strict):
    """A red-team finding rule: a cap on the tier, conditions to attach, or both."""

    id: Identifier
    description: str
    match: FindingMatch
    max_tier: TierId | None = None
    conditions: tuple[str | RequiredCondition, ...] = ()

    @model_validator(mode="after")
    def _has_effect(self) -> FindingRule:
        if self.max_tier is None and not self.conditions:
            raise ValueError("a finding rule needs max_tier, conditions, or both")
        return self

    def required(self) -> tuple[RequiredCondition, ...]:
        """The rule's conditions with their terms (a plain string: continuing, no terms)."""
        return tuple(
            RequiredCondition(text=c) if isinstance(c, str) else c for c in self.conditions
        )


class Safeguard(_Strict):
    """An entry of the safeguards catalogue and the evidence it needs to count as in place."""

    id: Identifier
    name: str
    description: str = ""
    evidence_required: tuple[str, ...] = ()
    """Kinds of supporting evidence a declaration must cite."""


class LevelCap(_Strict):
    """A jurisdiction group's cap that binds once a domain reaches a level."""

    domain: Identifier
    level: Identifier
    max_tier: TierId


def _inside(path: str) -> str:
    if ".." in path.split("/"):
        raise ValueError(f"{path!r} leaves the framework's folder; name a file inside it")
    return path


RelativePath = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,199}$"), AfterValidator(_inside)
]
"""A path relative to the framework file's folder, never leaving it."""
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class TaskData(_Strict):
    """A file an evaluation task reads (its dataset), named by the SHA-256 of its bytes."""

    file: RelativePath
    sha256: Sha256Hex


class EvaluationTask(_Strict):
    """An Inspect task file the authority runs itself, with its datasets, content-addressed.

    `clearance evaluate APPLICATION --task ID` runs it against the model under review through the
    gateway, after checking every file's SHA-256 against the framework.
    """

    id: Identifier
    description: str = ""
    file: RelativePath
    sha256: Sha256Hex
    datasets: tuple[TaskData, ...] = ()


class JurisdictionGroup(_Strict):
    """Countries treated alike, with caps by capability and by end-user (the diffusion pattern)."""

    id: Identifier
    name: str
    members: tuple[Annotated[str, Field(pattern=r"^[A-Z]{2}$|^\*$")], ...] = Field(min_length=1)
    """ISO 3166-1 alpha-2 codes, or "*" for every country not listed elsewhere."""
    max_tier: TierId = "public"
    level_caps: tuple[LevelCap, ...] = ()
    end_user_caps: dict[Identifier, TierId] = {}
    """End-user class (government, military, ...) to the most open tier for it."""


class DeemedApproval(_Strict):
    """What a missed decision deadline means."""

    enabled: bool = True
    tier: Literal["as_assessed", "requested_or_assessed"] = "requested_or_assessed"
    """requested_or_assessed: the more closed of the requested tier and the assessed one."""


class DirectiveProcedure(_Strict):
    """Limits on directives: a sunset, and how renewals are allowed.

    `hearing_within_days` used to live here; it now applies to every adverse act and sits at
    `procedure.hearing_within_days`. Frameworks that still give it here are read as if they had
    given it there (see `Procedure._hearing_moved`).
    """

    sunset_days: int = Field(default=90, ge=1)
    renewal_min_interval_days: int = Field(default=30, ge=1)
    max_renewals: int = Field(default=2, ge=0)


class Procedure(_Strict):
    """The procedure's clocks: deadlines, stop-clock, deemed approval, appeals, directives."""

    decision_days: int = Field(default=90, ge=1)
    information_request_stops_clock: bool = True
    information_response_days: int = Field(default=30, ge=1)
    deemed_approval: DeemedApproval = DeemedApproval()
    appeal_window_days: int = Field(default=30, ge=1)
    appeal_decision_days: int = Field(default=60, ge=1)
    decision_valid_days: int = Field(default=365, ge=1)
    hearing_within_days: int = Field(default=14, ge=1)
    """Days the authority has to hear the affected party and close a hearing with an outcome."""
    appeal_panel_size: int = Field(default=3, ge=1, json_schema_extra=ADDED)
    """Members of an appeal panel; odd, so that a majority always exists."""
    appeal_on_missed: Literal["uphold_appeal", "escalate"] = Field(
        default="uphold_appeal", json_schema_extra=ADDED
    )
    """What a panel's missed deadline means: the appeal succeeds, or a new panel hears it."""
    testing_access_days: int | None = Field(default=None, ge=1, json_schema_extra=ADDED)
    """Days of pre-release testing access the authority gets on the model at filing (a grant to
    its reviewers through the gateway); None: the framework asks for none."""
    pre_release_upstream_required: bool = Field(default=False, json_schema_extra=ADDED)
    """The developer must name the model's pre-release upstream for the authority's tests; until
    it does, the application's clock stands still and it cannot be deemed approved."""
    directive: DirectiveProcedure = DirectiveProcedure()

    @model_validator(mode="before")
    @classmethod
    def _hearing_moved(cls, data: object) -> object:
        """Read `directive.hearing_within_days` (the old place) as `hearing_within_days`."""
        if not isinstance(data, dict):
            return data
        directive = data.get("directive")
        if not isinstance(directive, dict) or "hearing_within_days" not in directive:
            return data
        old = directive["hearing_within_days"]
        if "hearing_within_days" in data and data["hearing_within_days"] != old:
            raise ValueError(
                "hearing_within_days is given twice with different values; keep only "
                "procedure.hearing_within_days (procedure.directive.hearing_within_days is its "
                "old place)"
            )
        moved = {k: v for k, v in directive.items() if k != "hearing_within_days"}
        return {**data, "hearing_within_days": old, "directive": moved}

    @model_validator(mode="after")
    def _upstream_needs_testing(self) -> Procedure:
        if self.pre_release_upstream_required and self.testing_access_days is None:
            raise ValueError(
                "pre_release_upstream_required needs testing_access_days: the pre-release "
                "upstream serves the authority's testing access"
            )
        return self

    @model_validator(mode="after")
    def _panel_has_a_majority(self) -> Procedure:
        if self.appeal_panel_size % 2 == 0:
            raise ValueError(
                f"appeal_panel_size must be odd so that a majority always exists; "
                f"got {self.appeal_panel_size}"
            )
        return self


class Framework(_Strict):
    """A release framework: versioned, hashed data that says what a model must show."""

    id: Identifier
    title: str
    version: str = Field(pattern=r"^[0-9]+(\.[0-9]+)*([.-][A-Za-z0-9.]+)?$")
    effective_date: dt.date
    supersedes: str | None = None
    example: bool = False
    """True for a framework published only to show the format."""
    changelog: tuple[str, ...] = ()
    statistics: Statistics = Statistics()
    domains: tuple[Domain, ...] = Field(min_length=1)
    metrics: tuple[Metric, ...] = Field(min_length=1)
    finding_rules: tuple[FindingRule, ...] = ()
    safeguards: tuple[Safeguard, ...] = ()
    jurisdictions: tuple[JurisdictionGroup, ...] = Field(min_length=1)
    sectors: tuple[Identifier, ...] = Field(default=(), json_schema_extra=ADDED)
    """End-user sectors an organization may declare, besides those an end_user_caps entry names."""
    use_cases: dict[Identifier, str] = Field(default={}, json_schema_extra=ADDED)
    """Use cases a grant may be scoped to (id to description); empty: grants name their own."""
    procedure: Procedure = Procedure()
    tasks: tuple[EvaluationTask, ...] = Field(default=(), json_schema_extra=ADDED)
    """Inspect task files the authority runs itself (`clearance evaluate`)."""

    @model_validator(mode="after")
    def _references_resolve(self) -> Framework:
        _check_unique("domain", [d.id for d in self.domains])
        _check_unique("metric", [m.id for m in self.metrics])
        _check_unique("finding rule", [r.id for r in self.finding_rules])
        _check_unique("safeguard", [s.id for s in self.safeguards])
        _check_unique("jurisdiction group", [j.id for j in self.jurisdictions])
        _check_unique("task", [task.id for task in self.tasks])
        domains = {d.id: d for d in self.domains}
        safeguard_ids = {s.id for s in self.safeguards}
        for domain in self.domains:
            for level in domain.levels:
                for safeguard in level.required_safeguards:
                    if safeguard not in safeguard_ids:
                        raise ValueError(
                            f"level {level.id!r} of domain {domain.id!r} requires "
                            f"safeguard {safeguard!r}, which is not in the catalogue"
                        )
        for metric in self.metrics:
            metric_domain = domains.get(metric.domain)
            if metric_domain is None:
                raise ValueError(f"metric {metric.id!r} points at missing domain {metric.domain!r}")
            _check_thresholds_ordered(metric, metric_domain)
        for domain in self.domains:
            for level in domain.levels[1:]:
                if not any(
                    m.domain == domain.id and level.id in m.thresholds for m in self.metrics
                ):
                    raise ValueError(
                        f"level {level.id!r} of domain {domain.id!r} has no metric threshold, "
                        "so no evidence could ever reach it"
                    )
            _check_levels_ordered(domain)
        for rule in self.finding_rules:
            if rule.match.domain is not None and rule.match.domain not in domains:
                raise ValueError(
                    f"finding rule {rule.id!r} points at missing domain {rule.match.domain!r}"
                )
        wildcard = 0
        seen: dict[str, str] = {}
        for group in self.jurisdictions:
            for member in group.members:
                if member == "*":
                    wildcard += 1
                elif member in seen:
                    raise ValueError(
                        f"country {member} is in both {seen[member]!r} and {group.id!r}"
                    )
                else:
                    seen[member] = group.id
            for cap in group.level_caps:
                capped = domains.get(cap.domain)
                if capped is None:
                    raise ValueError(
                        f"jurisdiction group {group.id!r} caps missing domain {cap.domain!r}"
                    )
                if cap.level not in {level.id for level in capped.levels}:
                    raise ValueError(
                        f"jurisdiction group {group.id!r} caps missing level {cap.level!r} "
                        f"of domain {cap.domain!r}"
                    )
        if wildcard > 1:
            raise ValueError('only one jurisdiction group may contain "*"')
        return self

    def domain(self, domain_id: str) -> Domain:
        """The domain with this id."""
        for domain in self.domains:
            if domain.id == domain_id:
                return domain
        raise KeyError(domain_id)

    def sector_ids(self) -> tuple[str, ...]:
        """Every sector an organization may declare: the listed ones and every capped one."""
        capped = {sector for group in self.jurisdictions for sector in group.end_user_caps}
        return tuple(sorted(set(self.sectors) | capped))

    def group_ids(self) -> tuple[str, ...]:
        """The jurisdiction groups' ids, in the framework's order."""
        return tuple(group.id for group in self.jurisdictions)

    def group_of(self, country: str) -> JurisdictionGroup | None:
        """The jurisdiction group a country belongs to, falling back to the "*" group."""
        fallback = None
        for group in self.jurisdictions:
            if country in group.members:
                return group
            if "*" in group.members:
                fallback = group
        return fallback


def _check_unique(what: str, ids: list[str]) -> None:
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{what} ids must be unique; repeated: {', '.join(duplicates)}")


def _check_thresholds_ordered(metric: Metric, domain: Domain) -> None:
    """Thresholds must name levels of the metric's domain and rise with the level."""
    level_ids = [level.id for level in domain.levels]
    for level_id in metric.thresholds:
        if level_id not in level_ids:
            raise ValueError(
                f"metric {metric.id!r} has a threshold for {level_id!r}, "
                f"which is not a level of domain {domain.id!r}"
            )
        if level_id == level_ids[0]:
            raise ValueError(
                f"metric {metric.id!r} sets a threshold for the baseline level {level_id!r}; "
                "the first level of a domain is where every model starts"
            )
    ordered = sorted(metric.thresholds.items(), key=lambda item: level_ids.index(item[0]))
    for (low_id, low), (high_id, high) in itertools.pairwise(ordered):
        if high <= low:
            raise ValueError(
                f"metric {metric.id!r}: levels are out of order: {high_id!r} (threshold {high}) "
                f"must need a higher score than {low_id!r} (threshold {low})"
            )


def _check_levels_ordered(domain: Domain) -> None:
    """A higher level may not be deployed more openly than a lower one."""
    for low, high in zip(domain.levels, domain.levels[1:], strict=False):
        if tier_rank(high.max_tier) < tier_rank(low.max_tier) or tier_rank(
            high.tier_if_missing
        ) < tier_rank(low.tier_if_missing):
            raise ValueError(
                f"domain {domain.id!r}: levels are out of order: {high.id!r} is listed after "
                f"{low.id!r} but allows a more open tier"
            )
