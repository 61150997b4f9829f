"""Which Inspect task file to run: a task the framework names, or a file the user gives.

Two ways in, kept apart: `framework_task` finds only the framework's own file, its bytes (and its
datasets') checked against the framework's SHA-256s, and is all the server ever runs; a path is
for the command line alone (`clearance evaluate --task FILE`), where the user names a file on
their own machine (`resolve_task`). A framework task's id always means the framework's file,
whatever lies in the working folder under that name.
"""

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


def framework_task(task_id: str, framework: Framework, folders: list[Path]) -> ResolvedTask:
    """The framework's task `task_id`, found in `folders`, its file and datasets having exactly
    the SHA-256 the framework gives; never a path of the caller's choosing."""
    named = {task.id: task for task in framework.tasks}
    task = named.get(task_id)
    if task is None:
        shipped = ", ".join(sorted(named)) or "none"
        raise InvalidInput(
            f"task: {task_id!r} is not a task of framework {framework.id} "
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
                raise InvalidInput(f"task: {task.id}: {relative} is missing beside {candidate}")
            actual = hashlib.sha256(found.read_bytes()).hexdigest()
            if actual != expected:
                raise InvalidInput(
                    f"task: {task.id}: {relative} has SHA-256 {actual[:16]}..., but the "
                    f"framework names {expected[:16]}...; refusing to run a task that is not "
                    "the framework's"
                )
        return ResolvedTask(candidate, task.id)
    where = ", ".join(str(f) for f in folders)
    raise InvalidInput(
        f"task: the framework's task {task.id} ({task.file}) is not in {where}; give the "
        "folder that holds the framework's task files with --tasks-dir"
    )


def resolve_task(spec: str, framework: Framework, folders: list[Path]) -> ResolvedTask:
    """The command line's `--task`: the framework's task when `spec` is one of its ids (see
    `framework_task`), else a task file on the user's own machine."""
    if spec in {task.id for task in framework.tasks}:
        try:
            return framework_task(spec, framework, folders)
        except InvalidInput as exc:
            raise InvalidInput(f"--{exc.message}") from None
    path = Path(spec)
    if path.suffix == ".py" or path.exists():
        if not path.is_file():
            raise InvalidInput(f"--task: no task file {spec}")
        return ResolvedTask(path)
    shipped = ", ".join(sorted(task.id for task in framework.tasks)) or "none"
    raise InvalidInput(
        f"--task: {spec!r} is neither a task file nor a task of framework {framework.id} "
        f"{framework.version} (its tasks: {shipped})"
    )
