"""`clearance demo` to its printed address, beside `clearance init` + `serve` (the reference floor).

Each run, in turn: the reference (`clearance init --example-framework`, then `clearance serve`,
until the address it prints answers `/healthz`), then the demo (`clearance demo` on a new
folder, until the address it prints answers; then it is stopped with Ctrl-C). Both are timed
from starting the first command, so Python's start-up and clearance's imports count on both
sides; the demo's extra over the floor is its story (the evals included). The machine is shared
and noisy: the figures of one run are taken side by side, and the ratio is what carries.

    python bench/demo.py --runs 3 [--json bench/_work/demo.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ADDRESS = re.compile(r"(http://127\.0\.0\.1:\d+)/")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clearance(*args: str) -> list[str]:
    return [sys.executable, "-m", "clearance", *args]


def wait_for_address(process: subprocess.Popen[str], marker: str) -> tuple[str, list[str]]:
    """Read the process's output until a line with `marker` and an address; both returned."""
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line.rstrip())
        found = ADDRESS.search(line)
        if marker in line and found:
            return found.group(1), lines
    raise RuntimeError("the command ended without printing its address:\n" + "\n".join(lines))


def answers(url: str, deadline: float) -> None:
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer")
        time.sleep(0.01)


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


def reference(work: Path) -> float:
    """`clearance init` + `clearance serve` until the printed address answers."""
    data = work / "reference"
    began = time.monotonic()
    subprocess.run(
        clearance("init", "--data-dir", str(data), "--example-framework"),
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        clearance("serve", "--data-dir", str(data), "--port", str(free_port())),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url, _ = wait_for_address(server, "clearance register on")
        answers(url, time.monotonic() + 120)
        return time.monotonic() - began
    finally:
        stop(server)


def demo(work: Path) -> tuple[float, list[tuple[float, str]]]:
    """`clearance demo` until the printed address answers; and each line's time."""
    data = work / "demo"
    began = time.monotonic()
    process = subprocess.Popen(
        clearance("demo", "--data-dir", str(data), "--port", str(free_port())),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert process.stdout is not None
    timeline: list[tuple[float, str]] = []
    try:
        for line in process.stdout:
            timeline.append((time.monotonic() - began, line.rstrip()))
            found = ADDRESS.search(line)
            if line.startswith("The register:") and found:
                answers(found.group(1), time.monotonic() + 30)
                return time.monotonic() - began, timeline
        raise RuntimeError("the demo ended early:\n" + "\n".join(t for _, t in timeline))
    finally:
        stop(process)


def loadavg() -> float:
    return os.getloadavg()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--timeline", action="store_true", help="print the demo's lines, timed")
    args = parser.parse_args()
    runs: list[dict[str, Any]] = []
    for n in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="clearance-bench-demo-") as folder:
            work = Path(folder)
            load = loadavg()
            floor = reference(work)
            took, timeline = demo(work)
            shutil.rmtree(work, ignore_errors=True)
        run = {
            "run": n,
            "reference_s": round(floor, 2),
            "demo_s": round(took, 2),
            "ratio": round(took / floor, 2),
            "load_before": round(load, 2),
            "load_after": round(loadavg(), 2),
        }
        runs.append(run)
        print(
            f"run {n}: reference (init + serve) {floor:.2f} s, demo {took:.2f} s, "
            f"ratio {took / floor:.1f} (load {load:.1f} -> {run['load_after']:.1f})",
            flush=True,
        )
        if args.timeline:
            for at, line in timeline:
                print(f"  {at:6.2f}  {line}")
    floor = statistics.median(r["reference_s"] for r in runs)
    took = statistics.median(r["demo_s"] for r in runs)
    print(f"median: reference {floor:.2f} s, demo {took:.2f} s, ratio {took / floor:.1f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        summary = {"median_reference_s": floor, "median_demo_s": took}
        args.json.write_text(json.dumps({"runs": runs, **summary}, indent=2) + "\n")


if __name__ == "__main__":
    main()
