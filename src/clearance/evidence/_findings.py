"""Red-team findings files (`clearance/findings/v1`) as a FindingsReport."""

from __future__ import annotations

from typing import Any

from clearance.evidence._files import EvidenceFile, refuse_repeated_ids, validate
from clearance.framework import Finding, FindingsReport

FINDINGS_SCHEMA = "clearance/findings/v1"


def findings_report(file: EvidenceFile, document: Any) -> FindingsReport:
    """Validate a parsed findings file against its JSON Schema and type its findings."""
    validate(file, document, "findings")
    findings = tuple(
        Finding(
            id=item["id"],
            title=item["title"],
            category=item["category"],
            scope=item["scope"],
            severity=item["severity"],
            reproduced=item["reproduced"],
            mitigated=item["mitigated"],
            domain=item.get("domain"),
        )
        for item in document["findings"]
    )
    refuse_repeated_ids(file, [finding.id for finding in findings], "$.findings")
    return FindingsReport(digest=file.digest, name=file.name, findings=findings)
