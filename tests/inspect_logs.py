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
from uuid import uuid4

from inspect_ai import Epochs, Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.log import read_eval_log, write_eval_log
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
    question: str = "what is the flag?",
) -> Path:
    """Run a real offline Inspect eval with known scores and return its log file."""
    if not 0 <= correct + flaky <= samples:
        raise ValueError("need 0 <= correct + flaky <= samples")
    dataset = MemoryDataset(
        [
            Sample(id=i, input=f"Question {i}: {question}", target=f"FLAG-{i}")
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
            # the live-view sample buffer slows a run by a third and is not part of the log
            log_realtime=False,
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
    real_runs: int | None = None,
    processes: int | None = None,
    **options: Any,
) -> list[Path]:
    """Make `count` Inspect logs of `samples` samples each, in parallel processes (1: inline).

    The first `real_runs` (default: all) are real evals; run `i` answers `i % (samples + 1)`
    questions right unless `correct` is given. Inspect spends ~11 ms of one core per sample, so
    100 real runs of 1,000 samples is ~18 core-minutes. The other logs are copies of the real
    ones that Inspect itself re-writes (`write_eval_log`) under a new eval id and run id: the
    same samples and scores in different bytes, at ~2.5 s a copy instead of ~11 s a run.
    """
    real = count if real_runs is None else max(1, min(real_runs, count))
    jobs = [{"samples": samples, "correct": i % (samples + 1), **options} for i in range(real)]
    # each real log is read once and written out as all of its copies
    numbers = [list(range(k, count - real, real)) for k in range(real)]
    workers = processes or min(count, os.cpu_count() or 1)
    if workers == 1:
        paths = [_make_one(log_dir, job) for job in jobs]
        copies = [_copy_log(path, log_dir, some) for path, some in zip(paths, numbers, strict=True)]
    else:
        # spawn, not fork: Inspect starts threads and event loops a fork would copy half-made
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            paths = list(pool.map(_make_one, [log_dir] * real, jobs))
            copies = list(pool.map(_copy_log, paths, [log_dir] * real, numbers))
    return paths + [path for written in copies for path in written]


def _make_one(log_dir: Path, options: dict[str, Any]) -> Path:
    return make_inspect_log(log_dir, **options)


def _copy_log(source: Path, log_dir: Path, numbers: list[int]) -> list[Path]:
    if not numbers:
        return []
    log = read_eval_log(str(source))
    targets: list[Path] = []
    for number in numbers:
        spec = log.eval.model_copy(update={"eval_id": uuid4().hex, "run_id": uuid4().hex})
        targets.append(log_dir / f"{source.stem}-copy{number:03d}{source.suffix}")
        write_eval_log(log.model_copy(update={"eval": spec}), str(targets[-1]))
    return targets


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
