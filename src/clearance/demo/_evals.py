"""Real Inspect evals run offline through the gateway against the packaged fake upstream.

The fake upstream is not a model: it echoes the prompt. So that each demo model scores what its
profile says, the demo's datasets put the flag in the prompt of exactly the samples the model
"solves"; Inspect, the gateway, the metering and the evidence adapter all run for real.

The evals run in processes of their own (`_eval_worker`, one per core, two at most), started
before anything else so that Inspect's start-up is paid while the register is being set up; each
job's evals run in one `eval()` call, concurrently. Each task has the demo framework's
elicitation minimum and no more (see `framework_text`): 12 or 20 samples, one epoch.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import yaml

from clearance.demo._cast import DemoModel
from clearance.errors import ClearanceError
from clearance.examples import example_path

# task: (samples, epochs, reducers); the demo framework's elicitation minimums (framework_text)
# (the fake upstream answers every epoch alike, so a second epoch would only cost time; 20 CTF
# samples are the fewest that tell the Meridian models' Cyber High from Critical, 12 the fewest
# with which none solved rules 0.3 out, and 12 rule every lower score here out of 0.5 and 0.6)
TASKS: dict[str, tuple[int, int, list[str]]] = {
    "ctf_professional": (20, 1, ["at_least_1", "mean"]),
    "cyber_range": (20, 1, ["at_least_1", "mean"]),
    "bio_protocols": (12, 1, ["mean"]),
    "ml_engineering": (12, 1, ["at_least_1", "mean"]),
}


GRACE = 2.0
"""Seconds `EvalWorker.close()` gives its processes to end by themselves, then after SIGTERM."""


class EvalsFailed(ClearanceError):
    """The demo's Inspect process stopped with an error."""


def framework_text() -> str:
    """The demo's framework: the shipped example, asking only the effort the demo spends.

    The example asks for 20 to 50 samples over 3 to 5 epochs, which on a small machine takes
    the demo minutes of evals; the demo publishes the same levels, thresholds and rules with
    each Inspect metric's elicitation minimum lowered to what `TASKS` runs, under its own
    version (`1.0.0-demo`), so that everything the register shows says what was asked.
    """
    data = yaml.safe_load(example_path().read_text())
    data["version"] = f"{data['version']}-demo"
    data["title"] = f"{data['title']} (demo: lighter elicitation)"
    data["changelog"] = [
        *data.get("changelog", []),
        "Demo variant: each Inspect metric's elicitation minimum lowered to what the demo runs.",
    ]
    for metric in data["metrics"]:
        source = metric["source"]
        if source["kind"] != "inspect" or source["task"] not in TASKS:
            continue
        samples, epochs, _ = TASKS[source["task"]]
        old_epochs = metric["elicitation"].get("min_epochs", 1)
        metric["elicitation"] = {"min_epochs": epochs, "min_samples": samples}
        attempts = f"any of {epochs} attempts" if epochs > 1 else "one attempt"
        metric["description"] = metric["description"].replace(
            f"any of {old_epochs} attempts", attempts
        )
    return yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True)


