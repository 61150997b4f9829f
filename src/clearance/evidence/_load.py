"""`load_evidence`: one entry point that tells the evidence formats apart by their content."""

from __future__ import annotations

import codecs
import io
import zipfile
from pathlib import Path

from clearance.evidence._files import EvidenceFile, parse_json, read_file
from clearance.evidence._findings import FINDINGS_SCHEMA, findings_report
from clearance.evidence._inspect import inspect_run, is_inspect_json_log
from clearance.evidence._lm_eval import is_lm_eval_results, lm_eval_run
from clearance.evidence._safeguards import SAFEGUARDS_SCHEMA
from clearance.framework import EvalRun, FindingsReport

_ZIP_MAGIC = b"PK\x03\x04"

MAX_ARCHIVE_BYTES = 2 * 1024 * 1024 * 1024
"""An .eval archive's members together unpack to at most this many bytes."""
MAX_ARCHIVE_RATIO = 200
"""Nor may they unpack to more than this many times the archive's size (a zip bomb's is ~1000)."""


def check_archive(file: EvidenceFile) -> None:
    """Refuse a zip bomb from its central directory alone, before anything is unpacked.

    The sizes the directory declares bound what Python's zip reader will unpack (it stops at
    the declared size and fails the CRC check on a lie), so checking them is enough.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(file.data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # Inspect's reader refuses it with its own words
    if unpacked > MAX_ARCHIVE_BYTES:
        raise file.refuse(
            f"unpacks to {unpacked} bytes, more than the {MAX_ARCHIVE_BYTES} bytes allowed"
        )
    if unpacked > MAX_ARCHIVE_RATIO * max(len(file.data), 1):
        raise file.refuse(
            f"unpacks to {unpacked // max(len(file.data), 1)} times its size, more than the "
            f"{MAX_ARCHIVE_RATIO} times allowed (a zip bomb?)"
        )


def load_evidence(path: Path) -> EvalRun | FindingsReport:
    """Read an Inspect log, lm-eval results or findings file into typed, digested evidence."""
    return evidence_of(read_file(path))


def load_evidence_bytes(data: bytes, name: str) -> EvalRun | FindingsReport:
    """load_evidence() for uploaded bytes; errors name the file by `name`, never by a path."""
    return evidence_of(EvidenceFile.from_bytes(data, name))


def evidence_of(file: EvidenceFile) -> EvalRun | FindingsReport:
    """The typed evidence in a file already read."""
    path = file.path
    if not file.data:
        raise file.refuse("is empty")
    # content decides, so a renamed file is still read for what it is
    if file.data.startswith(_ZIP_MAGIC):
        check_archive(file)
        return inspect_run(file, "eval")
    if path.suffix == ".eval":
        raise file.refuse("is not an Inspect .eval log (not a zip archive; truncated or corrupt?)")
    if file.data.removeprefix(codecs.BOM_UTF8).lstrip()[:1] not in (b"{", b"["):
        raise file.refuse("is not an evidence file: neither an Inspect .eval log nor JSON")
    return _from_json(file)


def _from_json(file: EvidenceFile) -> EvalRun | FindingsReport:
    # Inspect logs run to megabytes, and Inspect parses them itself (last repeated key wins, as
    # here); checking keys for repeats would triple the cost, so only the small formats get it.
    document = parse_json(file, unique_keys=False)
    if is_inspect_json_log(document):
        return inspect_run(file, "json", document)
    document = parse_json(file)
    if not isinstance(document, dict):
        raise file.refuse(f"is JSON but not an evidence file (a {type(document).__name__})")
    schema = document.get("schema")
    if schema == FINDINGS_SCHEMA:
        return findings_report(file, document)
    if schema == SAFEGUARDS_SCHEMA:
        raise file.refuse("is a safeguards declaration: give it as the safeguards, not evidence")
    if schema is not None:
        raise file.refuse(f"has schema {schema!r}, which clearance does not read")
    if is_lm_eval_results(document):
        return lm_eval_run(file, document)
    raise file.refuse(
        "is JSON but not an evidence file clearance reads (an Inspect log, "
        f"lm-evaluation-harness results, or {FINDINGS_SCHEMA} findings)"
    )
