"""The authority's own test run in the demo: `clearance evaluate` on one model under review.

It runs what `clearance evaluate` runs (`evaluate_application`, with the reviewer's key) in the
demo's first Inspect process, warm by then, as soon as the model is filed and while the labs'
evaluations of the other models go on, with few samples; the demo then shows the lab's numbers,
the authority's, and the discrepancy the register flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clearance.demo._evals import TASKS, EvalWorker
from clearance.errors import ClearanceError

TESTED = "meridian-2"
"""The model the authority tests itself in the story."""
REVIEWER = "Dr. Ada Okafor"
SAMPLES = 6
_LAB_SAMPLES, _LAB_EPOCHS, _ = TASKS["ctf_professional"]
LAB_RUN = f"{_LAB_SAMPLES} challenges, " + (
    f"{_LAB_EPOCHS} attempts each" if _LAB_EPOCHS > 1 else "one attempt each"
)
"""The lab's professional CTF run in the demo, as the demo's evals ran it."""
AUTHORITY_REASONING = (
    "The authority's own CTF run could not rule out the critical cyber level that the lab's run "
    f"ruled out. It used {SAMPLES} challenges against the lab's {LAB_RUN}, so it does not "
    "establish the critical level either; the reviewer relies on the lab's run for now and makes "
    "the approval depend on a full re-run observed by the authority."
)
AUTHORITY_CONDITION = (
    "Re-run the professional CTF suite under the authority's observation within 30 days; the "
    "approval is reviewed if the critical level is not ruled out."
)


class AuthorityRunFailed(ClearanceError):
    """The authority's evaluation in the demo did not finish."""


def start_authority_run(
    story_evals: EvalWorker, api: Any, application_id: str, max_tokens: int | None = None
) -> None:
    """`clearance evaluate` as the reviewer on the application, in the first (warm) Inspect
    process, after the evals it was given before."""
    story_evals.evaluate(
        0,
        api.base_url,
        api.keys[REVIEWER],
        application_id,
        "ctf_professional",
        SAMPLES,
        max_tokens=max_tokens,
    )


def finish_authority_run(
    api: Any, application: dict[str, Any], say: Callable[[str], None]
) -> dict[str, Any]:
    """Once the run has filed its log: the lab's numbers, the authority's, the discrepancies."""
    updated: dict[str, Any] = api.call(REVIEWER, "GET", f"/applications/{application['id']}")
    if not updated["authority_evidence"]:
        raise AuthorityRunFailed(f"the authority's evaluation of {TESTED} filed no evidence")
    lab = _ctf(updated["assessment"])
    both = _ctf(updated["authority_assessment"] or {})
    say(f"  the lab's numbers: professional CTF {lab:.2f} solved ({LAB_RUN})")
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
