"""The procedure's clock: which transitions are due at a given time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from clearance.register._records import Appeal, Application, Decision, Directive, Grant, Hearing

DueKind = Literal[
    "deemed_approval",
    "appeal_window_closed",
    "approval_lapsed",
    "directive_sunset",
    "grant_expiry",
    "hearing_missed",
    "panel_deadline_missed",
    "grant_expiring",
    "framework_effective",
    "obligation_breached",
]

GRANT_NOTICE_DAYS = 7
"""A grant's holder is told this many days before the grant expires."""


@dataclass(frozen=True, order=True)
class Due:
    """A transition whose time has come; the store applies each exactly once."""

    at: dt.datetime
    kind: DueKind
    subject: str


def application_due(application: Application, deemed_enabled: bool, now: dt.datetime) -> Due | None:
    """An overdue application is deemed decided, unless the clock is stopped (an open question
    stops it only where the framework says so; it then holds `clock_stopped_at`)."""
    if (
        deemed_enabled
        and application.state in ("filed", "under_review", "information_requested")
        and application.clock_stopped_at is None
        and not application.testing_access_missing
        and application.deadline <= now
    ):
        return Due(application.deadline, "deemed_approval", application.id)
    return None


def decision_due(decision: Decision, appeal_pending: bool, now: dt.datetime) -> Due | None:
    """A decision whose appeal window closed with no appeal pending becomes final."""
    if not decision.final and not appeal_pending and decision.appeal_deadline <= now:
        return Due(decision.appeal_deadline, "appeal_window_closed", decision.id)
    return None


def lapse_due(decision: Decision, now: dt.datetime) -> Due | None:
    """A standing approval past its validity lapses (the model needs a new application)."""
    if (
        decision.outcome != "denied"
        and not decision.set_aside
        and not decision.lapsed
        and decision.valid_until <= now
    ):
        return Due(decision.valid_until, "approval_lapsed", decision.id)
    return None


def directive_due(directive: Directive, now: dt.datetime) -> Due | None:
    """An active directive past its sunset expires."""
    if directive.state == "active" and directive.sunset_at <= now:
        return Due(directive.sunset_at, "directive_sunset", directive.id)
    return None


def grant_due(grant: Grant, now: dt.datetime) -> Due | None:
    """An active grant past its expiry expires."""
    if grant.state == "active" and grant.expires_at is not None and grant.expires_at <= now:
        return Due(grant.expires_at, "grant_expiry", grant.id)
    return None


def hearing_due(hearing: Hearing, now: dt.datetime) -> Due | None:
    """An open hearing past its date: the authority missed it and the act lapses."""
    if hearing.state == "open" and hearing.hold_by <= now:
        return Due(hearing.hold_by, "hearing_missed", hearing.id)
    return None


def appeal_due(appeal: Appeal, now: dt.datetime) -> Due | None:
    """An appeal the panel has not ruled on by its deadline."""
    if appeal.state == "filed" and appeal.decide_by <= now:
        return Due(appeal.decide_by, "panel_deadline_missed", appeal.id)
    return None


def grant_warning_due(grant: Grant, now: dt.datetime) -> Due | None:
    """An active grant within `GRANT_NOTICE_DAYS` of its expiry: its holder is told, once."""
    if grant.state != "active" or grant.expires_at is None or now >= grant.expires_at:
        return None
    warn_at = grant.expires_at - dt.timedelta(days=GRANT_NOTICE_DAYS)
    if warn_at <= now:
        return Due(warn_at, "grant_expiring", grant.id)
    return None
