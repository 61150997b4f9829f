"""Example data shipped with clearance: a framework, evidence and safeguards to try and copy."""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

from clearance.errors import InvalidInput

EXAMPLE_FRAMEWORK = "frontier-example.yaml"


def example_path(name: str = EXAMPLE_FRAMEWORK) -> Path:
    """Filesystem path of a shipped example file."""
    return Path(str(files("clearance.examples").joinpath(name)))


def copy_examples(destination: Path) -> list[Path]:
    """Copy the example framework, evidence and safeguards into a new or empty folder."""
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise InvalidInput(f"{destination}: exists and is not an empty folder; choose a new one")
    source = example_path("")
    written: list[Path] = []
    (destination / "evidence").mkdir(parents=True, exist_ok=True)
    for name in (EXAMPLE_FRAMEWORK, "safeguards.json"):
        written.append(Path(shutil.copyfile(source / name, destination / name)))
    for item in sorted((source / "evidence").iterdir()):
        if item.is_file():
            written.append(Path(shutil.copyfile(item, destination / "evidence" / item.name)))
    # the framework's own evaluation tasks, named by digest beside the framework file
    (destination / "tasks").mkdir(exist_ok=True)
    for item in sorted((source / "tasks").iterdir()):
        if item.is_file() and item.suffix in (".py", ".jsonl") and item.name != "__init__.py":
            written.append(Path(shutil.copyfile(item, destination / "tasks" / item.name)))
    return written
