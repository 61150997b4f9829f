"""Mutation testing of the decision path: does every rule have a test that fails without it?

For each module of the decision path, mutmut (3.8, a bench-only install: see bench/README.md)
makes every mutant of the file and runs it against the fast unit tests that cover the module
(MODULES below: tests that need PostgreSQL, a server or Hypothesis's long runs are left out, so a
module takes minutes). One module runs at a time, in its own copy of the tree under
bench/_work/mutation/<module>/, so the repository's pyproject.toml carries no mutmut section.

A surviving mutant is either equivalent (no test can tell it from the original: the reviewed
list in bench/mutation-equivalents.md gives a one-line reason for each) or a rule nobody pinned.
Survivors that are not equivalent are listed in the same file under "Reviewed survivors", each
with why it cannot turn a refusal into an admission, or marked "fail-open" when it does (those
are counted in the table); a survivor on neither list is reported as unreviewed.
The kill rate is killed / (mutants - equivalents); timeouts count as killed.

Usage:
    python bench/mutation.py [MODULE ...] [--workers 1] [--json FILE] [--readme]

MODULE is a path under src/clearance (policy/_decide.py); none means every module below.
--readme rewrites the table between the mutation markers in bench/README.md with the figures
of every module that has a result in bench/_work/mutation/ (a module not rerun keeps its last
result; one with no result in this checkout keeps its row in the README). --report only
re-reads the last results (no run).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "_work" / "mutation"
EQUIVALENTS = ROOT / "bench" / "mutation-equivalents.md"
README = ROOT / "bench" / "README.md"
BEGIN, END = "<!-- mutation:begin -->", "<!-- mutation:end -->"

# Hypothesis's property tests over the whole assessor take seconds each; they are left out
# (they guard properties, not rules, and the rules' own tests must kill the mutants).
_PROPERTY_TESTS = [
    "tests/test_assessor.py::test_raising_a_score_never_lowers_the_level",
    "tests/test_assessor.py::test_adding_a_safeguard_never_lowers_the_permitted_tier",
    "tests/test_assessor.py::test_output_does_not_depend_on_evidence_order",
]
_ASSESSOR_TESTS = [
    "tests/test_assessor.py",
    "tests/test_assessor_intervals.py",
    "tests/test_rules_assess.py",
    "tests/test_rules_intervals.py",
]

# module (under src/clearance) -> (the fast unit tests that cover it, tests deselected from them)
MODULES: dict[str, tuple[list[str], list[str]]] = {
    "policy/_decide.py": (["tests/test_policy_decide.py", "tests/test_rules_decide.py"], []),
    "framework/_assess.py": (_ASSESSOR_TESTS, _PROPERTY_TESTS),
    "framework/_statistics.py": (_ASSESSOR_TESTS, _PROPERTY_TESTS),
    "framework/_intervals.py": (_ASSESSOR_TESTS, _PROPERTY_TESTS),
    "register/_deployment.py": (["tests/test_rules_deployment.py"], []),
    "register/_decisions.py": (["tests/test_rules_decisions.py"], []),
    "register/_applications.py": (["tests/test_rules_applications.py"], []),
    "register/_testing.py": (["tests/test_rules_testing.py"], []),
    "policy/_snapshot.py": (["tests/test_policy_decide.py", "tests/test_rules_snapshot.py"], []),
    "register/_directives.py": (["tests/test_rules_directives.py"], []),
    "register/_access.py": (["tests/test_rules_access.py"], []),
    "register/_obligations.py": (["tests/test_rules_obligations.py"], []),
    "register/_appeals.py": (["tests/test_rules_appeals.py"], []),
    "register/_parties.py": (["tests/test_rules_parties.py"], []),
    "register/_clock.py": (["tests/test_rules_clock.py"], []),
    "register/_status.py": (["tests/test_rules_status.py"], []),
    "register/_evidence.py": (["tests/test_rules_evidence.py"], []),
    "register/_duties.py": (["tests/test_rules_duties.py"], []),
    "register/_notices.py": (["tests/test_rules_notices.py"], []),
    "register/_values.py": (["tests/test_rules_values.py"], []),
    "register/_events.py": (["tests/test_rules_events.py"], []),
    "register/_records.py": (["tests/test_rules_records.py"], []),
    "register/_hearings.py": (["tests/test_rules_hearings.py"], []),
    "register/_panels.py": (["tests/test_rules_panels.py"], []),
    "register/_adverse.py": (
        ["tests/test_rules_adverse.py", "tests/test_rules_directives.py"],
        [],
    ),
    "register/_standing.py": (["tests/test_rules_standing.py"], []),
}

STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped"}
TIMEOUTS = {36, -24, 24, 152, 255}


def _tests(module: str) -> list[str]:
    return [t for t in MODULES[module][0] if (ROOT / t).exists()]


def slug(module: str) -> str:
    return module.replace("/", "-").removesuffix(".py")


def prepare(module: str) -> Path:
    """A fresh copy of src/, tests/ and pyproject.toml with a mutmut section for this module."""
    work = WORK / slug(module)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "src", work / "src", ignore=ignore)
    shutil.copytree(ROOT / "tests", work / "tests", ignore=ignore)
    tests = _tests(module)
    deselect = [f"--deselect={t}" for t in MODULES[module][1]]
    # one pytest process (-n 0): mutmut learns which tests reach which function in its own
    # process, and pyproject's `-n auto` would run them in xdist workers it cannot see
    pytest_args = ["-p", "no:cacheprovider", "-n", "0", "-q", *deselect]
    section = (
        "\n[tool.mutmut]\n"
        'source_paths = ["src"]\n'
        f'only_mutate = ["src/clearance/{module}"]\n'
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
        f"pytest_add_cli_args = {json.dumps(pytest_args)}\n"
    )
    (work / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text() + section)
    return work


def run(module: str, workers: int) -> float:
    work = prepare(module)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "mutmut", "run", "--max-children", str(workers)],
        cwd=work,
        env=env,
        stdout=(work / "mutmut.log").open("w"),
        stderr=subprocess.STDOUT,
        check=False,
    )
    seconds = time.monotonic() - start
    if done.returncode != 0:
        print(f"{module}: mutmut exited {done.returncode}; see {work / 'mutmut.log'}")
    (work / "seconds").write_text(f"{seconds:.0f}\n")
    return seconds


def reviewed() -> tuple[dict[str, str], dict[str, str]]:
    """The equivalents and the reviewed survivors: mutant name -> its one-line reason."""
    lists: dict[str, dict[str, str]] = {"equivalent": {}, "survivor": {}}
    current: dict[str, str] | None = None
    for line in EQUIVALENTS.read_text().splitlines():
        if line.startswith("## "):
            heading = line.lower()
            current = lists["survivor" if "survivor" in heading else "equivalent"]
        found = re.match(r"- `([^`]+)`[:\s]+(.*)", line)
        if found and current is not None:
            current[found[1]] = found[2].strip()
    return lists["equivalent"], lists["survivor"]


def figures(module: str) -> dict[str, Any] | None:
    work = WORK / slug(module)
    meta = work / "mutants" / "src" / "clearance" / (module + ".meta")
    if not meta.exists():
        return None
    codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    equivalents, survivors = reviewed()
    status: dict[str, str] = {}
    for name, code in codes.items():
        if code in TIMEOUTS:
            status[name] = "timeout"
        elif code is None:
            status[name] = "not checked"
        else:
            status[name] = STATUS.get(code, "suspicious")
    left = [n for n, s in status.items() if s in ("survived", "no tests")]
    equivalent = sorted(n for n in left if n in equivalents)
    open_ = sorted(n for n in left if n not in equivalents)
    unreviewed = sorted(n for n in open_ if n not in survivors)
    fail_open = sorted(n for n in open_ if survivors.get(n, "").startswith("fail-open"))
    stale = sorted(
        n for n in equivalents if n.startswith(_prefix(module)) and n in status and n not in left
    )
    killed = sum(s in ("killed", "timeout") for s in status.values())
    total = len(status)
    seconds = work / "seconds"
    return {
        "module": module,
        "tests": _tests(module),
        "deselected": MODULES[module][1],
        "mutants": total,
        "killed": killed,
        "timeout": sum(s == "timeout" for s in status.values()),
        "survived": sum(s == "survived" for s in status.values()),
        "no_tests": sum(s == "no tests" for s in status.values()),
        "other": sorted(n for n, s in status.items() if s not in _KNOWN),
        "equivalent": len(equivalent),
        "kill_rate": killed / (total - len(equivalent)) if total > len(equivalent) else 1.0,
        "survivors": open_,
        "unreviewed": unreviewed,
        "fail_open": fail_open,
        "equivalent_but_killed": stale,
        "seconds": int(seconds.read_text()) if seconds.exists() else None,
    }


_KNOWN = {"killed", "timeout", "survived", "no tests"}


def _prefix(module: str) -> str:
    return "clearance." + module.removesuffix(".py").replace("/", ".") + "."


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| module | mutants | killed | survived | no test | equivalent | kill rate "
        "(of non-equivalent) | survivors reviewed | refusal → admission survivors | run |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        open_ = len(r["survivors"])
        reviewed_ = open_ - len(r["unreviewed"])
        fail_open = str(len(r["fail_open"]))
        if r["unreviewed"]:
            fail_open += f" + ? ({len(r['unreviewed'])} unreviewed)"
        minutes = f"{r['seconds'] / 60:.0f} min" if r["seconds"] else "—"
        lines.append(
            f"| {r['module']} | {r['mutants']} | {r['killed']} | {r['survived']} | "
            f"{r['no_tests']} | {r['equivalent']} | **{r['kill_rate']:.1%}** | "
            f"{reviewed_} of {open_} | {fail_open} | {minutes} |"
        )
    return "\n".join(lines)


def write_readme(rows: list[dict[str, Any]]) -> None:
    """Rewrite the table: a module with no result here keeps its row (another checkout ran it)."""
    text = README.read_text()
    old = text.split(BEGIN, 1)[1].split(END, 1)[0] if BEGIN in text else ""
    kept = {line.split("|")[1].strip(): line for line in old.splitlines() if line.count("|") > 2}
    fresh = dict(zip((r["module"] for r in rows), table(rows).splitlines()[2:], strict=True))
    lines = [fresh.get(m) or kept.get(m) for m in MODULES]
    body = "\n".join([BEGIN, *table([]).splitlines(), *(x for x in lines if x), END])
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: body, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    README.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="paths under src/clearance; default: all")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--readme", action="store_true", help="rewrite the table in README")
    parser.add_argument("--report", action="store_true", help="only report the last results")
    args = parser.parse_args()
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        print(f"error: not a module of the decision path: {', '.join(unknown)}", file=sys.stderr)
        return 2
    modules = args.modules or list(MODULES)
    if not args.report:
        for module in modules:
            print(f"{module}: running mutmut ({args.workers} worker(s))", flush=True)
            run(module, args.workers)
    rows = [r for m in MODULES if (r := figures(m)) is not None]
    for r in rows:
        if r["module"] not in modules:
            continue
        print(
            f"{r['module']}: {r['mutants']} mutants, {r['killed']} killed, "
            f"{r['survived']} survived, {r['no_tests']} no test, {r['equivalent']} equivalent: "
            f"{r['kill_rate']:.1%}"
        )
        for name in r["unreviewed"]:
            print(f"  unreviewed survivor: {name}")
        for name in r["equivalent_but_killed"]:
            print(f"  listed as equivalent but killed: {name}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    if args.readme:
        write_readme(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
