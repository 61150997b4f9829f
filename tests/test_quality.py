"""The strict tools run in the suite: ruff (lint and layout) everywhere, mypy --strict on src."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_is_clean() -> None:
    # through the running interpreter: the venv's ruff, whether or not the venv is activated
    result = run(sys.executable, "-m", "ruff", "check", "src", "tests", "bench", "scripts")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    # one layout everywhere, so that a diff shows only what changed
    result = run(
        sys.executable, "-m", "ruff", "format", "--check", "src", "tests", "bench", "scripts"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr
