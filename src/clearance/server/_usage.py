"""Usage totals from gateways, added to the register's table: exactly once per journal range.

A replica with a usage journal reports (segment, from, to, rows): the rows are added only when
`from` is where that segment's last applied range ended, in the same transaction that moves the
segment's position to `to`; the answer is the position either way, so a report repeated after a
lost answer, or sent by two claimants of one segment, counts once. Totals rows are locked while
they are added to (`FOR UPDATE` on PostgreSQL; SQLite serializes writers), so replicas reporting
at once never lose each other's counts.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from clearance.gateway import UsageRow
from clearance.store import Store
from clearance.store import _tables as t

RETRIES = 5


MAX_COUNT = 2**62
"""Counts and journal positions fit a 64-bit column, with room to add them up."""


class UsageRowIn(BaseModel):
    """One usage row reported by a gateway replica."""

    model: str = Field(max_length=128)
    organization: str = Field(max_length=64)
    grant: str = Field(max_length=64)
    calls: int = Field(ge=0, le=MAX_COUNT)
    failures: int = Field(ge=0, le=MAX_COUNT)
    prompt_tokens: int = Field(ge=0, le=MAX_COUNT)
    completion_tokens: int = Field(ge=0, le=MAX_COUNT)
    refusals: dict[str, Annotated[int, Field(ge=0, le=MAX_COUNT)]] = {}


class UsageReport(BaseModel):
    """Usage totals a replica accumulated: from its journal's range [from, to), or since its
    last report (no `source`: counted as sent)."""

    rows: list[UsageRowIn] = Field(max_length=10_000)
    source: str | None = Field(default=None, max_length=80, pattern=r"^[0-9A-Za-z._-]+$")
    start: int = Field(default=0, ge=0, le=MAX_COUNT, alias="from")
    end: int = Field(default=0, ge=0, le=MAX_COUNT, alias="to")

    def usage_rows(self) -> list[UsageRow]:
        """The rows as the gateway's type."""
        return [
            UsageRow(
                r.model,
                r.organization,
                r.grant,
                r.calls,
                r.failures,
                r.prompt_tokens,
                r.completion_tokens,
                dict(r.refusals),
            )
            for r in self.rows
        ]


def _add(connection: Connection, rows: list[UsageRow], now: dt.datetime) -> None:
    for row in rows:
        key = (
            (t.usage.c.model == row.model)
            & (t.usage.c.organization_id == row.organization)
            & (t.usage.c.grant_id == row.grant)
        )
        found = connection.execute(select(t.usage).where(key).with_for_update()).first()
        if found is None:
            connection.execute(
                insert(t.usage).values(
                    model=row.model,
                    organization_id=row.organization,
                    grant_id=row.grant,
                    calls=row.calls,
                    failures=row.failures,
                    prompt_tokens=row.prompt_tokens,
                    completion_tokens=row.completion_tokens,
                    refusals=dict(row.refusals),
                    updated_at=now,
                )
            )
            continue
        refusals = dict(found.refusals or {})
        for code, count in row.refusals.items():
            refusals[code] = refusals.get(code, 0) + count
        connection.execute(
            update(t.usage)
            .where(key)
            .values(
                calls=t.usage.c.calls + row.calls,
                failures=t.usage.c.failures + row.failures,
                prompt_tokens=t.usage.c.prompt_tokens + row.prompt_tokens,
                completion_tokens=t.usage.c.completion_tokens + row.completion_tokens,
                refusals=refusals,
                updated_at=now,
            )
        )


def record_usage(store: Store, rows: list[UsageRow], now: dt.datetime) -> None:
    """Add usage totals to the register's table (as sent: no journal range)."""
    if not rows:
        return
    for attempt in range(RETRIES):
        try:
            with store.transaction() as tx:
                _add(tx.connection, rows, now)
            return
        except IntegrityError:
            # another report inserted the same new row first: add to it this time
            if attempt == RETRIES - 1:
                raise


def record_range(
    store: Store, source: str, start: int, end: int, rows: list[UsageRow], now: dt.datetime
) -> int:
    """Apply a journal range once; returns the segment's position afterwards."""
    for attempt in range(RETRIES):
        try:
            with store.transaction() as tx:
                connection = tx.connection
                moved = connection.execute(
                    update(t.usage_sources)
                    .where(t.usage_sources.c.source == source, t.usage_sources.c.position == start)
                    .values(position=end, updated_at=now)
                ).rowcount
                if not moved:
                    position = connection.scalar(
                        select(t.usage_sources.c.position).where(t.usage_sources.c.source == source)
                    )
                    if position is not None or start != 0:
                        return int(position or 0)
                    connection.execute(
                        insert(t.usage_sources).values(source=source, position=end, updated_at=now)
                    )
                if end > start:
                    _add(connection, rows, now)
                return end
        except IntegrityError:
            if attempt == RETRIES - 1:
                raise
    return start  # pragma: no cover - the loop returns or raises
