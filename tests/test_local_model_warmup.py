"""The local model's warm-up: a child that dies becomes one error line with the cause and the fix.

Runs without the local-model extra: the child processes here die the ways a llama.cpp build that
the CPU cannot run dies (SIGILL on the first generation), or fail to load.
"""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from clearance.cli import app
from clearance.local_model import PORTABLE_INSTALL, WarmUpFailed
from clearance.local_model._warmup import probe

DIES_OF_SIGILL = "import os, signal; os.kill(os.getpid(), signal.SIGILL)"


def test_a_child_killed_by_sigill_names_the_portable_rebuild() -> None:
    with pytest.raises(WarmUpFailed) as caught:
        probe([sys.executable, "-c", DIES_OF_SIGILL])
    message = caught.value.message
    assert "illegal instruction" in message and PORTABLE_INSTALL in message
    assert "\n" not in message
    assert "--no-cache-dir --force-reinstall --no-binary llama-cpp-python" in PORTABLE_INSTALL
    assert "-DGGML_NATIVE=OFF" in PORTABLE_INSTALL


def test_a_child_that_fails_to_load_says_why() -> None:
    with pytest.raises(WarmUpFailed) as caught:
        probe([sys.executable, "-c", "raise RuntimeError('no weights here')"])
    assert "no weights here" in caught.value.message


def test_a_child_that_hangs_is_stopped() -> None:
    with pytest.raises(WarmUpFailed, match="did not finish"):
        probe([sys.executable, "-c", "import time; time.sleep(30)"], timeout=1)


def test_local_model_without_the_extra_is_one_error_line() -> None:
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is not None:
        pytest.skip("the local-model extra is installed here")
    result = CliRunner().invoke(app, ["local-model"])
    assert result.exit_code != 0
    assert "local-model extra" in str(result.exception)
    assert "-DGGML_NATIVE=OFF" in str(result.exception)
