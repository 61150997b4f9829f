"""`clearance monitor`: follows a register's log, verifies it, reports each statement once."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from clearance.ledger import (
    Checkpoint,
    Cosigner,
    SigningKey,
    VerifierKey,
    WitnessRefusal,
    parse_checkpoint,
    sign_checkpoint,
    verify_split_view,
)
from clearance.monitor import Filters, Monitor, MonitorFailure, Observed
from clearance.server import build_app, init_data_dir, rotate_authority_key
from clearance.store import Store, newest_checkpoint
from clearance.store import _tables as t
from clearance.witness import WitnessStore
from tests.gateway_fixtures import Served
from tests.register_fixtures import FakeClock

ORIGIN = "test.example/log"


@dataclass
class Reg:
    client: TestClient
    store: Store
    path: Path
    clock: FakeClock
    admin: str

    def add_org(self, name: str, kind: str = "partner") -> None:
        body = {"name": name, "kind": kind, "jurisdiction": "US"}
        headers = {"Authorization": f"Bearer {self.admin}"}
        assert self.client.post("/api/v1/organizations", json=body, headers=headers).is_success

    def fetch(self, path: str) -> bytes | None:
        response = self.client.get(path)
        return response.content if response.status_code == 200 else None

    def forge(self, size: int, root: bytes, key: SigningKey | None = None) -> str:
        """Make the register sign and serve a checkpoint of another tree."""
        from clearance.server import open_data_dir

        signer = key or open_data_dir(self.path).signing_key
        note = sign_checkpoint(Checkpoint(ORIGIN, size, root), signer)
        with self.store.transaction() as tx:
            tx.connection.execute(
                insert(t.log_checkpoints).values(
                    tree_size=size, root_hash=root, note=note, signed_at=self.clock()
                )
            )
        return note


@pytest.fixture
def reg(tmp_path: Path) -> Iterator[Reg]:
    clock = FakeClock()
    folder, admin = init_data_dir(tmp_path / "data", origin=ORIGIN, now=clock())
    store = folder.open_store()
    with TestClient(build_app(store, clock=clock, clock_interval=None)) as client:
        yield Reg(client, store, folder.path, clock, admin)
    store.engine.dispose()


def monitor(reg: Reg, tmp_path: Path, seen: list[Observed], **kwargs: object) -> Monitor:
    return Monitor(
        url="http://register.test",
        state_path=tmp_path / "state.json",
        fetch=reg.fetch,
        report=seen.append,
        warn=lambda _text: None,
        **kwargs,  # type: ignore[arg-type]
    )


def test_the_monitor_reports_every_statement_once_across_restarts(reg: Reg, tmp_path: Path) -> None:
    seen: list[Observed] = []
    assert monitor(reg, tmp_path, seen).run_once() == 3  # init: org, principal, framework
    for n in range(5):
        reg.add_org(f"Lab {n}", "developer")
    # stopped half-way through reporting: the state stops after the last entry reported
    crashing: list[Observed] = []

    def report_then_crash(observed: Observed) -> None:
        if len(crashing) == 2:
            raise KeyboardInterrupt
        crashing.append(observed)

    crasher = monitor(reg, tmp_path, [])
    crasher.report = report_then_crash
    with pytest.raises(KeyboardInterrupt):
        crasher.run_once()
    seen.extend(crashing)
    again = monitor(reg, tmp_path, seen)
    again.run_once()
    assert again.run_once() == 0
    reg.add_org("Late")
    monitor(reg, tmp_path, seen).run_once()
    indexes = [o.index for o in seen]
    assert indexes == list(range(9)), indexes
    assert [o.leaf.kind for o in seen[3:]] == ["organization.created"] * 6
    assert (
        seen[3]
        .words()
        .startswith("[3] 2026-06-01T09:00:00Z a new organization about organization:")
    )
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["size"] == state["next"] == 9


def test_filters_choose_what_is_reported_not_what_is_verified(reg: Reg, tmp_path: Path) -> None:
    reg.add_org("Lab")
    reg.clock.advance(days=3)
    reg.add_org("Later Lab")
    seen: list[Observed] = []
    import datetime as dt

    since = dt.datetime(2026, 6, 2, tzinfo=dt.UTC)
    watcher = monitor(reg, tmp_path, seen, filters=Filters(since, ("organization",), ()))
    assert watcher.run_once() == 5
    assert [o.index for o in seen] == [4]
    seen.clear()
    (tmp_path / "state.json").unlink()
    monitor(reg, tmp_path, seen, filters=Filters(models=("no-such-model",))).run_once()
    assert seen == []


def test_a_split_view_is_refused_by_the_witness_and_reported_by_the_monitor(
    reg: Reg, tmp_path: Path
) -> None:
    reg.add_org("Lab")
    honest = reg.fetch("/log/checkpoint")
    assert honest is not None
    size = parse_checkpoint(honest).size
    # a witness cosigned the honest checkpoint
    vkey = reg.fetch("/log/key")
    assert vkey is not None
    key = VerifierKey.parse(vkey.decode())
    witness = WitnessStore(
        tmp_path / "w.db", Cosigner(SigningKey.generate("w.example/w", b"\x02" * 32)),
        lambda origin: [key] if origin == ORIGIN else [],
    )  # fmt: skip
    from clearance.ledger import AddCheckpoint

    witness.add_checkpoint(AddCheckpoint(0, (), honest.decode()), 1)
    seen: list[Observed] = []
    monitor(reg, tmp_path, seen).run_once()
    # the register now serves another tree of the same size
    forged = reg.forge(size, b"\x0f" * 32)
    with pytest.raises(WitnessRefusal) as refused:
        witness.add_checkpoint(AddCheckpoint(size, (), forged), 2)
    assert refused.value.status == 409
    with pytest.raises(MonitorFailure, match="split view") as failed:
        monitor(reg, tmp_path, seen).run_once()
    proof = tmp_path / "state.json.split-view.json"
    assert str(proof) in failed.value.message
    first, second = verify_split_view(proof.read_bytes(), [key])
    assert first.size == second.size == size
    witness.close()


def test_the_monitor_refuses_rewritten_history_and_bad_signatures(reg: Reg, tmp_path: Path) -> None:
    seen: list[Observed] = []
    monitor(reg, tmp_path, seen).run_once()
    with reg.store.read() as tx:
        newest = newest_checkpoint(tx.connection)
    assert newest is not None
    # a longer tree whose root the served entries do not make
    reg.add_org("Lab")
    reg.forge(newest.size + 1, b"\x0e" * 32)
    with pytest.raises(MonitorFailure, match="history rewritten"):
        monitor(reg, tmp_path, seen).run_once()
    # a checkpoint signed by a key the monitor does not trust
    reg.forge(newest.size + 1, b"\x0e" * 32, SigningKey.generate(ORIGIN, b"\x05" * 32))
    with pytest.raises(MonitorFailure, match="does not verify"):
        monitor(reg, tmp_path, seen).run_once()
    assert [o.index for o in seen] == [0, 1, 2]


def test_the_monitor_follows_a_logged_key_rotation(reg: Reg, tmp_path: Path) -> None:
    seen: list[Observed] = []
    monitor(reg, tmp_path, seen).run_once()
    from clearance.server import open_data_dir

    rotate_authority_key(open_data_dir(reg.path), reg.clock(), "scheduled")
    reg.add_org("After the rotation")
    monitor(reg, tmp_path, seen).run_once()
    assert [o.leaf.kind for o in seen[3:]] == ["key.rotated", "organization.created"]
    assert "a rotation of the log's signing key" in seen[3].words()
    assert len(json.loads((tmp_path / "state.json").read_text())["keys"]) == 2


def test_compare_with_another_view_of_the_checkpoint(reg: Reg, tmp_path: Path) -> None:
    seen: list[Observed] = []
    monitor(reg, tmp_path, seen).run_once()
    size = json.loads((tmp_path / "state.json").read_text())["size"]
    from clearance.server import open_data_dir

    key = open_data_dir(reg.path).signing_key
    elsewhere = sign_checkpoint(Checkpoint(ORIGIN, size, b"\x0c" * 32), key).encode()
    watcher = monitor(reg, tmp_path, seen, compare=[("a court's copy", lambda _p: elsewhere)])
    with pytest.raises(MonitorFailure, match="a court's copy"):
        watcher.run_once()


def test_monitor_command_prints_json_lines_and_resumes(reg: Reg, tmp_path: Path) -> None:
    served = Served(reg.client.app)
    try:
        state = tmp_path / "s.json"
        command = [sys.executable, "-m", "clearance", "monitor", served.url, "--state", str(state)]
        first = subprocess.run([*command, "--once", "--json"], capture_output=True, text=True)
        assert first.returncode == 0, first.stderr
        lines = [json.loads(line) for line in first.stdout.splitlines()]
        assert [x["index"] for x in lines] == [0, 1, 2]
        assert lines[2]["kind"] == "framework.published" and lines[2]["predicate"]["event"]
        assert "trusting the log key" in first.stderr
        reg.add_org("Lab")
        second = subprocess.run([*command, "--once"], capture_output=True, text=True)
        assert second.returncode == 0, second.stderr
        assert second.stdout.startswith("[3] ") and second.stdout.count("\n") == 1
        reg.forge(4, b"\x0f" * 32)
        third = subprocess.run([*command, "--once"], capture_output=True, text=True)
        assert third.returncode == 1
        assert third.stderr.startswith("error: split view") and "Traceback" not in third.stderr
    finally:
        served.stop()
