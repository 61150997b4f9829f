"""The assessment as JSON: a stable shape whose bytes depend only on the inputs."""

from __future__ import annotations

import json
from typing import Any

from clearance.framework._assess import Assessment, LevelTest


def assessment_to_dict(assessment: Assessment) -> dict[str, Any]:
    """The assessment as plain JSON-ready data."""
    return {
        "framework": {
            "id": assessment.framework_id,
            "version": assessment.framework_version,
            "sha256": assessment.framework_digest,
        },
        "evidence": [
            {"sha256": digest, "kind": kind, "name": name}
            for digest, kind, name in assessment.evidence
        ],
        "domains": [
            {
                "domain": d.domain,
                "level": d.level,
                "level_name": d.level_name,
                "set_by": [_test(metric, test) for metric, test in d.set_by],
                "tests": [_test(metric, test) for metric, test in d.tests],
                "required_safeguards": list(d.required_safeguards),
                "missing_safeguards": [
                    {"id": m.id, "reason": m.reason} for m in d.missing_safeguards
                ],
                "max_tier": d.max_tier,
            }
            for d in assessment.domains
        ],
        "findings": [
            {
                "finding": f.finding,
                "evidence": f.evidence,
                "rule": f.rule,
                "max_tier": f.max_tier,
                "conditions": list(f.conditions),
            }
            for f in assessment.findings
        ],
        "conditions": list(assessment.conditions),
        "max_tier": assessment.max_tier,
        "jurisdictions": [
            {
                "group": j.group,
                "max_tier": j.max_tier,
                "end_users": dict(j.end_users),
                "binding": list(j.binding),
            }
            for j in assessment.jurisdictions
        ],
        "refused_evidence": [
            {"sha256": r.digest, "name": r.name, "metric": r.metric, "reason": r.reason}
            for r in assessment.refused
        ],
        "unused_evidence": list(assessment.unused),
        "explanation": list(assessment.explanation),
    }


def assessment_to_json(assessment: Assessment) -> str:
    """The assessment as indented JSON with sorted keys; same inputs give the same bytes."""
    return json.dumps(assessment_to_dict(assessment), indent=2, sort_keys=True, ensure_ascii=False)


def _test(metric: str, test: LevelTest) -> dict[str, Any]:
    return {
        "metric": metric,
        "level": test.level,
        "threshold": test.threshold,
        "outcome": test.outcome,
        "rule": test.rule,
        "evidence": test.evidence,
        "value": test.value,
        "lower": test.lower,
        "upper": test.upper,
        "interval": test.interval,
    }
