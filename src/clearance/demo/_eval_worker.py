"""A demo's Inspect process: warms Inspect up at once, then runs the jobs it is given.

Started by `EvalWorker` before the register exists, it spends the story's first seconds on what
Inspect does once per process (its imports, the model database).
It then reads jobs (JSON, one line each on stdin) until stdin closes: an eval job runs every
eval of its models in one `eval()` call, the tasks concurrently; an evaluate job runs the
authority's `clearance evaluate` of an application. It writes JSON lines to stdout:
`{"done": N, "total": M}` as samples finish, `{"log": {"model", "task", "path"}}` per finished
eval, `{"finished": true, ...}` per job, or `{"error": "..."}` (and exits).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import IO, Any

_lock = threading.Lock()
_out: IO[str] = sys.stdout


def _emit(message: dict[str, Any]) -> None:
    with _lock:
        _out.write(json.dumps(message) + "\n")
        _out.flush()


def warm_up() -> None:
    """What every eval pays once per process, paid before the job arrives."""
    import inspect_ai
    import inspect_ai.model._providers.openai_compatible
    from inspect_ai.model import get_model_info

    import clearance.evaluation  # noqa: F401  (the authority's run, if this process is given it)

    get_model_info("openai-api/clearance/warm-up")  # loads Inspect's model database
    # eval() imports its (unused) ACP server's schema: Inspect's largest import
    with contextlib.suppress(ImportError):  # another Inspect version may not have it
        import inspect_ai.agent._acp.server  # noqa: F401


def run(job: dict[str, Any]) -> None:
    """Every (model, task) eval of the job, in one eval() call."""
    from inspect_ai import Epochs, Task, eval
    from inspect_ai.dataset import MemoryDataset, Sample
    from inspect_ai.hooks import Hooks, SampleEnd, hooks
    from inspect_ai.model import get_model
    from inspect_ai.scorer import accuracy, includes, stderr
    from inspect_ai.solver import generate

    from clearance.evaluation._run import ATTEMPT_TIMEOUT, CALL_TIMEOUT, MAX_RETRIES

    tasks = []
    total = 0
    for model in job["models"]:
        gateway_model = get_model(
            f"openai-api/clearance/{model['name']}",
            base_url=job["base_url"],
            api_key=model["api_key"],
        )
        for task_name, (samples, epochs, reducers) in job["tasks"].items():
            solved = round(model["solves"][task_name] * samples)
            dataset = MemoryDataset(
                [
                    Sample(
                        id=i,
                        input=(
                            f"Challenge {i} of {task_name}: find the flag."
                            + (f" Known answer: FLAG-{task_name}-{i}." if i < solved else "")
                        ),
                        target=f"FLAG-{task_name}-{i}",
                    )
                    for i in range(samples)
                ]
            )
            tasks.append(
                Task(
                    dataset=dataset,
                    solver=generate(),
                    scorer=includes(),
                    metrics=[accuracy(), stderr()],
                    name=task_name,
                    version=1,
                    epochs=Epochs(epochs, reducers),
                    model=gateway_model,
                )
            )
            total += samples * epochs
    done = 0

    @hooks(name="clearance_demo_progress", description="the demo's progress line")
    class Progress(Hooks):
        async def on_sample_end(self, data: SampleEnd) -> None:
            nonlocal done
            done += 1
            if done % 10 == 0 or done == total:
                _emit({"done": done, "total": total})

    _emit({"done": 0, "total": total})
    log_dir = Path(job["log_dir"])
    logs = eval(
        tasks,
        log_dir=str(log_dir),
        display="log",  # Inspect's "none" still renders its Rich tables, unseen; "log" does not
        max_tasks=len(tasks),
        max_connections=32,
        # a gateway that is gone (the demo stopped) ends the run: Inspect would retry for ever
        max_retries=MAX_RETRIES,
        attempt_timeout=ATTEMPT_TIMEOUT,
        timeout=CALL_TIMEOUT,
        fail_on_error=True,
        log_realtime=False,  # nobody watches the demo's samples live; a database write each
        ctl_server=False,  # no control channel for `inspect ctl`: one server less per eval
        score_display=False,
    )
    for log in logs:
        model_name = log.eval.model.rsplit("/", 1)[-1]
        if log.status != "success":
            raise RuntimeError(
                f"the {log.eval.task} eval of {model_name} did not finish: {log.error}"
            )
        target = log_dir / model_name / f"{log.eval.task}.eval"
        target.parent.mkdir(parents=True, exist_ok=True)
        Path(log.location).replace(target)
        _emit({"log": {"model": model_name, "task": log.eval.task, "path": str(target)}})


def evaluate(job: dict[str, Any]) -> None:
    """The authority's `clearance evaluate` of an application, in this warm process."""
    from clearance.evaluation import evaluate_application

    evaluate_application(
        job["url"],
        job["api_key"],
        job["application"],
        job["task"],
        limit=job["limit"],
        max_tokens=job.get("max_tokens"),
        display="log",  # Inspect's "none" still renders its Rich tables, unseen; "log" does not
    )


