"""`clearance framework check`: valid files, and bad ones refused with status 2 and no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from clearance.examples import example_path
from clearance.framework import framework_digest, parse_framework
from tests.framework_data import as_yaml, small


def clearance(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clearance", *args], capture_output=True, text=True, check=False
    )


def test_check_prints_identity_of_the_example() -> None:
    result = clearance("framework", "check", str(example_path()))
    assert result.returncode == 0, result.stderr
    digest = framework_digest(parse_framework(example_path().read_text()))
    assert f"sha256:{digest}" in result.stdout
    assert "marked as an example" in result.stdout


BAD = {
    "unknown_key": (as_yaml(small(extra=1)), "unknown key 'extra'"),
    "bad_yaml": ("id: [\n", "not valid YAML"),
    "empty": ("", "the file is empty"),
    "impossible_date": (
        as_yaml(small()).replace("'2026-07-01'", "2026-02-30"),
        "2026-02-30 is not a valid date",
    ),
    "misspelled_key": (
        as_yaml(small()).replace("thresholds:", "tresholds:"),
        "did you mean 'thresholds'?",
    ),
    "yaml_boolean": (
        as_yaml(small()).replace("- US\n", "- NO\n", 1),
        "YAML read NO as the boolean false",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_framework_exits_2_with_one_message(tmp_path: Path, case: str) -> None:
    text, expected = BAD[case]
    path = tmp_path / "fw.yaml"
    path.write_text(text)
    result = clearance("framework", "check", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = clearance("framework", "check", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'nope.yaml'}: no such file"


def test_directory_instead_of_file(tmp_path: Path) -> None:
    result = clearance("framework", "check", str(tmp_path))
    assert result.returncode == 2 and "is a directory" in result.stderr
