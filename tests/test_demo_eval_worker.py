"""The demo's Inspect processes stop when the demo does: at once when closed mid-run, on their
own when the demo is gone, and a forked copy that ends is reaped while the others go on.

(Linux: the warm process and the copy it forks, in a process group of their own.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from clearance.demo._evals import TASKS, EvalWorker

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the forking workers are Linux's")

NOBODY = "http://127.0.0.1:9/v1"
"""A gateway nobody listens on (the demo's, once it stopped)."""


def running_in_group(pgid: int) -> list[int]:
    """The processes of group `pgid` that still run (a zombie is not running)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, _ppid, group = stat.rsplit(")", 1)[1].split()[:3]
        if int(group) == pgid and state != "Z":
            found.append(int(entry.name))
    return found


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def until(predicate: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def start_a_job(worker: EvalWorker, log_dir: Path) -> None:
    model = SimpleNamespace(name="m1", solves=dict.fromkeys(TASKS, 0.5))
    worker.submit(0, [model], {"m1": "clr_key"}, NOBODY, log_dir)  # type: ignore[list-item]
    _, first = worker.next(timeout=120)
    assert first["done"] == 0  # the eval is under way, retrying against nobody


@pytest.mark.slow
def test_closing_the_workers_mid_run_stops_them_at_once(tmp_path: Path) -> None:
    worker = EvalWorker(tmp_path / "inspect.log", processes=2)
    (leader,) = worker.processes
    try:
        start_a_job(worker, tmp_path / "logs")
        time.sleep(1)
    finally:
        began = time.monotonic()
        worker.close()
        took = time.monotonic() - began
    # it used to wait 10 s for the job's end, then kill
    assert took < 8, f"close() took {took:.1f} s"
    assert leader.returncode is not None
    assert running_in_group(leader.pid) == []
    # the forked copy was reaped, not left to init
    assert not Path(f"/proc/{leader.pid}").exists()


@pytest.mark.slow
def test_a_forked_copy_that_ends_is_reaped_while_the_other_serves(tmp_path: Path) -> None:
    worker = EvalWorker(tmp_path / "inspect.log", processes=2)
    (leader,) = worker.processes
    try:
        assert until(lambda: children_of(leader.pid), 120), "no forked copy"
        (copy,) = children_of(leader.pid)
        os.kill(copy, signal.SIGKILL)
        # reaped at once, not a zombie until the warm process's own jobs end
        assert until(lambda: not Path(f"/proc/{copy}").exists(), 5), "the copy is a zombie"
        assert leader.poll() is None
    finally:
        worker.close()


@pytest.mark.slow
def test_the_workers_end_when_the_demo_is_gone(tmp_path: Path) -> None:
    # the demo killed outright (or interrupted twice): nobody calls close()
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from clearance.demo._evals import TASKS, EvalWorker
        class Model:
            name, solves = "m1", dict.fromkeys(TASKS, 0.5)
        worker = EvalWorker(processes=2)
        worker.submit(0, [Model()], {{"m1": "clr_key"}}, {NOBODY!r}, Path({str(tmp_path)!r}))
        assert worker.next(timeout=120)[1]["done"] == 0
        print(worker.processes[0].pid, flush=True)
        os._exit(130)
        """
    )
    demo = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=180, check=False
    )
    assert demo.returncode == 130, demo.stderr
    group = int(demo.stdout.split()[-1])
    assert until(lambda: running_in_group(group) == [], 10), running_in_group(group)
