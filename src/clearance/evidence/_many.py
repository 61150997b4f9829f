"""Reading many evidence files at once, on every core, with progress reported as files finish."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from clearance.evidence._load import load_evidence
from clearance.framework import EvalRun, FindingsReport

PARALLEL_FROM = 8
"""Below this many files a worker pool costs more than it saves."""


def load_many(
    paths: Sequence[Path],
    *,
    processes: int | None = None,
    progress: Callable[[Path], None] | None = None,
) -> list[EvalRun | FindingsReport]:
    """load_evidence() on each path, in order; in worker processes when there are many files.

    The first refusal (an EvidenceRefused naming its file) is raised, as the serial loop would.
    """
    workers = processes if processes is not None else (os.cpu_count() or 1)
    if workers < 2 or len(paths) < PARALLEL_FROM or sys.platform != "linux":
        results = []
        for path in paths:
            results.append(load_evidence(path))
            if progress is not None:
                progress(path)
        return results
    # fork: the workers inherit the imported Inspect reader instead of importing it again
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(min(workers, len(paths)), mp_context=context) as pool:
        futures = [pool.submit(load_evidence, path) for path in paths]
        loaded = []
        for path, future in zip(paths, futures, strict=True):
            loaded.append(future.result())
            if progress is not None:
                progress(path)
    return loaded
