"""A model's proceedings as the public sees them: act, hearing, submissions, outcome, appeal.

Each step carries its clock: when it happened, and for what is still running, the date it is due
by and the days left. Proceedings on access requests and grants concern a partner and stay off
the public pages; directives and decisions are shown in full.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from clearance.register import Appeal, Decision, Directive, Hearing, ModelConfig
from clearance.store import Transaction
from clearance.web._render import countdown, days_until

ACTIONS = {"halt": "Halt", "restrict": "Restriction", "restore": "Restoration"}


def _step(
    name: str, at: dt.datetime | None, text: str, clock: str = "", href: str | None = None
) -> dict[str, Any]:
    return {"step": name, "at": at, "text": text, "clock": clock, "href": href}


def _due(deadline: dt.datetime, now: dt.datetime) -> str:
    return f"due by {deadline:%Y-%m-%d} ({countdown(days_until(deadline, now))})"


def _hearing_steps(hearing: Hearing, now: dt.datetime) -> list[dict[str, Any]]:
    timing = "after the act (urgent)" if hearing.urgent else "before the act"
    if hearing.state == "open":
        clock = _due(hearing.hold_by, now)
    elif hearing.state == "lapsed":
        clock = f"missed {hearing.hold_by:%Y-%m-%d}: the act lapsed"
    else:
        clock = f"held by {hearing.hold_by:%Y-%m-%d}"
    steps = [_step("Hearing", hearing.opened_at, f"opened, {timing}", clock)]
    for submission in hearing.submissions:
        evidence = (
            f" ({len(submission.evidence)} evidence digest(s))" if submission.evidence else ""
        )
        steps.append(_step("Submission", submission.filed_at, submission.text + evidence))
    if hearing.outcome is not None:
        reasons = " ".join(r.text for r in hearing.reasons)
        steps.append(
            _step(
                "Outcome",
                hearing.closed_at,
                f"{hearing.outcome}: {reasons}",
                href=f"/directives/{hearing.result_id}"
                if hearing.result_id and hearing.act == "directive"
                else None,
            )
        )
    return steps


def _appeal_steps(appeal: Appeal, now: dt.datetime) -> list[dict[str, Any]]:
    escalated = f"; escalated {appeal.escalations} time(s)" if appeal.escalations else ""
    clock = _due(appeal.decide_by, now) if appeal.state == "filed" else ""
    panel = f"panel of {len(appeal.panel)}" if appeal.panel else "no panel yet"
    steps = [_step("Appeal", appeal.filed_at, f"{appeal.grounds} ({panel}{escalated})", clock)]
    if appeal.ruled_at is not None:
        votes = ", ".join(v.vote for v in appeal.votes)
        by = f"votes: {votes}" if votes else "the panel's deadline passed"
        steps.append(_step("Ruling", appeal.ruled_at, f"{appeal.state} ({by})"))
    return steps


def model_proceedings(
    tx: Transaction, model: ModelConfig, now: dt.datetime
) -> list[dict[str, Any]]:
    """The model's directive and decision proceedings, newest first, each as ordered steps."""
    hearings = {h.id: h for h in tx.find(Hearing, model_id=model.id) if h.act == "directive"}
    appeals: dict[str, list[Appeal]] = {}
    for appeal in tx.find(Appeal, model_id=model.id):
        if appeal.act in ("directive", "decision"):
            appeals.setdefault(appeal.act_id or str(appeal.decision_id), []).append(appeal)
    found: list[dict[str, Any]] = []
    for directive in tx.find(Directive, model_id=model.id):
        own = next((h for h in hearings.values() if h.act_id == directive.id), None)
        if own is None and directive.action == "restore":
            continue
        urgent = " (urgent)" if directive.urgent else ""
        state = "proposed until its hearing" if directive.state == "proposed" else directive.state
        clock = ""
        if directive.state == "active":
            clock = f"sunset {_due(directive.sunset_at, now)}"
        steps = [
            _step(
                "Act",
                directive.issued_at,
                f"{ACTIONS[directive.action]}{urgent}: {directive.grounds}",
                f"{state}; {clock}" if clock else state,
                f"/directives/{directive.id}",
            )
        ]
        if own is not None:
            steps.extend(_hearing_steps(own, now))
        for appeal in sorted(appeals.get(directive.id, []), key=lambda a: a.filed_at):
            steps.extend(_appeal_steps(appeal, now))
        title = f"{ACTIONS[directive.action]} directive {directive.id}"
        found.append({"title": title, "at": directive.issued_at, "steps": steps})
    for decision in tx.find(Decision, model_id=model.id):
        appealed = sorted(appeals.get(decision.id, []), key=lambda a: a.filed_at)
        if not appealed:
            continue
        steps = [
            _step(
                "Act",
                decision.decided_at,
                f"Decision: {decision.outcome.replace('_', ' ')}",
                href=f"/decisions/{decision.id}",
            )
        ]
        for appeal in appealed:
            steps.extend(_appeal_steps(appeal, now))
        found.append(
            {"title": f"Decision {decision.id}", "at": decision.decided_at, "steps": steps}
        )
    found.sort(key=lambda p: p["at"], reverse=True)
    return found
