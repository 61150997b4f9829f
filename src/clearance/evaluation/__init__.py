"""The authority's own evaluation runs: Inspect tasks through the gateway, under its testing grant.

`resolve_task` finds a task file (a path, or a task the framework names, its bytes checked against
the framework's SHA-256s); `run_task` runs it against a model through the gateway's
OpenAI-compatible API and returns the Inspect log file, ready to be filed as authority evidence.
"""

from clearance.evaluation._run import run_task
from clearance.evaluation._tasks import ResolvedTask, resolve_task

__all__ = ["ResolvedTask", "resolve_task", "run_task"]
