"""The usage journal: what a process wrote reaches the register once, lost answers included."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from pathlib import Path

from sqlalchemy import select

from clearance.gateway import Meter, Spool, UsageRow
from clearance.server import init_data_dir
from clearance.server._usage import record_range
from clearance.store import Store
from clearance.store import _tables as t

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def totals(store: Store) -> dict[str, tuple[int, int, dict[str, int]]]:
    with store.read() as tx:
        rows = tx.connection.execute(select(t.usage)).all()
    return {r.model: (r.calls, r.prompt_tokens, dict(r.refusals or {})) for r in rows}


def test_a_report_whose_answer_was_lost_counts_once(tmp_path: Path, database_url: str) -> None:
    folder, _ = init_data_dir(
        tmp_path / "data", database_url=database_url, origin="test.example/log", now=NOW
    )
    store = folder.open_store()
    spool = Spool(tmp_path / "spool")
    meter = Meter(spool)
    for _ in range(3):
        meter.call("m", "org", "-", 5, 1)
    meter.refusal("model_halted", "m", "org")
    answers_lost = [True]

    async def send(source: str, start: int, end: int, rows: list[UsageRow]) -> int:
        position = record_range(store, source, start, end, rows, NOW)
        if answers_lost[0]:
            answers_lost[0] = False
            raise ConnectionError("the answer was lost on the way back")
        return position

    try:
        with contextlib.suppress(ConnectionError):
            asyncio.run(spool.report(send))
        meter.call("m", "org", "-", 5, 1)
        asyncio.run(spool.report(send))  # resends the first range: counted once
        asyncio.run(spool.report(send))  # nothing new
        assert totals(store) == {"m": (4, 20, {"model_halted": 1})}
        # a range that does not start where the register stands changes nothing
        assert record_range(store, "elsewhere", 10, 20, [], NOW) == 0
        segment = next((tmp_path / "spool").glob("*.usage")).stem
        row = UsageRow("m", "org", "-", 100, 0, 0, 0, {})
        assert record_range(store, segment, 0, 5, [row], NOW) > 5
        assert totals(store)["m"][0] == 4
    finally:
        spool.close()
        store.engine.dispose()


def test_a_dead_process_journal_is_claimed_reported_and_removed(tmp_path: Path) -> None:
    folder, _ = init_data_dir(tmp_path / "data", origin="test.example/log", now=NOW)
    store = folder.open_store()
    dead = Spool(tmp_path / "spool")
    Meter(dead).call("m", "org", "-", 2, 3)
    dead.close()  # as at its death: the lock goes with the process
    heir = Spool(tmp_path / "spool")

    async def send(source: str, start: int, end: int, rows: list[UsageRow]) -> int:
        return record_range(store, source, start, end, rows, NOW)

    try:
        assert asyncio.run(heir.report(send)) == 1
        assert totals(store) == {"m": (1, 2, {})}
        assert len(list((tmp_path / "spool").glob("*.usage"))) == 1  # the heir's own
        assert asyncio.run(heir.report(send)) == 0
    finally:
        heir.close()
        store.engine.dispose()
