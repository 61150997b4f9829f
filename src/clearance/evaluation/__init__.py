"""The authority's own evaluation runs: Inspect tasks through the gateway, under its testing grant.

`framework_task` finds a task the framework names, its bytes checked against the framework's
SHA-256s (all the server runs); `resolve_task`, the command line's, also takes a task file the
user names. `run_task` runs it against a model through the gateway's OpenAI-compatible API
(bounded retries, a timeout per request) and returns the Inspect log file, ready to be filed as
authority evidence;
`evaluate_application` does both and files the log on an application (`clearance evaluate`).
"""

from clearance.evaluation._authority import Evaluated, RegisterRefused, evaluate_application
from clearance.evaluation._run import run_task
from clearance.evaluation._tasks import ResolvedTask, framework_task, resolve_task

__all__ = [
    "Evaluated",
    "RegisterRefused",
    "ResolvedTask",
    "evaluate_application",
    "framework_task",
    "resolve_task",
    "run_task",
]
