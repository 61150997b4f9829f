"""Which evidence a framework keeps confidential unless its upload says otherwise."""

from __future__ import annotations

from clearance.framework._evidence import EvalRun, Evidence, FindingsReport, SafeguardDeclaration
from clearance.framework._schema import Framework


def evidence_domains(framework: Framework, item: Evidence | SafeguardDeclaration) -> set[str]:
    """The domains an evidence item is about: those of the metrics that read a run, and those
    its findings name. A safeguards declaration is about no domain."""
    if isinstance(item, EvalRun):
        return {
            metric.domain
            for metric in framework.metrics
            if metric.source.kind == item.source and metric.source.task == item.task
        }
    if isinstance(item, FindingsReport):
        return {finding.domain for finding in item.findings if finding.domain is not None}
    return set()


def confidential_by_default(framework: Framework, item: Evidence | SafeguardDeclaration) -> bool:
    """True when the item is about a domain whose evidence the framework keeps confidential."""
    confidential = {domain.id for domain in framework.domains if domain.confidential_evidence}
    return bool(confidential & evidence_domains(framework, item))
