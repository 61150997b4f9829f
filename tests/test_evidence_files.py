"""Findings and safeguards files, and the refusals every evidence file shares."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from clearance.errors import EvidenceRefused
from clearance.evidence import FINDINGS_SCHEMA, SAFEGUARDS_SCHEMA, load_evidence, load_safeguards
from clearance.framework import Finding, FindingsReport, SafeguardClaim
from tests.conftest import InspectLogs

FINDINGS: dict[str, Any] = {
    "schema": "clearance/findings/v1",
    "model": "atlas-2",
    "findings": [
        {
            "id": "RT-1",
            "title": "Role-play jailbreak yields synthesis route",
            "category": "jailbreak",
            "scope": "general",
            "severity": "critical",
            "reproduced": True,
            "mitigated": False,
            "domain": "cbrn",
        },
        {
            "id": "RT-2",
            "title": "Base64 prompt leaks system prompt",
            "category": "prompt-extraction",
            "scope": "narrow",
            "severity": "low",
            "reproduced": False,
            "mitigated": True,
        },
    ],
}

SAFEGUARDS: dict[str, Any] = {
    "schema": "clearance/safeguards/v1",
    "safeguards": [
        {
            "id": "filters",
            "description": "Input and output classifiers on every public channel.",
            "evidence": [
                {"kind": "test-results", "reference": "classifier-eval.eval", "sha256": "ab" * 32},
                {"kind": "audit-report", "reference": "https://example.org/audit/17"},
                {"kind": "test-results", "reference": "jailbreak-suite.eval"},
            ],
        },
        {"id": "kyc", "description": "Identity checks for API customers.", "evidence": []},
    ],
}


def write(tmp_path: Path, document: Any, name: str = "evidence.json") -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def refused(load: Any, path: Path) -> str:
    with pytest.raises(EvidenceRefused) as caught:
        load(path)
    message: str = caught.value.message
    assert message.startswith(f"{path}: ")
    assert "\n" not in message
    return message


def test_the_schema_files_are_valid_draft_2020_12() -> None:
    for name in ("findings", "safeguards"):
        text = files("clearance.schemas").joinpath(f"{name}.schema.json").read_text("utf-8")
        schema = json.loads(text)
        Draft202012Validator.check_schema(schema)
        assert schema["properties"]["schema"]["const"] == f"clearance/{name}/v1"
    assert (FINDINGS_SCHEMA, SAFEGUARDS_SCHEMA) == (
        "clearance/findings/v1",
        "clearance/safeguards/v1",
    )


def test_a_findings_file_becomes_a_report(tmp_path: Path) -> None:
    path = write(tmp_path, FINDINGS, "findings.json")
    report = load_evidence(path)
    assert isinstance(report, FindingsReport)
    assert report.kind == "findings"
    assert report.name == "findings.json"
    assert report.digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert report.findings == (
        Finding(
            id="RT-1",
            title="Role-play jailbreak yields synthesis route",
            category="jailbreak",
            scope="general",
            severity="critical",
            reproduced=True,
            mitigated=False,
            domain="cbrn",
        ),
        Finding(
            id="RT-2",
            title="Base64 prompt leaks system prompt",
            category="prompt-extraction",
            scope="narrow",
            severity="low",
            reproduced=False,
            mitigated=True,
            domain=None,
        ),
    )


def test_an_empty_findings_list_is_a_report_of_nothing(tmp_path: Path) -> None:
    document = copy.deepcopy(FINDINGS) | {"findings": []}
    report = load_evidence(write(tmp_path, document))
    assert isinstance(report, FindingsReport)
    assert report.findings == ()


def broken(document: dict[str, Any], path: list[str | int], value: Any) -> dict[str, Any]:
    document = copy.deepcopy(document)
    target: Any = document
    for step in path[:-1]:
        target = target[step]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            ["findings", 1, "severity"],
            "severe",
            "at $.findings[1].severity: 'severe' is not one of",
        ),
        (["findings", 0, "scope"], "broad", "at $.findings[0].scope:"),
        (["findings", 0, "reproduced"], "yes", "at $.findings[0].reproduced: 'yes' is not of type"),
        (["findings", 0, "mitigated"], DELETE, "at $.findings[0]: 'mitigated' is a required"),
        (["findings", 1, "mitgated"], True, "'mitgated' was unexpected"),
        (["findings", 0, "id"], "", "at $.findings[0].id:"),
        (["model"], DELETE, "at $: 'model' is a required property"),
        (["findings"], {}, "at $.findings: {} is not of type 'array'"),
    ],
)
def test_a_findings_schema_violation_names_the_field(
    tmp_path: Path, path: list[str | int], value: Any, expected: str
) -> None:
    message = refused(load_evidence, write(tmp_path, broken(FINDINGS, path, value)))
    assert "does not follow the findings schema" in message
    assert expected in message


def test_a_repeated_finding_id_is_refused(tmp_path: Path) -> None:
    document = broken(FINDINGS, ["findings", 1, "id"], "RT-1")
    assert "at $.findings[1].id: the id 'RT-1' is used twice" in refused(
        load_evidence, write(tmp_path, document)
    )


def test_a_safeguards_declaration_lists_sorted_unique_evidence_kinds(tmp_path: Path) -> None:
    path = write(tmp_path, SAFEGUARDS, "safeguards.json")
    declaration = load_safeguards(path)
    assert declaration.name == "safeguards.json"
    assert declaration.digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert declaration.safeguards == (
        SafeguardClaim(
            id="filters",
            description="Input and output classifiers on every public channel.",
            evidence_kinds=("audit-report", "test-results"),
        ),
        SafeguardClaim(id="kyc", description="Identity checks for API customers."),
    )


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            ["safeguards", 0, "evidence", 0, "sha256"],
            "AB" * 32,
            "at $.safeguards[0].evidence[0].sha256",
        ),
        (["safeguards", 0, "evidence", 1, "kind"], DELETE, "'kind' is a required property"),
        (["safeguards", 1, "evidence"], DELETE, "at $.safeguards[1]: 'evidence' is a required"),
        (
            ["safeguards", 1, "id"],
            "filters",
            "at $.safeguards[1].id: the id 'filters' is used twice",
        ),
        (["schema"], "clearance/findings/v1", "is a clearance/findings/v1 file, not"),
        (["schema"], DELETE, "'schema' is a required property"),
    ],
)
def test_a_bad_safeguards_declaration_names_the_field(
    tmp_path: Path, path: list[str | int], value: Any, expected: str
) -> None:
    message = refused(load_safeguards, write(tmp_path, broken(SAFEGUARDS, path, value)))
    assert expected in message


def test_a_safeguards_declaration_is_not_evidence(tmp_path: Path) -> None:
    assert "safeguards declaration" in refused(load_evidence, write(tmp_path, SAFEGUARDS))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "is empty"),
        (
            "{not json",
            "is not valid JSON (Expecting property name enclosed in double quotes at line 1",
        ),
        ('{"schema": "clearance/findings/v1", "schema": "x"}', "the key 'schema' appears twice"),
        ("[1, 2]", "is JSON but not an evidence file (a list)"),
        ('{"hello": "world"}', "is JSON but not an evidence file clearance reads"),
        ('{"schema": "clearance/findings/v9"}', "has schema 'clearance/findings/v9'"),
        ("just some text", "neither an Inspect .eval log nor JSON"),
    ],
)
def test_a_file_that_is_not_evidence_is_refused(
    tmp_path: Path, content: str, expected: str
) -> None:
    assert expected in refused(load_evidence, write(tmp_path, content))


def test_garbage_bytes_are_refused(tmp_path: Path) -> None:
    for name in ("garbage.eval", "garbage.json", "garbage"):
        path = tmp_path / name
        path.write_bytes(bytes(range(256)) * 4)
        refused(load_evidence, path)


def test_invalid_utf8_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"model": "caf\xe9"}')
    assert "not UTF-8" in refused(load_evidence, path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    assert "no such file" in refused(load_evidence, tmp_path / "absent.eval")
    assert "no such file" in refused(load_safeguards, tmp_path / "absent.json")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    assert "is a directory" in refused(load_evidence, tmp_path)


def test_a_path_through_a_file_is_refused(tmp_path: Path) -> None:
    parent = write(tmp_path, FINDINGS)
    assert "cannot be read (Not a directory)" in refused(load_evidence, parent / "child.json")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, FINDINGS)
    path.chmod(0)
    assert "permission denied" in refused(load_evidence, path)


@pytest.mark.parametrize("fmt", ["eval", "json"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.none() | st.floats(0, 1), flip=st.floats(0, 1), byte=st.integers(0, 255))
def test_a_damaged_inspect_log_is_read_or_refused_never_crashes(
    inspect_logs: InspectLogs,
    tmp_path_factory: pytest.TempPathFactory,
    fmt: str,
    cut: float | None,
    flip: float,
    byte: int,
) -> None:
    source = inspect_logs.eval if fmt == "eval" else inspect_logs.json
    data = bytearray(source.read_bytes())
    data[int(flip * (len(data) - 1))] = byte
    damaged = tmp_path_factory.getbasetemp() / f"damaged.{fmt}"
    if cut is not None:
        data = data[: max(1, int(cut * len(data)))]
    damaged.write_bytes(bytes(data))
    with contextlib.suppress(EvidenceRefused):
        load_evidence(damaged)
