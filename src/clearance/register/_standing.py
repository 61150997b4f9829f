"""A grant stands only while the act it came from stands.

A directive's grants (a restriction to named organizations, a restore to them) end when the
directive leaves force, however it does: superseded by another directive, revoked or lapsed at
its hearing, set aside on appeal (revoked with it), or at its sunset (expired with it). The
authority's testing grant ends when its application is decided or withdrawn: it is access for
testing a model under review, not after. Grants from access requests are not touched here.

The store applies `ended_with` to every change it writes, in the same transaction, so no act can
leave behind a grant that outlives its reason (and a grant the change itself ended is not ended
twice).
"""

from __future__ import annotations

from collections.abc import Iterable

from clearance.register._events import Change, Event
from clearance.register._records import Application, Directive, Grant

IN_FORCE = ("active", "proposed")
"""The directive states whose grants stand (a proposed directive has issued none yet)."""

UNDER_REVIEW = ("filed", "under_review", "information_requested")
"""The application states in which the authority's testing grant stands."""


def ended_origins(change: Change) -> dict[str, tuple[str, bool]]:
    """The acts `change` ends that grants may have come from, by id: why they ended, and
    whether their grants expire with them (a directive's sunset) rather than being revoked."""
    ended: dict[str, tuple[str, bool]] = {}
    for record in change.records:
        if isinstance(record, Directive) and record.state not in IN_FORCE:
            why = f"directive {record.id} is {record.state.replace('_', ' ')}"
            ended[record.id] = (why, record.state == "expired")
        elif isinstance(record, Application) and record.state not in UNDER_REVIEW:
            ended[record.id] = (f"application {record.id} is {record.state}", False)
    return ended


def ending_models(change: Change) -> set[str]:
    """The models whose grants `ended_with` needs to see for `change`."""
    ended = ended_origins(change)
    return {
        r.model_id
        for r in change.records
        if isinstance(r, Directive | Application) and r.id in ended
    }


def ended_with(change: Change, grants: Iterable[Grant]) -> Change:
    """The grants among `grants` (as they stand once `change` is written) that end with an act
    `change` ends, each at that act's time and by its actor."""
    ended = ended_origins(change)
    acts = {e.subject: e for e in reversed(change.events)}
    records: list[Grant] = []
    events: list[Event] = []
    for grant in sorted(grants, key=lambda g: g.id):
        if grant.state != "active" or grant.origin not in ended:
            continue
        why, expired = ended[grant.origin]
        # the event about the act itself, else the change's own first (a decision's, which ends
        # its application's testing grant)
        act = acts.get(grant.origin) or next(iter(change.events), None)
        if act is None:
            raise ValueError(f"the change that ends {grant.origin} has no event saying so")
        actor, at = act.actor, act.at
        if expired:
            records.append(grant.model_copy(update={"state": "expired"}))
        else:
            update = {"state": "revoked", "revoked_by": actor, "revoked_at": at}
            records.append(grant.model_copy(update=update))
        events.append(
            Event(
                kind="grant.expired" if expired else "grant.revoked",
                subject=grant.id,
                model_id=grant.model_id,
                actor=actor,
                at=at,
                data={"origin": grant.origin, "reason": why},
            )
        )
    return Change(tuple(records), tuple(events))
