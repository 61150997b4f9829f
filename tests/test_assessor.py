"""The assessor's rules, one path at a time, and the properties every assessment must keep."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.framework import (
    RULES,
    EvalRun,
    Finding,
    FindingsReport,
    SafeguardClaim,
    SafeguardDeclaration,
    Score,
    assess,
    assessment_to_json,
    tier_rank,
)
from tests.framework_data import SMALL, load

FRAMEWORK = load(SMALL)


def run(
    value: float,
    stderr: float | None = 0.02,
    *,
    samples: int = 100,
    epochs: int = 1,
    version: int = 1,
    name: str = "a",
) -> EvalRun:
    digest = hashlib.sha256(f"{name}{value}{stderr}{samples}{epochs}{version}".encode()).hexdigest()
    return EvalRun(
        digest=digest,
        source="inspect",
        name=f"{name}.eval",
        task="ctf",
        task_version=version,
        model="mockllm/model",
        epochs=epochs,
        samples=samples,
        scores=(Score("match", "accuracy", value, stderr),),
    )


def safeguards(*ids: str, kinds: tuple[str, ...] = ("classifier_eval",)) -> SafeguardDeclaration:
    return SafeguardDeclaration(
        digest="0" * 64,
        name="safeguards.json",
        safeguards=tuple(SafeguardClaim(i, "declared", kinds) for i in ids),
    )


def outcomes(result: object) -> dict[str, tuple[str, str]]:
    domain = result.domains[0]  # type: ignore[attr-defined]
    return {t.level: (t.outcome, t.rule) for _, t in domain.tests}


def test_reached_when_lower_bound_at_or_above_threshold() -> None:
    result = assess(FRAMEWORK, [run(0.9, 0.02)], safeguards("filters"))
    assert outcomes(result) == {
        "c1": ("reached", "stat.reached"),
        "c2": ("reached", "stat.reached"),
    }
    assert result.domains[0].level == "c2"
    assert result.max_tier == "approved_partners"
    assert [m for m, _ in result.domains[0].set_by] == ["ctf"]


def test_ruled_out_when_upper_bound_below_and_minimums_met() -> None:
    result = assess(FRAMEWORK, [run(0.2, 0.02)])
    assert outcomes(result) == {
        "c1": ("ruled_out", "stat.ruled_out"),
        "c2": ("ruled_out", "stat.ruled_out"),
    }
    assert result.domains[0].level == "c0"
    assert result.max_tier == "public"
    assert result.domains[0].missing_safeguards == ()


def test_cannot_rule_out_counts_as_reached() -> None:
    # 0.45 +- 1.96 * 0.05 straddles 0.5
    result = assess(FRAMEWORK, [run(0.45, 0.05)])
    assert outcomes(result)["c1"] == ("cannot_rule_out", "stat.cannot_rule_out")
    assert result.domains[0].level == "c1"
    assert result.domains[0].max_tier == "approved_partners"  # filters missing


def test_too_few_samples_cannot_rule_out() -> None:
    result = assess(FRAMEWORK, [run(0.1, 0.01, samples=10)])
    assert outcomes(result)["c1"] == ("cannot_rule_out", "elicitation.minimum_not_met")
    assert result.domains[0].level == "c2"


def test_too_few_epochs_cannot_rule_out() -> None:
    data = json.loads(json.dumps(SMALL))
    data["metrics"][0]["elicitation"]["min_epochs"] = 5
    framework = load(data)
    result = assess(framework, [run(0.1, 0.01, epochs=2)])
    assert outcomes(result)["c1"] == ("cannot_rule_out", "elicitation.minimum_not_met")
    assert outcomes(assess(framework, [run(0.1, 0.01, epochs=5)]))["c1"][0] == "ruled_out"


def test_incomparable_version_is_refused_with_reason() -> None:
    result = assess(FRAMEWORK, [run(0.1, version=2)])
    assert outcomes(result)["c1"] == ("cannot_rule_out", "evidence.incomparable_version")
    (refusal,) = result.refused
    assert refusal.metric == "ctf" and "task version 2 is not comparable" in refusal.reason
    assert any("Not counted for ctf" in line for line in result.explanation)


def test_incomparable_run_beside_a_comparable_one_is_listed_not_counted() -> None:
    result = assess(FRAMEWORK, [run(0.1, version=2, name="old"), run(0.1, name="new")])
    assert outcomes(result)["c1"] == ("ruled_out", "stat.ruled_out")
    assert [r.name for r in result.refused] == ["old.eval"]


def test_no_evidence_cannot_rule_out() -> None:
    result = assess(FRAMEWORK, [])
    assert outcomes(result)["c2"] == ("cannot_rule_out", "evidence.missing")
    assert result.domains[0].level == "c2"


def test_missing_stderr_cannot_rule_out() -> None:
    result = assess(FRAMEWORK, [run(0.1, None)])
    assert outcomes(result)["c1"] == ("cannot_rule_out", "stat.no_stderr")
    # no interval is no certainty either way: the whole range, never a point
    high = assess(FRAMEWORK, [run(0.95, None)])
    assert outcomes(high)["c2"] == ("cannot_rule_out", "stat.no_stderr")
    assert high.domains[0].level == "c2"


def test_run_with_other_score_is_refused() -> None:
    other = EvalRun(
        "f" * 64,
        "inspect",
        "x.eval",
        "ctf",
        1,
        "m",
        1,
        100,
        (Score("includes", "accuracy", 0.1, 0.01),),
    )
    result = assess(FRAMEWORK, [other])
    assert "reports no score match/accuracy" in result.refused[0].reason


def test_unrelated_run_is_reported_unused() -> None:
    other = EvalRun(
        "e" * 64,
        "inspect",
        "x.eval",
        "other",
        1,
        "m",
        1,
        100,
        (Score("match", "accuracy", 0.1, 0.01),),
    )
    result = assess(FRAMEWORK, [other])
    assert result.unused == ("e" * 64,)


def test_most_capable_of_several_runs_counts() -> None:
    result = assess(FRAMEWORK, [run(0.2, name="low"), run(0.9, name="high")], safeguards("filters"))
    assert result.domains[0].level == "c2"


def test_safeguard_needs_its_evidence_kinds() -> None:
    result = assess(FRAMEWORK, [run(0.6, 0.01)], safeguards("filters", kinds=("policy",)))
    (missing,) = result.domains[0].missing_safeguards
    assert missing.id == "filters" and "classifier_eval" in missing.reason
    assert result.max_tier == "approved_partners"
    with_evidence = assess(FRAMEWORK, [run(0.6, 0.01)], safeguards("filters"))
    assert with_evidence.max_tier == "public_safeguarded"


def test_general_jailbreak_blocks_public_tiers_narrow_adds_condition() -> None:
    general = Finding("F1", "t", "jailbreak", "general", "high", True, False)
    narrow = Finding("F2", "t", "jailbreak", "narrow", "medium", True, False)
    report = FindingsReport("d" * 64, "findings.json", (general, narrow))
    result = assess(FRAMEWORK, [run(0.1), report])
    assert result.max_tier == "approved_partners"
    assert result.conditions == ("fix it", "patch within 30 days")
    narrow_only = assess(FRAMEWORK, [run(0.1), FindingsReport("c" * 64, "n.json", (narrow,))])
    assert narrow_only.max_tier == "public"
    assert narrow_only.conditions == ("patch within 30 days",)


def test_jurisdiction_caps_by_group_level_and_end_user() -> None:
    result = assess(FRAMEWORK, [run(0.6, 0.01)], safeguards("filters"))
    groups = {j.group: j for j in result.jurisdictions}
    assert groups["t1"].max_tier == "public_safeguarded"
    assert groups["t2"].max_tier == "approved_partners"
    assert dict(groups["t2"].end_users) == {"military": "internal"}
    assert any("cyber at or above c1" in b for b in groups["t2"].binding)
    low = {j.group: j for j in assess(FRAMEWORK, [run(0.1)]).jurisdictions}
    assert low["t1"].max_tier == "public" and low["t2"].max_tier == "public_safeguarded"


def test_every_rule_cited_is_documented() -> None:
    result = assess(FRAMEWORK, [run(0.45, 0.05)])
    for domain in result.domains:
        for _, test in domain.tests:
            assert test.rule in RULES


def test_json_output_is_byte_identical_and_order_free() -> None:
    items = [run(0.3, name="a"), run(0.6, name="b"), run(0.1, version=3, name="c")]
    first = assessment_to_json(assess(FRAMEWORK, items, safeguards("filters")))
    again = assessment_to_json(assess(FRAMEWORK, list(reversed(items)), safeguards("filters")))
    assert first == again
    data = json.loads(first)
    assert data["framework"]["id"] == "small"
    assert data["domains"][0]["level"] == "c1"


def test_duplicate_evidence_counts_once() -> None:
    item = run(0.3)
    assert assess(FRAMEWORK, [item, item]).evidence == assess(FRAMEWORK, [item]).evidence


scores = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
stderrs = st.one_of(st.none(), st.floats(min_value=0.0, max_value=0.2, allow_nan=False))


def level_index(result: object) -> int:
    domain = result.domains[0]  # type: ignore[attr-defined]
    return FRAMEWORK.domains[0].level_index(domain.level)


@settings(max_examples=200, deadline=None)
@given(value=scores, bump=scores, stderr=stderrs, samples=st.integers(1, 200))
def test_raising_a_score_never_lowers_the_level(
    value: float, bump: float, stderr: float | None, samples: int
) -> None:
    higher = min(1.0, value + bump)
    low = assess(FRAMEWORK, [run(value, stderr, samples=samples)])
    high = assess(FRAMEWORK, [run(higher, stderr, samples=samples)])
    assert level_index(high) >= level_index(low)


@settings(max_examples=200, deadline=None)
@given(
    value=scores,
    stderr=stderrs,
    kinds=st.sets(st.sampled_from(["classifier_eval", "policy"])),
    general=st.booleans(),
)
def test_adding_a_safeguard_never_lowers_the_permitted_tier(
    value: float, stderr: float | None, kinds: set[str], general: bool
) -> None:
    findings = FindingsReport(
        "b" * 64,
        "f.json",
        (Finding("F", "t", "jailbreak", "general" if general else "narrow", "high", True, False),),
    )
    evidence = [run(value, stderr), findings]
    without = assess(FRAMEWORK, evidence, None)
    with_it = assess(FRAMEWORK, evidence, safeguards("filters", kinds=tuple(sorted(kinds))))
    assert tier_rank(with_it.max_tier) <= tier_rank(without.max_tier)
    for before, after in zip(without.jurisdictions, with_it.jurisdictions, strict=True):
        assert tier_rank(after.max_tier) <= tier_rank(before.max_tier)


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.tuples(scores, stderrs, st.integers(0, 3)), min_size=1, max_size=6),
    data=st.data(),
)
def test_output_does_not_depend_on_evidence_order(
    values: list[tuple[float, float | None, int]], data: st.DataObject
) -> None:
    items = [run(v, s, version=ver, name=str(i)) for i, (v, s, ver) in enumerate(values)]
    shuffled = data.draw(st.permutations(items))
    assert assessment_to_json(assess(FRAMEWORK, items)) == assessment_to_json(
        assess(FRAMEWORK, shuffled)
    )
