"""A small, valid framework as data, for tests to copy and break."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from clearance.framework import Framework, parse_framework

SMALL: dict[str, Any] = {
    "id": "small",
    "title": "Small test framework",
    "version": "1.0",
    "effective_date": "2026-07-01",
    "domains": [
        {
            "id": "cyber",
            "name": "Cyber",
            "levels": [
                {"id": "c0", "name": "Baseline"},
                {
                    "id": "c1",
                    "name": "High",
                    "required_safeguards": ["filters"],
                    "max_tier": "public_safeguarded",
                    "max_tier_if_safeguards_missing": "approved_partners",
                },
                {
                    "id": "c2",
                    "name": "Critical",
                    "required_safeguards": ["filters"],
                    "max_tier": "approved_partners",
                    "max_tier_if_safeguards_missing": "internal",
                },
            ],
        }
    ],
    "metrics": [
        {
            "id": "ctf",
            "domain": "cyber",
            "source": {
                "kind": "inspect",
                "task": "ctf",
                "task_versions": [1],
                "scorer": "match",
                "metric": "accuracy",
            },
            "thresholds": {"c1": 0.5, "c2": 0.8},
            "elicitation": {"min_epochs": 1, "min_samples": 20},
        }
    ],
    "finding_rules": [
        {
            "id": "rt-general",
            "description": "general jailbreak",
            "match": {"category": "jailbreak", "scope": "general", "mitigated": False},
            "max_tier": "approved_partners",
            "conditions": ["fix it"],
        },
        {
            "id": "rt-narrow",
            "description": "narrow jailbreak",
            "match": {"category": "jailbreak", "scope": "narrow", "mitigated": False},
            "conditions": ["patch within 30 days"],
        },
    ],
    "safeguards": [
        {"id": "filters", "name": "Filters", "evidence_required": ["classifier_eval"]},
    ],
    "jurisdictions": [
        {"id": "t1", "name": "Tier 1", "members": ["US", "GB"]},
        {
            "id": "t2",
            "name": "Rest",
            "members": ["*"],
            "max_tier": "public_safeguarded",
            "level_caps": [{"domain": "cyber", "level": "c1", "max_tier": "approved_partners"}],
            "end_user_caps": {"military": "internal"},
        },
    ],
}


def small(**changes: Any) -> dict[str, Any]:
    """A deep copy of SMALL with top-level keys replaced."""
    data = copy.deepcopy(SMALL)
    data.update(changes)
    return data


def as_yaml(data: dict[str, Any]) -> str:
    """The data as YAML text."""
    return yaml.safe_dump(data, sort_keys=False)


def load(data: dict[str, Any]) -> Framework:
    """Parse the data as a framework file would be parsed."""
    return parse_framework(as_yaml(data), "test.yaml")
