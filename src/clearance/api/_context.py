"""What every request handler needs: the store, the clock, the frameworks, the evidence."""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing as mp
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from sqlalchemy import insert, select

from clearance.errors import Conflict, NotFound
from clearance.framework import Framework, framework_digest, parse_framework
from clearance.register import Change, Event
from clearance.store import Store, Transaction
from clearance.store import _tables as t
from clearance.store._frameworks import effective_at, make_current

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    """The wall clock, in UTC: the one place the register reads the time."""
    return dt.datetime.now(dt.UTC)


@dataclass
class Context:
    """The register's running state, shared by the API, the web pages and the scheduler."""

    store: Store
    clock: Clock = system_clock
    _frameworks: dict[str, Framework] = field(default_factory=dict)

    def framework(self, tx: Transaction, digest: str | None = None) -> tuple[str, Framework]:
        """A published framework by digest, or the current one; parsed once and kept."""
        query = select(t.frameworks.c.digest, t.frameworks.c.source)
        if digest is None:
            query = query.where(t.frameworks.c.current.is_(True))
        else:
            query = query.where(t.frameworks.c.digest == digest)
        row = tx.connection.execute(query).first()
        if row is None:
            raise NotFound(
                "no framework has been published" if digest is None else f"no framework {digest}"
            )
        if row.digest not in self._frameworks:
            self._frameworks[row.digest] = parse_framework(
                row.source, f"framework {row.digest[:12]}"
            )
        return row.digest, self._frameworks[row.digest]

    def framework_of(self, tx: Transaction, digest: str) -> Framework:
        """The published framework with this digest (for the clock's per-application rules)."""
        return self.framework(tx, digest)[1]


_parser: ProcessPoolExecutor | None = None


async def parse_apart(text: str, source: str = "framework") -> Framework:
    """parse_framework() in a process of its own, so that no thread of the server waits on it.

    YAML is parsed in pure Python: in a thread it would still take the interpreter lock from
    the event loop thousands of times. The process is started on first use and kept.
    """
    global _parser
    if _parser is None:
        _parser = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"))
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_parser, parse_framework, text, source)
    except BrokenProcessPool:
        _parser = None
        raise


def publish_framework(
    tx: Transaction,
    text: str,
    actor: str,
    now: dt.datetime,
    parsed: Framework | None = None,
) -> tuple[str, Framework]:
    """Publish a framework version; the text is kept as published (`parsed`: its parse, if done).

    It is current at once when its effective date has come, else scheduled until that day.
    """
    framework = parsed if parsed is not None else parse_framework(text, "framework")
    digest = framework_digest(framework)
    exists = tx.connection.execute(
        select(t.frameworks.c.digest).where(
            (t.frameworks.c.digest == digest)
            | (
                (t.frameworks.c.framework_id == framework.id)
                & (t.frameworks.c.version == framework.version)
            )
        )
    ).first()
    if exists is not None:
        raise Conflict(f"framework {framework.id} {framework.version} is already published")
    scheduled = effective_at(framework.effective_date) > now
    tx.connection.execute(
        insert(t.frameworks).values(
            digest=digest,
            framework_id=framework.id,
            version=framework.version,
            source=text,
            published_at=now,
            current=False,
            state="scheduled",
            effective_date=framework.effective_date,
        )
    )
    if not scheduled:
        make_current(tx, digest)
    tx.apply(
        Change(
            (),
            (
                Event(
                    kind="framework.published",
                    subject=digest,
                    actor=actor,
                    at=now,
                    data={
                        "id": framework.id,
                        "version": framework.version,
                        "effective_date": framework.effective_date.isoformat(),
                        "state": "scheduled" if scheduled else "current",
                    },
                ),
            ),
        )
    )
    return digest, framework
