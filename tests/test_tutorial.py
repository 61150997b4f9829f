"""docs/tutorial.md, run: every bash and python block, in order, in one shell, in a fresh folder.

The register it starts is stopped at the end; its port is a free one instead of 8000.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.process_fixtures import free_port

TUTORIAL = Path(__file__).parent.parent / "docs" / "tutorial.md"
LIMIT = 600
"""Seconds before the run is stopped (it takes well under this on an idle machine)."""
BLOCK = re.compile(r"^```(bash|python)\n(.*?)^```", re.S | re.M)


def script(port: int) -> str:
    """The tutorial's blocks as one bash script (python blocks through the interpreter)."""
    parts = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"]
    for kind, body in BLOCK.findall(TUTORIAL.read_text()):
        body = body.replace("8000", str(port))
        if kind == "bash":
            parts.append(body)
        else:
            parts.append(f"{sys.executable} - <<'PYTHON'\n{body}PYTHON")
    return "\n".join(parts) + "\n"


def test_the_tutorial_blocks_are_found() -> None:
    kinds = [kind for kind, _ in BLOCK.findall(TUTORIAL.read_text())]
    assert kinds.count("bash") >= 8 and kinds.count("python") == 2


def test_the_tutorial_runs(tmp_path: Path) -> None:
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    env.pop("CLEARANCE_URL", None)
    env.pop("CLEARANCE_API_KEY", None)
    started = time.monotonic()
    # its own session: on a timeout the register it started is stopped with it
    process = subprocess.Popen(
        ["bash", "-c", script(free_port())],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=LIMIT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        stdout, stderr = process.communicate()
    ran = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    took = time.monotonic() - started
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output[-4000:]
    assert "Hello, Atlas." in ran.stdout  # the fake upstream echoes the call
    assert "model_halted" in ran.stdout
    assert "verified: entry" in ran.stdout and "decision.made" in ran.stdout
    print(f"the tutorial took {took:.0f} s")