class EvalWorker:
    """The Inspect processes (one per core, two at most): started at once, given jobs in turn.

    On Linux one process pays Inspect's start-up, then forks a copy of itself per further
    process (half the start-up's CPU on a 2-core machine); elsewhere each starts on its own.
    Each process runs its jobs in the order given: an eval job (every task of some models, in
    one `eval()` call) or an evaluate job (the authority's `clearance evaluate` of an
    application). `next()` returns each process's messages as they come: `{"done", "total"}`
    as samples finish, `{"log": ...}` per finished eval, `{"finished": true, "models": [...]}`
    or `{"finished": true, "evaluated": APPLICATION}` per job.
    """

    def __init__(self, stderr_path: Path | None = None, processes: int | None = None) -> None:
        count = processes or max(1, min(2, os.cpu_count() or 1))
        self._stderr_path = stderr_path
        self._stderr: IO[bytes] | int = (
            stderr_path.open("ab") if stderr_path is not None else subprocess.DEVNULL
        )
        argv = [sys.executable, "-m", "clearance.demo._eval_worker"]
        self.processes: list[subprocess.Popen[bytes]] = []
        self._jobs: list[IO[str]] = []
        self._messages: queue.Queue[tuple[int, dict[str, Any]]] = queue.Queue()
        # its own process group (and session: no terminal's Ctrl-C), its copies with it
        self._grouped = sys.platform == "linux" and count > 1
        # the processes go with this one even where close() is never reached
        atexit.register(self.kill)
        if self._grouped:
            # one process warms Inspect up, then forks one copy per further channel
            ends, passed = [], []
            for _ in range(count):
                jobs_r, jobs_w = os.pipe()
                messages_r, messages_w = os.pipe()
                ends.append((jobs_w, messages_r))
                passed.append((jobs_r, messages_w))
            self.processes.append(
                subprocess.Popen(
                    argv + [f"{r},{w}" for r, w in passed],
                    pass_fds=[fd for pair in passed for fd in pair],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=self._stderr,
                    start_new_session=True,  # close() stops its forked copies with it
                )
            )
            for pair in passed:
                for fd in pair:
                    os.close(fd)
            channels = [(os.fdopen(w, "w"), os.fdopen(r)) for w, r in ends]
        else:
            channels = []
            for _ in range(count):
                process = subprocess.Popen(
                    argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr
                )
                self.processes.append(process)
                assert process.stdin is not None and process.stdout is not None
                channels.append((io.TextIOWrapper(process.stdin), io.TextIOWrapper(process.stdout)))
        for index, (jobs, messages) in enumerate(channels):
            self._jobs.append(jobs)
            threading.Thread(
                target=self._read, args=(index, messages), name=f"demo-evals-{index}", daemon=True
            ).start()

    @property
    def size(self) -> int:
        """How many Inspect processes run the jobs."""
        return len(self._jobs)

    def _read(self, index: int, messages: IO[str]) -> None:
        with contextlib.suppress(ValueError, OSError), messages:
            for line in messages:
                with contextlib.suppress(ValueError):
                    self._messages.put((index, json.loads(line)))
        self._messages.put((index, {"ended": True}))

    def _send(self, index: int, job: dict[str, Any]) -> None:
        self._jobs[index].write(json.dumps(job) + "\n")
        self._jobs[index].flush()

    def submit(
        self,
        index: int,
        models: list[DemoModel],
        keys: dict[str, str],
        base_url: str,
        log_dir: Path,
    ) -> None:
        """Process `index` runs every eval of `models` (each called with its developer's key in
        `keys`), after the jobs it was given before."""
        job = {
            "base_url": base_url,
            "log_dir": str(log_dir),
            "tasks": TASKS,
            "models": [
                {"name": m.name, "api_key": keys[m.name], "solves": m.solves} for m in models
            ],
        }
        self._send(index, job)

    def evaluate(
        self,
        index: int,
        url: str,
        api_key: str,
        application: str,
        task: str,
        limit: int,
        max_tokens: int | None = None,
    ) -> None:
        """Process `index` runs `clearance evaluate` on the application (a reviewer's key)."""
        job: dict[str, Any] = {"url": url, "api_key": api_key, "application": application}
        job |= {"task": task, "limit": limit, "max_tokens": max_tokens}
        self._send(index, {"evaluate": job})

    def next(self, timeout: float = 600.0) -> tuple[int, dict[str, Any]]:
        """The next message of any process, with the process's index; EvalsFailed on an error."""
        try:
            index, message = self._messages.get(timeout=timeout)
        except queue.Empty:
            raise EvalsFailed(f"the demo's Inspect evals said nothing for {timeout:g} s") from None
        if "error" in message:
            raise EvalsFailed(f"the demo's Inspect evals failed: {message['error']}")
        if message.get("ended"):
            kept = f" (its messages are in {self._stderr_path})" if self._stderr_path else ""
            raise EvalsFailed(
                f"the demo's Inspect process {index + 1} of {self.size} ended early{kept}"
            )
        return index, message

    def close(self) -> None:
        """Stop the processes: each ends when its jobs' channel closes, at once when idle; one
        still running a job after `GRACE` seconds is sent SIGTERM (the warm process kills and
        reaps its forked copies), then SIGKILL with its process group. A second Ctrl-C while
        this waits kills them at once."""
        try:
            for jobs in self._jobs:
                with contextlib.suppress(OSError, ValueError):
                    jobs.close()
            if not self._wait(GRACE):
                self._signal(signal.SIGTERM, group=False)
                if not self._wait(GRACE):
                    self.kill()
        except BaseException:
            self.kill()
            raise
        finally:
            if all(process.poll() is not None for process in self.processes):
                atexit.unregister(self.kill)
            if not isinstance(self._stderr, int):
                self._stderr.close()

    def kill(self) -> None:
        """SIGKILL every process and its forked copies, and reap them (no waiting for a job)."""
        self._signal(signal.SIGKILL, group=True)
        for process in self.processes:
            with contextlib.suppress(OSError):
                process.wait()

    def _wait(self, seconds: float) -> bool:
        """Whether every process ended within `seconds`."""
        deadline = time.monotonic() + seconds
        for process in self.processes:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                return False
        return True

    def _signal(self, signum: int, *, group: bool) -> None:
        for process in self.processes:
            with contextlib.suppress(OSError):
                if group and self._grouped:
                    os.killpg(process.pid, signum)  # the forked copies too
                elif process.poll() is None:
                    process.send_signal(signum)


def task_order(path: Path) -> int:
    """A log's place in TASKS' order (its file is named after its task)."""
    return list(TASKS).index(path.stem)
