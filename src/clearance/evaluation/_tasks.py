"""Which Inspect task file to run: a path given by the user, or a task the framework names."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from clearance.errors import InvalidInput
from clearance.framework import Framework


@dataclass(frozen=True)
class ResolvedTask:
    """A task file to run, and the framework task it is (None: a file the user gave)."""

    path: Path
    framework_task: str | None = None


def resolve_task(spec: str, framework: Framework, folders: list[Path]) -> ResolvedTask:
    """`spec` as an existing task file, or as the id of a framework task found in `folders`.

    A framework task's file and datasets must have exactly the SHA-256 the framework gives.
    """
    path = Path(spec)
    if path.suffix == ".py" or path.exists():
        if not path.is_file():
            raise InvalidInput(f"--task: no task file {spec}")
        return ResolvedTask(path)
    named = {task.id: task for task in framework.tasks}
    task = named.get(spec)
    if task is None:
        shipped = ", ".join(sorted(named)) or "none"
        raise InvalidInput(
            f"--task: {spec!r} is neither a task file nor a task of framework {framework.id} "
            f"{framework.version} (its tasks: {shipped})"
        )
    for folder in folders:
        candidate = folder / task.file
        if not candidate.is_file():
            continue
        for relative, expected in (
            (task.file, task.sha256),
            *((d.file, d.sha256) for d in task.datasets),
        ):
            found = folder / relative
            if not found.is_file():
                raise InvalidInput(f"--task: {task.id}: {relative} is missing beside {candidate}")
            actual = hashlib.sha256(found.read_bytes()).hexdigest()
            if actual != expected:
                raise InvalidInput(
                    f"--task: {task.id}: {relative} has SHA-256 {actual[:16]}..., but the "
                    f"framework names {expected[:16]}...; refusing to run a task that is not "
                    "the framework's"
                )
        return ResolvedTask(candidate, task.id)
    where = ", ".join(str(f) for f in folders)
    raise InvalidInput(
        f"--task: the framework's task {task.id} ({task.file}) is not in {where}; give the "
        "folder that holds the framework's task files with --tasks-dir"
    )
