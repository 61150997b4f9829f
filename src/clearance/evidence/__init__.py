"""Evidence adapters: Inspect logs, lm-evaluation-harness results, findings and safeguards files.

Each file is read once; the typed evidence the assessor weighs (clearance.framework's EvalRun,
FindingsReport, SafeguardDeclaration) is named by the SHA-256 of exactly those bytes. Anything
that cannot be counted (unreadable, unfinished, ambiguous, off-schema) is refused with one
EvidenceRefused whose message names the file and the problem.
"""

from clearance.evidence._findings import FINDINGS_SCHEMA
from clearance.evidence._load import load_evidence, load_evidence_bytes
from clearance.evidence._many import load_many
from clearance.evidence._safeguards import (
    SAFEGUARDS_SCHEMA,
    load_safeguards,
    load_safeguards_bytes,
)

__all__ = [
    "FINDINGS_SCHEMA",
    "SAFEGUARDS_SCHEMA",
    "load_evidence",
    "load_evidence_bytes",
    "load_many",
    "load_safeguards",
    "load_safeguards_bytes",
]
