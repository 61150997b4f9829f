"""The assessor: a pure function of (framework, evidence, safeguards) to the outcome."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from clearance.framework._evidence import (
    EvalRun,
    Evidence,
    Finding,
    FindingsReport,
    SafeguardDeclaration,
)
from clearance.framework._load import framework_digest
from clearance.framework._schema import (
    Domain,
    FindingMatch,
    Framework,
    JurisdictionGroup,
    TierId,
    most_closed,
    tier_rank,
)
from clearance.framework._statistics import (
    RULES,
    IntervalKind,
    LevelTest,
    Outcome,
    RefusedEvidence,
    threshold_tests,
)

__all__ = [
    "RULES",
    "Assessment",
    "DomainResult",
    "FindingEffect",
    "IntervalKind",
    "JurisdictionResult",
    "LevelTest",
    "MissingSafeguard",
    "Outcome",
    "RefusedEvidence",
    "assess",
]

_INTERVAL_WORDS: dict[str, str] = {
    "clopper_pearson": "exact interval",
    "normal": "interval",
    "none": "no interval, bounds",
}


@dataclass(frozen=True)
class MissingSafeguard:
    """A required safeguard that is not in place, and why."""

    id: str
    reason: str


@dataclass(frozen=True)
class DomainResult:
    """The level a domain is at, what set it, and the safeguards that level needs."""

    domain: str
    level: str
    level_name: str
    set_by: tuple[tuple[str, LevelTest], ...]
    """(metric id, test) pairs that put the domain at this level (or ruled out the next one)."""
    tests: tuple[tuple[str, LevelTest], ...]
    required_safeguards: tuple[str, ...]
    missing_safeguards: tuple[MissingSafeguard, ...]
    max_tier: TierId


@dataclass(frozen=True)
class FindingEffect:
    """A finding rule that applied to a red-team finding."""

    finding: str
    evidence: str
    rule: str
    max_tier: TierId | None
    conditions: tuple[str, ...]


@dataclass(frozen=True)
class JurisdictionResult:
    """The most open tier permitted in a jurisdiction group, overall and per end-user class."""

    group: str
    max_tier: TierId
    end_users: tuple[tuple[str, TierId], ...]
    binding: tuple[str, ...]
    """What set the cap, in words."""


@dataclass(frozen=True)
class Assessment:
    """The outcome the framework prescribes for a body of evidence."""

    framework_id: str
    framework_version: str
    framework_digest: str
    evidence: tuple[tuple[str, str, str], ...]
    """(digest, kind, name) of every evidence item considered, sorted by digest."""
    domains: tuple[DomainResult, ...]
    findings: tuple[FindingEffect, ...]
    conditions: tuple[str, ...]
    max_tier: TierId
    jurisdictions: tuple[JurisdictionResult, ...]
    refused: tuple[RefusedEvidence, ...]
    unused: tuple[str, ...]
    """Digests of evaluation runs that no metric reads."""
    explanation: tuple[str, ...]


def assess(
    framework: Framework,
    evidence: Iterable[Evidence],
    safeguards: SafeguardDeclaration | None = None,
) -> Assessment:
    """Assess evidence against a framework; same inputs give the same Assessment, in any order."""
    items = _dedupe(evidence)
    runs = tuple(item for item in items if isinstance(item, EvalRun))
    reports = tuple(item for item in items if isinstance(item, FindingsReport))
    confidence = framework.statistics.confidence
    in_place = _safeguards_in_place(framework, safeguards)

    refused: list[RefusedEvidence] = []
    used: set[str] = set()
    tests_by_metric: dict[str, tuple[LevelTest, ...]] = {}
    for metric in framework.metrics:
        tests, metric_refused, metric_used = threshold_tests(metric, runs, confidence)
        tests_by_metric[metric.id] = tests
        refused.extend(metric_refused)
        used.update(metric_used)

    domains = tuple(
        _domain_result(domain, framework, tests_by_metric, in_place) for domain in framework.domains
    )
    effects = _finding_effects(framework, reports)
    conditions = tuple(sorted({c for effect in effects for c in effect.conditions}))
    caps: list[TierId] = [d.max_tier for d in domains]
    caps.extend(effect.max_tier for effect in effects if effect.max_tier is not None)
    max_tier = most_closed("public", *caps)
    jurisdictions = tuple(
        _jurisdiction_result(group, framework, domains, max_tier)
        for group in framework.jurisdictions
    )
    refused_sorted = tuple(sorted(refused, key=lambda r: (r.metric, r.digest)))
    unused = tuple(sorted(run.digest for run in runs if run.digest not in used))
    assessment = Assessment(
        framework_id=framework.id,
        framework_version=framework.version,
        framework_digest=framework_digest(framework),
        evidence=tuple(sorted((item.digest, item.kind, item.name) for item in items)),
        domains=domains,
        findings=effects,
        conditions=conditions,
        max_tier=max_tier,
        jurisdictions=jurisdictions,
        refused=refused_sorted,
        unused=unused,
        explanation=(),
    )
    return _with_explanation(assessment, framework, runs)


def _dedupe(evidence: Iterable[Evidence]) -> tuple[Evidence, ...]:
    """The same bytes given twice count once; order is fixed by digest so input order is moot."""
    by_digest: dict[str, Evidence] = {}
    for item in evidence:
        by_digest.setdefault(item.digest, item)
    return tuple(by_digest[digest] for digest in sorted(by_digest))


def _domain_result(
    domain: Domain,
    framework: Framework,
    tests_by_metric: dict[str, tuple[LevelTest, ...]],
    in_place: dict[str, str | None],
) -> DomainResult:
    metrics = [m for m in framework.metrics if m.domain == domain.id]
    all_tests = tuple(
        sorted(
            ((m.id, t) for m in metrics for t in tests_by_metric[m.id]),
            key=lambda pair: (domain.level_index(pair[1].level), pair[0]),
        )
    )
    level_index = 0
    for _, test in all_tests:
        if test.outcome != "ruled_out":
            level_index = max(level_index, domain.level_index(test.level))
    level = domain.levels[level_index]
    if level_index > 0:
        set_by = tuple(
            (m, t)
            for m, t in all_tests
            if domain.level_index(t.level) == level_index and t.outcome != "ruled_out"
        )
    else:
        set_by = tuple((m, t) for m, t in all_tests if domain.level_index(t.level) == 1)
    missing = tuple(
        MissingSafeguard(sg, in_place[sg] or "")
        for sg in level.required_safeguards
        if in_place[sg] is not None
    )
    max_tier = level.tier_if_missing if missing else level.max_tier
    return DomainResult(
        domain=domain.id,
        level=level.id,
        level_name=level.name,
        set_by=set_by,
        tests=all_tests,
        required_safeguards=level.required_safeguards,
        missing_safeguards=missing,
        max_tier=max_tier,
    )


def _safeguards_in_place(
    framework: Framework, declaration: SafeguardDeclaration | None
) -> dict[str, str | None]:
    """Per catalogue safeguard: None when in place, else the reason it does not count."""
    claims = {claim.id: claim for claim in (declaration.safeguards if declaration else ())}
    status: dict[str, str | None] = {}
    for safeguard in framework.safeguards:
        claim = claims.get(safeguard.id)
        if claim is None:
            status[safeguard.id] = "not declared"
            continue
        lacking = sorted(set(safeguard.evidence_required) - set(claim.evidence_kinds))
        status[safeguard.id] = (
            f"declared without the required evidence: {', '.join(lacking)}" if lacking else None
        )
    return status


def _matches(match: FindingMatch, finding: Finding) -> bool:
    return (
        (match.category is None or match.category == finding.category)
        and (match.scope is None or match.scope == finding.scope)
        and (not match.severity or finding.severity in match.severity)
        and (match.reproduced is None or match.reproduced == finding.reproduced)
        and (match.mitigated is None or match.mitigated == finding.mitigated)
        and (match.domain is None or match.domain == finding.domain)
    )


def _finding_effects(
    framework: Framework, reports: Sequence[FindingsReport]
) -> tuple[FindingEffect, ...]:
    effects = [
        FindingEffect(
            finding.id,
            report.digest,
            rule.id,
            rule.max_tier,
            tuple(c.text for c in rule.required()),
        )
        for report in reports
        for finding in report.findings
        for rule in framework.finding_rules
        if _matches(rule.match, finding)
    ]
    return tuple(sorted(effects, key=lambda e: (e.rule, e.evidence, e.finding)))


def _jurisdiction_result(
    group: JurisdictionGroup,
    framework: Framework,
    domains: Sequence[DomainResult],
    overall: TierId,
) -> JurisdictionResult:
    binding: list[str] = []
    tier = overall
    if tier_rank(overall) > 0:
        binding.append(f"the assessment allows at most {overall}")
    if tier_rank(group.max_tier) > tier_rank(tier):
        binding.append(f"the group allows at most {group.max_tier}")
    tier = most_closed(tier, group.max_tier)
    levels = {d.domain: d.level for d in domains}
    for cap in group.level_caps:
        domain = framework.domain(cap.domain)
        if domain.level_index(levels[cap.domain]) >= domain.level_index(cap.level):
            if tier_rank(cap.max_tier) > tier_rank(tier):
                binding.append(
                    f"{cap.domain} at or above {cap.level} allows at most {cap.max_tier} here"
                )
            tier = most_closed(tier, cap.max_tier)
    end_users = tuple(
        (user, most_closed(tier, cap)) for user, cap in sorted(group.end_user_caps.items())
    )
    return JurisdictionResult(group.id, tier, end_users, tuple(binding))


def _with_explanation(
    assessment: Assessment, framework: Framework, runs: Sequence[EvalRun]
) -> Assessment:
    names = {run.digest: run.name for run in runs}
    lines = [
        f"Assessed against {framework.title} ({framework.id} {framework.version}, "
        f"sha256:{assessment.framework_digest[:16]}...).",
    ]
    for result in assessment.domains:
        domain = framework.domain(result.domain)
        lines.append(f"{domain.name}: {result.level_name} ({result.level}).")
        for metric_id, test in result.set_by:
            source = names.get(test.evidence or "", "no evidence")
            figures = (
                f" score {test.value:.3f}, {_INTERVAL_WORDS[test.interval or 'none']} "
                f"[{test.lower:.3f}, {test.upper:.3f}],"
                if test.value is not None and test.lower is not None and test.upper is not None
                else ""
            )
            lines.append(
                f"  {metric_id} vs {test.level} threshold {test.threshold:g}:{figures} "
                f"{test.outcome.replace('_', ' ')} ({test.rule}: {RULES[test.rule]}; {source})."
            )
        for missing in result.missing_safeguards:
            lines.append(f"  Safeguard {missing.id} is required and {missing.reason}.")
        if result.max_tier != "public":
            lines.append(f"  This caps deployment at {result.max_tier}.")
    for effect in assessment.findings:
        cap = f" caps deployment at {effect.max_tier}" if effect.max_tier else ""
        cond = (
            f" adds conditions: {'; '.join(c.rstrip('.') for c in effect.conditions)}"
            if effect.conditions
            else ""
        )
        lines.append(f"Finding {effect.finding} matches rule {effect.rule}:{cap}{cond}.")
    for refused in assessment.refused:
        lines.append(f"Not counted for {refused.metric}: {refused.name}: {refused.reason}.")
    for digest in assessment.unused:
        lines.append(f"Not read by any metric: {names.get(digest, digest)}.")
    lines.append(f"Most open tier permitted anywhere: {assessment.max_tier}.")
    for group in assessment.jurisdictions:
        users = "".join(f"; {user}: {tier}" for user, tier in group.end_users)
        lines.append(f"  {group.group}: {group.max_tier}{users}.")
    return replace(assessment, explanation=tuple(lines))
