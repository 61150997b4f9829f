"""The scheduler: applies every due clock transition exactly once, also across restarts."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError

from clearance.errors import Conflict
from clearance.framework import Framework
from clearance.register import (
    GRANT_NOTICE_DAYS,
    SCHEDULER,
    Appeal,
    Application,
    Change,
    Decision,
    Directive,
    Due,
    Grant,
    Hearing,
    ModelStatus,
    Obligation,
    Record,
    appeal_due,
    application_due,
    breach_obligation,
    close_appeal_window,
    decision_due,
    deem_decision,
    directive_due,
    end_obligations,
    expire_directive,
    expire_grant,
    grant_due,
    grant_warning_due,
    hearing_due,
    lapse_decision,
    lapse_due,
    miss_hearing,
    miss_panel_deadline,
    obligation_due,
    warn_grant_expiry,
)
from clearance.store import _tables as t
from clearance.store._frameworks import framework_dues, take_effect
from clearance.store._proceedings import appeal_framework, appealed_act, heard_act
from clearance.store._store import TABLES, Store, Transaction

R = TypeVar("R", bound=Record)

FrameworkOf = Callable[[Transaction, str], Framework]
"""A published framework by digest: each application keeps the procedure it was filed under."""


def due_transitions(tx: Transaction, framework_of: FrameworkOf, now: dt.datetime) -> list[Due]:
    """Every transition due at `now`, oldest first, found through the indexed time columns."""
    found: list[Due] = []
    for application in _rows(tx, Application, t.applications.c.deadline <= now):
        procedure = framework_of(tx, application.framework_digest).procedure
        if due := application_due(application, procedure.deemed_approval.enabled, now):
            found.append(due)
    for decision in _rows(
        tx, Decision, t.decisions.c.final.is_(False), t.decisions.c.appeal_deadline <= now
    ):
        if (due := decision_due(decision, _appeal_pending(tx, decision.id), now)) is not None:
            found.append(due)
    for decision in _rows(
        tx, Decision, t.decisions.c.lapsed.is_not(True), t.decisions.c.valid_until <= now
    ):
        if (due := lapse_due(decision, now)) is not None:
            found.append(due)
    for directive in _rows(
        tx, Directive, t.directives.c.state == "active", t.directives.c.sunset_at <= now
    ):
        if (due := directive_due(directive, now)) is not None:
            found.append(due)
    for grant in _rows(tx, Grant, t.grants.c.state == "active", t.grants.c.expires_at <= now):
        if (due := grant_due(grant, now)) is not None:
            found.append(due)
    soon = now + dt.timedelta(days=GRANT_NOTICE_DAYS)
    for grant in _rows(tx, Grant, t.grants.c.state == "active", t.grants.c.expires_at <= soon):
        if (due := grant_warning_due(grant, now)) is not None:
            found.append(due)
    for hearing in _rows(tx, Hearing, t.hearings.c.state == "open", t.hearings.c.hold_by <= now):
        if (due := hearing_due(hearing, now)) is not None:
            found.append(due)
    for appeal in _rows(tx, Appeal, t.appeals.c.state == "filed", t.appeals.c.decide_by <= now):
        if (due := appeal_due(appeal, now)) is not None:
            found.append(due)
    for obligation in _rows(
        tx, Obligation, t.obligations.c.state == "open", t.obligations.c.due_at <= now
    ):
        if (due := obligation_due(obligation, now)) is not None:
            found.append(due)
    found.extend(framework_dues(tx, now))
    return sorted(found)


def run_due(store: Store, framework_of: FrameworkOf, now: dt.datetime) -> list[Due]:
    """Apply each due transition in its own transaction; returns those this call applied."""
    with store.read() as tx:
        pending = due_transitions(tx, framework_of, now)
    applied: list[Due] = []
    for due in pending:
        try:
            with store.transaction() as tx:
                # Claimed first: a second scheduler (another worker or server) waits on this
                # row's key until the first commits, then finds it taken. The due time is part
                # of the key: a reopened application may fall due again later.
                if not tx.mark_applied(due.kind, f"{due.subject}@{due.at.isoformat()}", now):
                    continue
                try:
                    change = _transition(tx, framework_of, due, now)
                except Conflict:
                    # Changed since it was found (decided, renewed, ...): nothing is due any
                    # more, and the claim is rolled back with the transaction.
                    raise _NotDue from None
                tx.apply(change)
            applied.append(due)
        except (_NotDue, IntegrityError):
            continue
    return applied


class _NotDue(Exception):
    """A transition found due that no longer is."""


def _transition(tx: Transaction, framework_of: FrameworkOf, due: Due, now: dt.datetime) -> Change:
    if due.kind == "deemed_approval":
        application = tx.get(Application, due.subject)
        decision_id = f"dec_{secrets.token_hex(8)}"
        replaced = tx.find(
            Obligation, model_id=application.model_id, state=("open", "under_review")
        )
        return deem_decision(
            new_id=decision_id,
            application=application,
            framework=framework_of(tx, application.framework_digest),
            now=now,
        ) + end_obligations(replaced, decision_id, SCHEDULER, now)
    if due.kind == "appeal_window_closed":
        decision = tx.get(Decision, due.subject)
        return close_appeal_window(decision, _appeal_pending(tx, decision.id), now)
    if due.kind == "approval_lapsed":
        return lapse_decision(tx.get(Decision, due.subject), now)
    if due.kind == "directive_sunset":
        return expire_directive(tx.get(Directive, due.subject), now)
    if due.kind == "hearing_missed":
        hearing = tx.get(Hearing, due.subject)
        return miss_hearing(hearing, heard_act(tx, hearing), now)
    if due.kind == "panel_deadline_missed":
        appeal = tx.get(Appeal, due.subject)
        framework = framework_of(tx, appeal_framework(tx, appeal))
        return miss_panel_deadline(appeal, appealed_act(tx, appeal), framework, now)
    if due.kind == "grant_expiring":
        return warn_grant_expiry(tx.get(Grant, due.subject), now)
    if due.kind == "obligation_breached":
        return _breach(tx, framework_of, tx.get(Obligation, due.subject), now)
    if due.kind == "framework_effective":
        return take_effect(tx, due.subject, now)
    return expire_grant(tx.get(Grant, due.subject), now)


def _breach(
    tx: Transaction, framework_of: FrameworkOf, obligation: Obligation, now: dt.datetime
) -> Change:
    decision = tx.get(Decision, obligation.decision_id)
    status = tx.find_one(ModelStatus, id=obligation.model_id)
    standing = (
        not decision.set_aside
        and not decision.lapsed
        and decision.valid_until > now
        and status is not None
        and status.decision_id == decision.id
    )
    application = tx.get(Application, decision.application_id)
    return breach_obligation(
        obligation=obligation,
        standing=standing,
        active=tx.find(Directive, model_id=obligation.model_id, state="active"),
        framework=framework_of(tx, application.framework_digest),
        directive_id=f"dir_{secrets.token_hex(8)}",
        hearing_id=f"hrg_{secrets.token_hex(8)}",
        now=now,
    )


def _appeal_pending(tx: Transaction, decision_id: str) -> bool:
    return any(a.state == "filed" for a in tx.find(Appeal, decision_id=decision_id))


def _rows(tx: Transaction, kind: type[R], *conditions: ColumnElement[bool]) -> list[R]:
    table = TABLES[kind]
    query = select(table.c.body).where(*conditions).order_by(table.c.id)
    return [kind.model_validate(body) for body in tx.connection.scalars(query)]
