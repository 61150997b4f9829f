"""The framework schema: what loads, what is refused and how, and the framework's identity."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from clearance.errors import InvalidInput
from clearance.examples import example_path
from clearance.framework import canonical_json, framework_digest, parse_framework
from tests.framework_data import SMALL, as_yaml, load, small


def load_text(text: str) -> Any:
    return parse_framework(text, "fw.yaml")


def refused(data: dict[str, Any] | str) -> str:
    text = data if isinstance(data, str) else as_yaml(data)
    with pytest.raises(InvalidInput) as info:
        parse_framework(text, "fw.yaml")
    return info.value.message


def test_small_framework_loads() -> None:
    framework = load(SMALL)
    assert framework.id == "small"
    assert [level.id for level in framework.domains[0].levels] == ["c0", "c1", "c2"]
    assert framework.group_of("US") is not None and framework.group_of("US").id == "t1"  # type: ignore[union-attr]
    assert framework.group_of("BR").id == "t2"  # type: ignore[union-attr]


def test_shipped_example_loads_and_is_marked_as_example() -> None:
    framework = parse_framework(example_path().read_text(), "example")
    assert framework.example is True
    assert {d.id for d in framework.domains} == {"cyber", "cbrn", "ai-rd"}
    assert framework.group_of("NO").id == "tier-1"  # type: ignore[union-attr]


def test_digest_is_sha256_of_rfc8785_form_and_ignores_yaml_layout() -> None:
    import hashlib
    import json

    framework = load(SMALL)
    digest = framework_digest(framework)
    assert digest == hashlib.sha256(canonical_json(framework)).hexdigest()
    reordered = dict(reversed(list(copy.deepcopy(SMALL).items())))
    as_flow = yaml.safe_dump(reordered, default_flow_style=True)
    assert framework_digest(parse_framework(as_flow, "flow.yaml")) == digest
    # canonical JSON: sorted keys, no whitespace
    parsed = json.loads(canonical_json(framework))
    assert (
        canonical_json(framework)
        == json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )


def test_digest_changes_with_any_threshold() -> None:
    changed = small()
    changed["metrics"][0]["thresholds"]["c1"] = 0.51
    assert framework_digest(load(changed)) != framework_digest(load(SMALL))


def test_unknown_key_is_named_with_its_line() -> None:
    data = small()
    data["domains"][0]["levels"][1]["colour"] = "red"
    message = refused(data)
    assert message.startswith("fw.yaml:")
    assert "domains[0].levels[1]" in message and "unknown key 'colour'" in message
    line = int(message.split(":")[1])
    assert "colour" in as_yaml(data).splitlines()[line - 1]


def test_unknown_top_level_key() -> None:
    assert "unknown key 'thresholds'" in refused(small(thresholds={}))


def test_levels_out_of_order_by_threshold() -> None:
    data = small()
    data["metrics"][0]["thresholds"] = {"c1": 0.9, "c2": 0.8}
    assert "levels are out of order" in refused(data)


def test_levels_out_of_order_by_tier() -> None:
    data = small()
    data["domains"][0]["levels"][2]["max_tier"] = "public"
    data["domains"][0]["levels"][2]["max_tier_if_safeguards_missing"] = "public"
    assert "levels are out of order" in refused(data)


def test_threshold_outside_range() -> None:
    data = small()
    data["metrics"][0]["thresholds"]["c2"] = 1.5
    message = refused(data)
    assert "metrics[0]" in message and "outside range [0.0, 1.0]" in message


def test_metric_pointing_at_missing_domain() -> None:
    data = small()
    data["metrics"][0]["domain"] = "bio"
    assert "missing domain 'bio'" in refused(data)


def test_threshold_for_a_level_of_another_domain() -> None:
    data = small()
    data["metrics"][0]["thresholds"]["x9"] = 0.9
    assert "'x9', which is not a level of domain 'cyber'" in refused(data)


def test_level_without_any_threshold() -> None:
    data = small()
    data["metrics"][0]["thresholds"] = {"c1": 0.5}
    assert "level 'c2' of domain 'cyber' has no metric threshold" in refused(data)


def test_required_safeguard_not_in_catalogue() -> None:
    assert "not in the catalogue" in refused(small(safeguards=[]))


def test_safeguards_without_missing_tier() -> None:
    data = small()
    del data["domains"][0]["levels"][1]["max_tier_if_safeguards_missing"]
    assert "must say max_tier_if_safeguards_missing" in refused(data)


def test_unknown_tier() -> None:
    data = small()
    data["jurisdictions"][0]["max_tier"] = "everyone"
    message = refused(data)
    assert "jurisdictions[0].max_tier" in message and "'public'" in message


def test_country_in_two_groups() -> None:
    data = small()
    data["jurisdictions"][1]["members"] = ["US", "*"]
    assert "US is in both" in refused(data)


def test_duplicate_ids() -> None:
    data = small()
    data["metrics"].append(copy.deepcopy(data["metrics"][0]))
    assert "metric ids must be unique; repeated: ctf" in refused(data)


def test_finding_rule_without_effect() -> None:
    data = small()
    data["finding_rules"][1]["conditions"] = []
    assert "needs max_tier, conditions, or both" in refused(data)


def test_bad_yaml_names_line_and_column() -> None:
    assert refused("id: small\ndomains: [\n").startswith("fw.yaml:3:1: not valid YAML")


def test_empty_file() -> None:
    assert refused("  \n") == "fw.yaml: the file is empty; a framework is a YAML mapping"


def test_not_a_mapping() -> None:
    assert refused("- a\n- b\n") == "fw.yaml: a framework is a YAML mapping, not list"


def test_yaml_boolean_country_code_is_caught() -> None:
    data = small()
    data["jurisdictions"][0]["members"] = ["US", False]
    assert "jurisdictions[0].members[1]" in refused(data)


def test_missing_required_key() -> None:
    data = small()
    del data["title"]
    assert "required key 'title' is missing" in refused(data)


def test_a_date_that_does_not_exist_is_named_with_its_line() -> None:
    text = as_yaml(small()).replace("effective_date: '2026-07-01'", "effective_date: 2026-02-30")
    assert "2026-02-30" in text
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "2026-02-30" in row)
    message = refused(text)
    assert message.startswith(f"fw.yaml:{line}:")
    assert "2026-02-30 is not a valid date (day is out of range for month)" in message


def test_a_misspelled_required_key_is_named() -> None:
    data = small()
    data["metrics"][0]["tresholds"] = data["metrics"][0].pop("thresholds")
    message = refused(data)
    assert "required key 'thresholds' is missing; found 'tresholds'" in message
    assert "did you mean 'thresholds'?" in message


def test_a_misspelled_optional_key_gets_a_suggestion() -> None:
    data = small()
    data["domains"][0]["levels"][0]["descripton"] = "the floor"
    assert "unknown key 'descripton'; did you mean 'description'?" in refused(data)
    data = small()
    data["metrics"][0]["source"]["reduccer"] = "mean"  # inside the discriminated union
    assert "did you mean 'reducer'?" in refused(data)


def test_an_unknown_key_without_a_likely_meaning_gets_no_suggestion() -> None:
    data = small()
    data["domains"][0]["levels"][1]["colour"] = "red"
    message = refused(data)
    assert "unknown key 'colour'" in message and "did you mean" not in message


def test_yaml_reading_no_as_false_is_explained() -> None:
    text = as_yaml(small()).replace("- US\n", "- NO\n", 1)
    assert "- NO\n" in text
    message = refused(text)
    assert "YAML read NO as the boolean false" in message and "quote it, as 'NO'" in message
    assert load_text(text.replace("- NO\n", "- 'NO'\n")).group_of("NO") is not None


def test_yaml_reading_a_version_as_a_number_is_explained() -> None:
    text = as_yaml(small()).replace("version: '1.0'", "version: 1.10")
    assert "YAML read 1.10 as the number 1.1: quote it, as '1.10'" in refused(text)


def test_a_quoted_value_of_the_wrong_kind_gets_no_yaml_hint() -> None:
    data = small()
    data["title"] = 5
    assert "YAML read" in refused(data)
    assert "YAML read" not in refused(as_yaml(small()).replace("title: ", "title: [a] #", 1))


def test_aliases_that_expand_too_far_or_contain_themselves_are_refused() -> None:
    bomb = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
    for level in "bcdef":
        previous = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [{', '.join([f'*{previous}'] * 10)}]\n"
    assert "more than 20000 YAML nodes" in refused(bomb)
    assert refused("a: &x [1, *x]\n") == "fw.yaml:1: an anchor is used inside itself (a cycle)"


def test_fields_added_later_leave_an_older_frameworks_identity_alone() -> None:
    """A framework that leaves out the fields marked as added later keeps its SHA-256.

    (The identity below is the one since `procedure.hearing_within_days` moved up from
    `procedure.directive`, the one change that gave every framework a new identity.)
    """
    from tests.framework_data import SMALL, load, small

    assert framework_digest(load(SMALL)) == (
        "ff334b2df564d855d4432c74d1fdb8307e69896dae5def744ec551680a96840f"
    )
    with_defaults = load(small(sectors=[], use_cases={}))
    assert framework_digest(with_defaults) == framework_digest(load(SMALL))
    with_sectors = load(small(sectors=["finance"]))
    assert framework_digest(with_sectors) != framework_digest(load(SMALL))
    assert with_sectors.sector_ids() == ("finance", "military")  # listed, and capped
    with_use_cases = load(small(use_cases={"research": "Research."}))
    assert framework_digest(with_use_cases) != framework_digest(load(SMALL))