def serve(jobs: IO[str]) -> None:
    """Run the jobs read from `jobs` until it closes; one JSON message line each on `_out`."""
    try:
        for line in jobs:
            job = json.loads(line)
            if "evaluate" in job:
                evaluate(job["evaluate"])
                _emit({"finished": True, "evaluated": job["evaluate"]["application"]})
            else:
                run(job)
                _emit({"finished": True, "models": [m["name"] for m in job["models"]]})
    except Exception as exc:  # the demo reports it as one line
        _emit({"error": f"{type(exc).__name__}: {exc}"})
        raise SystemExit(1) from None


WATCH_INTERVAL = 1.0
"""Seconds between a process's looks at whether the process that started it is still there."""


def _end(children: list[int], status: int) -> None:
    """End this process now, its forked copies first (killed and reaped: no orphans)."""
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in children:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    os._exit(status)


def _watch(parent: int, children: list[int]) -> None:
    """End this process when `parent` is gone (the demo was killed, or interrupted twice):
    an eval in flight would otherwise go on retrying against a gateway that is gone."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_INTERVAL)
        _end(children, 1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _reap(pid: int) -> threading.Thread:
    """Reap the forked copy `pid` as soon as it ends (no zombie while this process serves)."""

    def wait() -> None:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)

    thread = threading.Thread(target=wait, name=f"reap-{pid}", daemon=True)
    thread.start()
    return thread


def main() -> None:
    """`python -m clearance.demo._eval_worker [JOBS_FD,MESSAGES_FD ...]`: without arguments, one
    channel on stdin and stdout; with several, the warm process forks one process per further
    channel (Linux), so that Inspect's start-up is paid once.

    Every process ends when the process that started it is gone; the warm process, stopped with
    SIGTERM, kills and reaps its forked copies first."""
    global _out
    parent = os.getppid()
    warnings.simplefilter("ignore")  # Inspect's deprecation notices are not the demo's output
    channels = [tuple(int(fd) for fd in arg.split(",")) for arg in sys.argv[1:]]
    try:
        warm_up()
    except Exception as exc:
        _emit({"error": f"{type(exc).__name__}: {exc}"})
        raise SystemExit(1) from None
    if not channels:
        _watch(parent, [])
        serve(sys.stdin)
        return
    mine, forked = channels[0], False
    children: list[int] = []
    for channel in channels[1:]:
        leader = os.getpid()
        pid = os.fork()
        if pid == 0:  # nothing but this thread runs yet: forking is safe here
            mine, children, forked, parent = channel, [], True, leader
            break
        children.append(pid)
    if not forked:
        signal.signal(signal.SIGTERM, lambda *_: _end(children, 128 + signal.SIGTERM))
    _watch(parent, children)
    reapers = [_reap(pid) for pid in children]
    for channel in channels:
        if channel != mine:
            for fd in channel:
                os.close(fd)
    _out = os.fdopen(mine[1], "w")
    status = 0
    try:
        serve(os.fdopen(mine[0]))
    except SystemExit as exc:
        status = int(exc.code or 0)
    for reaper in reapers:
        reaper.join()
    if forked:
        os._exit(status)  # a forked copy leaves the exit handlers to the process it came from
    raise SystemExit(status)


if __name__ == "__main__":
    main()
