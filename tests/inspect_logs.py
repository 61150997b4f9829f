"""Real Inspect logs made offline with mockllm, for the evidence tests and the benchmark.

Every log here comes from an actual `inspect_ai.eval()` run: a dataset of numbered questions, a
scripted mock model and the `includes()` scorer, so the scores are known in advance:

- questions `0 .. correct-1` are answered correctly on every epoch;
- the next `flaky` questions are answered correctly on their first epoch only, so the epochs
  reducers disagree (`mean` counts them as 1/epochs, `at_least_1` as 1);
- the rest are answered wrongly.
"""

from __future__ import annotations

import gc
import os
import re
import warnings
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Literal

from inspect_ai import Epochs, Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessage, GenerateConfig, ModelOutput, ModelUsage, get_model
from inspect_ai.scorer import accuracy, includes, stderr
from inspect_ai.solver import Generate, Solver, TaskState, generate, solver
from inspect_ai.tool import ToolChoice, ToolInfo

QUESTION = re.compile(r"Question (\d+):")


def make_inspect_log(
    log_dir: Path,
    *,
    task_name: str = "ctf",
    task_version: int = 1,
    samples: int = 20,
    correct: int = 10,
    flaky: int = 0,
    epochs: int = 1,
    reducers: list[str] | None = None,
    fmt: Literal["eval", "json"] = "eval",
    fail: bool = False,
    with_stderr: bool = True,
) -> Path:
    """Run a real offline Inspect eval with known scores and return its log file."""
    if not 0 <= correct + flaky <= samples:
        raise ValueError("need 0 <= correct + flaky <= samples")
    dataset = MemoryDataset(
        [
            Sample(id=i, input=f"Question {i}: what is the flag?", target=f"FLAG-{i}")
            for i in range(samples)
        ]
    )
    task = Task(
        dataset=dataset,
        solver=_explode() if fail else generate(),
        scorer=includes(),
        metrics=[accuracy(), stderr()] if with_stderr else [accuracy()],
        name=task_name,
        version=task_version,
        epochs=Epochs(epochs, reducers) if reducers else epochs,
    )
    model = get_model("mockllm/model", custom_outputs=_ScriptedAnswers(correct, flaky))
    with warnings.catch_warnings():
        # inspect_ai 0.3.285 passes tenacity the `initial=` argument tenacity now deprecates,
        warnings.filterwarnings(
            "ignore", "The 'initial' parameter is deprecated", DeprecationWarning
        )
        # and leaves anyio memory streams for the garbage collector to close (collected below,
        # so that the warnings cannot surface later inside some unrelated test)
        warnings.filterwarnings("ignore", "Unclosed <MemoryObject", ResourceWarning)
        (log,) = eval(
            task,
            model=model,
            log_dir=str(log_dir),
            log_format=fmt,
            display="none",
            max_connections=64,
            max_samples=64,
            # one failing sample must fail the whole run, whatever the environment says
            fail_on_error=True,
        )
        gc.collect()
    return Path(log.location)


def make_many_logs(
    log_dir: Path,
    count: int = 100,
    *,
    samples: int = 1000,
    processes: int | None = None,
    **options: Any,
) -> list[Path]:
    """Run `count` real evals in parallel processes (one core each); return their log files.

    Every log is its own eval run (its own eval id and bytes); the i-th answers `i % samples`
    questions right unless `correct` is given. Inspect spends ~12 ms of one core per sample, so
    100 x 1,000 samples is ~20 core-minutes; on 16 cores that is a couple of minutes.
    """
    workers = processes or min(count, os.cpu_count() or 1)
    jobs = [
        {"samples": samples, "correct": options.get("correct", i % samples), **options}
        for i in range(count)
    ]
    # spawn, not fork: Inspect starts threads and event loops that a fork would copy half-made
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        return list(pool.map(_make_one, [log_dir] * count, jobs))


def _make_one(log_dir: Path, options: dict[str, Any]) -> Path:
    return make_inspect_log(log_dir, **options)


class _ScriptedAnswers:
    """The mock model: right or wrong per question, and per attempt for the flaky ones."""

    def __init__(self, correct: int, flaky: int) -> None:
        self.correct = correct
        self.flaky = flaky
        self.attempts: Counter[int] = Counter()

    def __call__(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        match = QUESTION.search(input[-1].text)
        assert match is not None, input[-1].text
        number = int(match.group(1))
        self.attempts[number] += 1
        right = number < self.correct or (
            number < self.correct + self.flaky and self.attempts[number] == 1
        )
        output = ModelOutput.from_content(
            model="mockllm/model", content=f"FLAG-{number}" if right else "no idea"
        )
        # without usage, mockllm counts tokens with a tokenizer it would have to download
        output.usage = ModelUsage(input_tokens=12, output_tokens=3, total_tokens=15)
        return output


@solver
def _explode() -> Solver:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        raise RuntimeError("sandbox unavailable")

    return solve
