"""Assessor benchmark: assess against 100 Inspect logs of 1,000 samples each (target: under 2 s).

The logs are real: each comes from its own offline Inspect eval run (mockllm with scripted
answers, tests/inspect_logs.py), made once and kept in bench/_work/assess-logs. Making 100 runs
of 1,000 samples costs about 20 core-minutes the first time.

Timed side by side in one run:
- reference: SHA-256 of every file's bytes plus a read of each zip's directory (the least any
  reader must do: hash the evidence and open it; Inspect compresses members with Zstandard,
  which Python 3.11's zipfile cannot decompress, so the reference stops at the directory);
- clearance, in process: load_many() (the files read on every core), then assess(); and the
  same on one core (load_evidence() on each file in turn);
- clearance, CLI: `clearance assess FRAMEWORK LOGS... --format json` as a user runs it, which
  also pays for starting Python and importing inspect_ai.

Usage: python bench/assess.py [--logs 100] [--samples 1000] [--repeat 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORK = ROOT / "bench" / "_work"

FRAMEWORK = """
id: bench
title: Benchmark framework
version: "1"
effective_date: 2026-07-01
domains:
  - id: cyber
    name: Cyber
    levels:
      - {id: c0, name: Baseline}
      - {id: c1, name: High}
      - {id: c2, name: Critical}
metrics:
  - id: ctf
    domain: cyber
    source: {kind: inspect, task: ctf, task_versions: [1], scorer: includes, metric: accuracy}
    thresholds: {c1: 0.5, c2: 0.8}
    elicitation: {min_samples: 100}
jurisdictions:
  - {id: all, name: Everyone, members: ["*"]}
"""


def make_logs(count: int, samples: int) -> list[Path]:
    """The benchmark's logs, made by real Inspect runs once and then reused."""
    folder = WORK / f"assess-logs-{count}x{samples}"
    existing = sorted(folder.glob("*.eval")) if folder.exists() else []
    if len(existing) >= count:
        return existing[:count]
    from tests.inspect_logs import make_many_logs

    folder.mkdir(parents=True, exist_ok=True)
    print(f"making {count - len(existing)} Inspect runs of {samples} samples in {folder} ...")
    began = time.perf_counter()
    make_many_logs(folder, count - len(existing), samples=samples)
    print(f"  took {time.perf_counter() - began:.0f} s")
    return sorted(folder.glob("*.eval"))[:count]


def reference(paths: list[Path]) -> None:
    for path in paths:
        hashlib.sha256(path.read_bytes()).hexdigest()
        with zipfile.ZipFile(path) as archive:
            archive.infolist()


def in_process(paths: list[Path]) -> None:
    from clearance.evidence import load_many
    from clearance.framework import assess, parse_framework

    framework = parse_framework(FRAMEWORK)
    assess(framework, load_many(paths))


def in_process_serial(paths: list[Path]) -> None:
    from clearance.evidence import load_evidence
    from clearance.framework import assess, parse_framework

    framework = parse_framework(FRAMEWORK)
    assess(framework, [load_evidence(path) for path in paths])


def cli(paths: list[Path], framework: Path) -> None:
    command = [sys.executable, "-m", "clearance", "assess", str(framework)]
    result = subprocess.run(
        [*command, *map(str, paths), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(result.stderr)


def best_of(function: object, repeat: int, *args: object) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        function(*args)  # type: ignore[operator]
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=100)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    paths = make_logs(args.logs, args.samples)
    framework = WORK / "assess-framework.yaml"
    framework.write_text(FRAMEWORK)
    total = sum(path.stat().st_size for path in paths)
    print(f"{len(paths)} logs, {total / 1e6:.1f} MB")
    import_s = float(
        subprocess.run(
            [sys.executable, "-c", "import time; t = time.perf_counter(); "
             "import inspect_ai.log; print(time.perf_counter() - t)"],
            capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    results = {
        "logs": len(paths),
        "samples_per_log": args.samples,
        "megabytes": round(total / 1e6, 1),
        "reference_s": round(best_of(reference, args.repeat, paths), 3),
        "in_process_s": round(best_of(in_process, args.repeat, paths), 3),
        "in_process_one_core_s": round(best_of(in_process_serial, args.repeat, paths), 3),
        "cli_s": round(best_of(cli, args.repeat, paths, framework), 3),
        "inspect_import_s": round(import_s, 3),
    }
    results["in_process_over_reference"] = round(
        results["in_process_s"] / results["reference_s"], 1
    )
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
