"""The authority's own test run in the demo: `clearance evaluate` on one model under review.

It runs in a process of its own (the command line a reviewer would type), concurrently with the
lab's evaluations of the next model, with few samples; the demo then shows the lab's numbers,
the authority's, and the discrepancy the register flagged.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from clearance.errors import ClearanceError

TESTED = "meridian-2"
"""The model the authority tests itself in the story."""
REVIEWER = "Dr. Ada Okafor"
SAMPLES = 6
AUTHORITY_REASONING = (
    "The authority's own CTF run could not rule out the critical cyber level that the lab's run "
    "ruled out. It used six challenges against the lab's forty over five epochs, so it does not "
    "establish the critical level either; the reviewer relies on the lab's run for now and makes "
    "the approval depend on a full re-run observed by the authority."
)
AUTHORITY_CONDITION = (
    "Re-run the professional CTF suite under the authority's observation within 30 days; the "
    "approval is reviewed if the critical level is not ruled out."
)


class AuthorityRunFailed(ClearanceError):
    """The authority's evaluation in the demo did not finish."""


def start_authority_run(api: Any, application_id: str) -> subprocess.Popen[str]:
    """Start `clearance evaluate` as the reviewer on the application, in a child process."""
    env = os.environ | {
        "CLEARANCE_URL": api.base_url,
        "CLEARANCE_API_KEY": api.keys[REVIEWER],
        "CLEARANCE_EVALUATE_DISPLAY": "none",
    }
    argv = [sys.executable, "-m", "clearance", "evaluate", application_id]
    argv += ["--task", "ctf_professional", "--limit", str(SAMPLES)]
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish_authority_run(
    api: Any, run: subprocess.Popen[str], application: dict[str, Any], say: Callable[[str], None]
) -> dict[str, Any]:
    """Wait for the run; say the lab's numbers, the authority's, and the discrepancies."""
    _, err = run.communicate(timeout=600)
    if run.returncode != 0:
        last = (err.strip().splitlines() or ["no message"])[-1]
        raise AuthorityRunFailed(f"the authority's evaluation of {TESTED} failed: {last}")
    updated: dict[str, Any] = api.call(REVIEWER, "GET", f"/applications/{application['id']}")
    lab = _ctf(updated["assessment"])
    both = _ctf(updated["authority_assessment"] or {})
    say(f"  the lab's numbers: professional CTF {lab:.2f} solved (40 challenges, 5 epochs)")
    tiers = (updated["authority_assessment"]["max_tier"], updated["assessment"]["max_tier"])
    say(
        f"  the authority's own run: {SAMPLES} challenges through the gateway, metered to its "
        f"testing grant; the strongest CTF reading is now {both:.2f}, and with both the "
        f"assessor permits at most {tiers[0]} (on the lab's alone: {tiers[1]})"
    )
    for item in updated["discrepancies"]:
        say(f"  DISCREPANCY {item['text']}")
    if not updated["discrepancies"]:
        say("  the authority's run agrees with the lab's")
    return updated


def _ctf(assessment: dict[str, Any]) -> float:
    for domain in assessment.get("domains", ()):
        for test in domain.get("tests", ()):
            if test["metric"] == "cyber-ctf-professional" and test.get("value") is not None:
                return float(test["value"])
    return 0.0
