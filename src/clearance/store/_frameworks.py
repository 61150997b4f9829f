"""Framework versions in force: scheduled until their effective date, then current, then superseded.

A version published with an `effective_date` after today is `scheduled`; the scheduler makes it
current on that day (at 00:00 UTC), exactly once. Applications keep the version they were filed
under, whatever becomes current later.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from clearance.register import SCHEDULER, Change, Due, Event
from clearance.store import _tables as t
from clearance.store._store import Transaction


def effective_at(date: dt.date) -> dt.datetime:
    """The moment a version dated `date` takes effect: the start of that day, UTC."""
    return dt.datetime.combine(date, dt.time(0, 0), tzinfo=dt.UTC)


def framework_dues(tx: Transaction, now: dt.datetime) -> list[Due]:
    """Scheduled versions whose effective date has come."""
    rows = tx.connection.execute(
        select(t.frameworks.c.digest, t.frameworks.c.effective_date).where(
            t.frameworks.c.state == "scheduled", t.frameworks.c.effective_date <= now.date()
        )
    )
    return [
        Due(effective_at(row.effective_date), "framework_effective", row.digest) for row in rows
    ]


def make_current(tx: Transaction, digest: str) -> None:
    """Make a version current; the one it replaces is superseded. Written without its event."""
    tx.connection.execute(
        update(t.frameworks)
        .where(t.frameworks.c.current.is_(True))
        .values(current=False, state="superseded")
    )
    tx.connection.execute(
        update(t.frameworks)
        .where(t.frameworks.c.digest == digest)
        .values(current=True, state="current")
    )


def take_effect(tx: Transaction, digest: str, now: dt.datetime) -> Change:
    """A scheduled version becomes current (the scheduler's transition); returns its event."""
    row = tx.connection.execute(
        select(
            t.frameworks.c.framework_id,
            t.frameworks.c.version,
            t.frameworks.c.state,
            t.frameworks.c.effective_date,
        ).where(t.frameworks.c.digest == digest)
    ).one()
    if row.state != "scheduled" or effective_at(row.effective_date) > now:
        return Change((), ())
    make_current(tx, digest)
    event = Event(
        kind="framework.effective",
        subject=digest,
        actor=SCHEDULER,
        at=now,
        data={
            "id": row.framework_id,
            "version": row.version,
            "effective_date": row.effective_date.isoformat(),
        },
    )
    return Change((), (event,))
