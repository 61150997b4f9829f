"""The release framework as data, and the assessor anyone can run against it.

Pure: no network, database or wall clock. Text comes in; typed values and JSON go out.
"""

from clearance.framework._assess import (
    RULES,
    Assessment,
    DomainResult,
    JurisdictionResult,
    LevelTest,
    assess,
)
from clearance.framework._compare import AssessmentDifference, compare_assessments
from clearance.framework._diff import Change, diff_frameworks
from clearance.framework._disclosure import confidential_by_default, evidence_domains
from clearance.framework._evidence import (
    EvalRun,
    Evidence,
    Finding,
    FindingsReport,
    SafeguardClaim,
    SafeguardDeclaration,
    Score,
    evidence_from_dict,
    evidence_to_dict,
)
from clearance.framework._load import canonical_json, framework_digest, parse_framework
from clearance.framework._report import assessment_to_dict, assessment_to_json
from clearance.framework._schema import (
    TIER_ORDER,
    Domain,
    EvaluationTask,
    Framework,
    Level,
    Metric,
    OnBreach,
    RequiredCondition,
    TierId,
    most_closed,
    tier_rank,
)

__all__ = [
    "RULES",
    "TIER_ORDER",
    "Assessment",
    "AssessmentDifference",
    "Change",
    "Domain",
    "DomainResult",
    "EvalRun",
    "EvaluationTask",
    "Evidence",
    "Finding",
    "FindingsReport",
    "Framework",
    "JurisdictionResult",
    "Level",
    "LevelTest",
    "Metric",
    "OnBreach",
    "RequiredCondition",
    "SafeguardClaim",
    "SafeguardDeclaration",
    "Score",
    "TierId",
    "assess",
    "assessment_to_dict",
    "assessment_to_json",
    "canonical_json",
    "compare_assessments",
    "confidential_by_default",
    "diff_frameworks",
    "evidence_domains",
    "evidence_from_dict",
    "evidence_to_dict",
    "framework_digest",
    "most_closed",
    "parse_framework",
    "tier_rank",
]
