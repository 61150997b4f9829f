"""Safeguards declarations (`clearance/safeguards/v1`) as a SafeguardDeclaration."""

from __future__ import annotations

from pathlib import Path

from clearance.evidence._files import (
    EvidenceFile,
    parse_json,
    read_file,
    refuse_repeated_ids,
    validate,
)
from clearance.framework import SafeguardClaim, SafeguardDeclaration

SAFEGUARDS_SCHEMA = "clearance/safeguards/v1"


def load_safeguards(path: Path) -> SafeguardDeclaration:
    """Read a safeguards declaration; each claim's evidence kinds are the sorted unique kinds."""
    return _declaration(read_file(path))


def load_safeguards_bytes(data: bytes, name: str) -> SafeguardDeclaration:
    """load_safeguards() for uploaded bytes; errors name the file by `name`, never by a path."""
    return _declaration(EvidenceFile.from_bytes(data, name))


def _declaration(file: EvidenceFile) -> SafeguardDeclaration:
    document = parse_json(file)
    validate(file, document, "safeguards")
    claims = tuple(
        SafeguardClaim(
            id=item["id"],
            description=item["description"],
            evidence_kinds=tuple(sorted({evidence["kind"] for evidence in item["evidence"]})),
        )
        for item in document["safeguards"]
    )
    refuse_repeated_ids(file, [claim.id for claim in claims], "$.safeguards")
    return SafeguardDeclaration(digest=file.digest, name=file.name, safeguards=claims)
