"""A grant stands only while the act it came from stands.

A directive's grants (a restriction or a restore to named organizations) end when the directive
leaves force, however it does: superseded by another directive, revoked or lapsed at its
hearing, set aside on appeal (revoked with it), or at its sunset (expired with it). The
authority's testing grant is access for testing a model under review: it expires when its
application is decided, and stands again (within its days) if the decision is set aside and the
application is under review once more. A grant brought back by a hearing or an appeal (a
revocation withdrawn) stays ended when its act no longer stands. Grants from access requests
stand on their own.

The store applies `ended_with` to every change it writes, in the same transaction, so no act can
leave behind a grant that outlives its reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from clearance.register._events import Change, Event, EventKind
from clearance.register._records import Application, Directive, Grant

IN_FORCE = ("active", "proposed")
"""The directive states whose grants stand (a proposed directive has issued none yet)."""

UNDER_REVIEW = ("filed", "under_review", "information_requested")
"""The application states in which the authority's testing grant stands."""

Origin = Directive | Application
"""An act a grant can come from whose standing this module follows."""


def no_longer_stands(act: Origin) -> tuple[str, bool] | None:
    """Why the grants of `act` no longer stand, and whether they expire (rather than being
    revoked); None while they stand."""
    if isinstance(act, Directive):
        if act.state in IN_FORCE:
            return None
        return f"directive {act.id} is {act.state.replace('_', ' ')}", act.state == "expired"
    if act.state in UNDER_REVIEW:
        return None
    # a withdrawal revokes the testing grant itself; a decision ends the review it was for
    return f"application {act.id} is {act.state}", True


def ending_models(change: Change) -> set[str]:
    """The models whose grants `ended_with` needs to see for `change`: those of the directives
    and applications it writes and of the grants it makes active."""
    return {
        r.model_id
        for r in change.records
        if isinstance(r, Directive | Application) or (isinstance(r, Grant) and r.state == "active")
    }


def ended_with(
    change: Change, grants: Iterable[Grant], origins: Mapping[str, Origin] | None = None
) -> Change:
    """What `change` does to `grants` (the models', as they stand once it is written) through
    the acts they came from: an active grant whose act no longer stands ends; the testing grant
    of an application under review again stands again. `origins` gives the acts, by id, of the
    grants the change makes active (the acts in `change` itself are read from it). Each is done
    at the time, and by the actor, of the event about that act, else of the change's first."""
    written = {r.id: r for r in change.records if isinstance(r, Directive | Application)}
    acts: dict[str, Origin] = dict(origins or {}) | written
    told = {e.subject: e for e in reversed(change.events)}
    records: list[Grant] = []
    events: list[Event] = []
    for grant in sorted(grants, key=lambda g: g.id):
        act = acts.get(grant.origin)
        if act is None:
            continue
        event = told.get(grant.origin) or next(iter(change.events), None)
        ended = no_longer_stands(act)
        kind: EventKind
        update: dict[str, Any]
        if grant.state == "active" and ended is not None:
            if event is None:
                raise ValueError(f"the change that ends {grant.origin} has no event saying so")
            why, expired = ended
            kind, update = "grant.expired", {"state": "expired"}
            if not expired:
                kind, update = "grant.revoked", {"state": "revoked"}
        elif event is not None and grant.origin in written and _again(grant, act, event.at):
            why = f"application {act.id} is under review again"
            kind, update = "grant.reinstated", {"state": "active"}
        else:
            continue
        if kind == "grant.revoked":
            update |= {"revoked_by": event.actor, "revoked_at": event.at}
        records.append(grant.model_copy(update=update))
        events.append(
            Event(
                kind=kind,
                subject=grant.id,
                model_id=grant.model_id,
                actor=event.actor,
                at=event.at,
                data={"origin": grant.origin, "reason": why},
            )
        )
    return Change(tuple(records), tuple(events))


def _again(grant: Grant, act: Origin, at: dt.datetime) -> bool:
    """The testing grant of an application the change puts under review again stands again,
    if its review had ended it and its days have not run out by `at`."""
    return (
        isinstance(act, Application)
        and act.state in UNDER_REVIEW
        and act.testing_grant_id == grant.id
        and grant.purpose == "testing"
        and grant.state == "expired"
        and (grant.expires_at is None or grant.expires_at > at)
    )
