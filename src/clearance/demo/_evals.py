"""Real Inspect evals run offline through the gateway against the packaged fake upstream.

The fake upstream is not a model: it echoes the prompt. So that each demo model scores what its
profile says, the demo's datasets put the flag in the prompt of exactly the samples the model
"solves"; Inspect, the gateway, the metering and the evidence adapter all run for real.

The evals run in a process of their own (`_eval_worker`), started before anything else so that
Inspect's start-up is paid while the register is being set up, and all of them run in one
`eval()` call, concurrently. Each task has the demo framework's elicitation minimum and no more
(see `framework_text`): 12 or 20 samples, one epoch.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
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
    """The Inspect process: started at once, given one job, read until it has finished."""

    def __init__(self, stderr_path: Path | None = None) -> None:
        self._stderr: IO[bytes] | int = (
            stderr_path.open("wb") if stderr_path is not None else subprocess.DEVNULL
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clearance.demo._eval_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )

    def submit(
        self, models: list[DemoModel], keys: dict[str, str], base_url: str, log_dir: Path
    ) -> None:
        """Start every eval of `models` (each called with its developer's key in `keys`)."""
        job = {
            "base_url": base_url,
            "log_dir": str(log_dir),
            "tasks": TASKS,
            "models": [
                {"name": m.name, "api_key": keys[m.name], "solves": m.solves} for m in models
            ],
        }
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()

    def results(self, progress: Callable[[int, int], None]) -> dict[str, list[Path]]:
        """Wait for the job; each model's logs by name. `progress(done, total)` as it runs."""
        assert self.process.stdout is not None
        logs: dict[str, list[Path]] = {}
        for line in self.process.stdout:
            message: dict[str, Any] = json.loads(line)
            if "done" in message:
                progress(message["done"], message["total"])
            elif "log" in message:
                log = message["log"]
                logs.setdefault(log["model"], []).append(Path(log["path"]))
            elif "error" in message:
                raise EvalsFailed(f"the demo's Inspect evals failed: {message['error']}")
            elif message.get("finished"):
                return {name: sorted(paths, key=_task_order) for name, paths in logs.items()}
        raise EvalsFailed(
            f"the demo's Inspect process ended early (exit status {self.process.wait()})"
        )

    def close(self) -> None:
        """Stop the process if it still runs (the demo failed, or never needed it)."""
        if self.process.poll() is None:
            if self.process.stdin is not None:
                self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None and not stream.closed:
                stream.close()
        if not isinstance(self._stderr, int):
            self._stderr.close()


def _task_order(path: Path) -> int:
    return list(TASKS).index(path.stem)
