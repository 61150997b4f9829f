"""The register collects witnesses' cosignatures: each new checkpoint goes to every witness with
the consistency proof from what that witness holds; /log/checkpoint and bundles carry what came
back; a quorum holds publication back; a witness that is down or hangs delays nothing."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from clearance.errors import InvalidInput
from clearance.ledger import (
    Bundle,
    Checkpoint,
    Cosigner,
    SigningKey,
    VerificationFailed,
    WitnessKey,
    check_quorum,
    parse_checkpoint,
    sign_checkpoint,
    verify_bundle,
)
from clearance.server import DataDir, build_app, init_data_dir, open_data_dir
from clearance.server._witnessing import WitnessError, WitnessFollower
from clearance.store import Store, newest_checkpoint
from clearance.store import _tables as t
from clearance.witness import WitnessApp, WitnessStore
from tests.gateway_fixtures import Served
from tests.register_fixtures import FakeClock

ORIGIN = "test.example/log"


@dataclass
class Witness:
    """A witness served on a real port."""

    cosigner: Cosigner
    store: WitnessStore
    served: Served

    @property
    def url(self) -> str:
        return self.served.url


@dataclass
class Witnessed:
    """A register whose clearance.json names witnesses, and those witnesses."""

    client: TestClient
    store: Store
    folder: DataDir
    witnesses: list[Witness]
    clock: FakeClock
    admin: str
    followers: list[WitnessFollower]

    def add_org(self, name: str) -> None:
        body = {"name": name, "kind": "partner", "jurisdiction": "US"}
        headers = {"Authorization": f"Bearer {self.admin}"}
        response = self.client.post("/api/v1/organizations", json=body, headers=headers)
        assert response.status_code == 201, response.text

    def step(self, *which: int) -> None:
        for n in which:
            assert self.followers[n].step()


def start_witness(tmp_path: Path, name: str, log_vkey: str, seed: int, **options: Any) -> Witness:
    from clearance.ledger import VerifierKey

    cosigner = Cosigner(SigningKey.generate(name, bytes([seed]) * 32))
    logs = {ORIGIN: [VerifierKey.parse(log_vkey)]}
    store = WitnessStore(tmp_path / f"{seed}.db", cosigner, lambda o: logs.get(o, ()))
    return Witness(cosigner, store, Served(WitnessApp(store, logs), **options))


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextmanager
def make_register(
    tmp_path: Path,
    database_url: str,
    *,
    quorum: int,
    extra: list[dict[str, str]] | None = None,
    poll: float | None = None,
    interval: float = 1.0,
    witness_options: dict[str, Any] | None = None,
) -> Iterator[Witnessed]:
    clock = FakeClock()
    folder, admin = init_data_dir(
        tmp_path / "data", database_url=database_url, origin=ORIGIN, now=clock()
    )
    vkey = folder.signing_key.vkey
    witnesses = [
        start_witness(tmp_path, f"witness.example/w{n}", vkey, n, **(witness_options or {}))
        for n in (1, 2)
    ]
    settings = json.loads((folder.path / "clearance.json").read_text())
    settings["witnesses"] = [
        {"url": w.url, "vkey": w.cosigner.verifier.vkey} for w in witnesses
    ] + (extra or [])
    settings["witness_quorum"] = quorum
    (folder.path / "clearance.json").write_text(json.dumps(settings))
    folder = open_data_dir(folder.path)
    store = folder.open_store()
    background = folder.witnesses if poll is not None else ()
    app = build_app(
        store,
        clock=clock,
        clock_interval=None,
        witnesses=background,
        witness_poll=poll or 1,
        witness_interval=interval,
    )
    followers = [WitnessFollower(store, w, clock, timeout=2) for w in folder.witnesses]
    try:
        with TestClient(app) as client:
            yield Witnessed(client, store, folder, witnesses, clock, admin, followers)
    finally:
        for follower in followers:
            follower.close()
        for w in witnesses:
            w.served.stop()
            w.store.close()
        store.engine.dispose()


@pytest.fixture
def witnessed(tmp_path: Path, database_url: str) -> Iterator[Witnessed]:
    down = Cosigner(SigningKey.generate("witness.example/down", b"\x63" * 32))
    extra = [{"url": closed_port_url(), "vkey": down.verifier.vkey}]
    with make_register(tmp_path, database_url, quorum=2, extra=extra) as reg:
        yield reg


def keys(reg: Witnessed) -> list[object]:
    return [w.key for w in reg.folder.witnesses]


def test_cosignatures_are_collected_served_and_carried_by_bundles(
    witnessed: Witnessed, tmp_path: Path
) -> None:
    reg = witnessed
    reg.add_org("First")
    # quorum 2: nothing is published until two witnesses have cosigned, by any route
    assert reg.client.get("/log/checkpoint").status_code == 503
    with reg.store.read() as tx:
        signed = newest_checkpoint(tx.connection)
    assert signed is not None
    unwitnessed = reg.client.get(f"/log/proof/consistency?old=0&new={signed.size}")
    assert unwitnessed.status_code == 404
    assert "is cosigned by 2 witnesses" in unwitnessed.json()["error"]["message"]
    reg.step(0, 1)
    with pytest.raises(OSError, match="refused"):
        reg.followers[2].step()
    note = reg.client.get("/log/checkpoint").text
    witness_keys = [w.key for w in reg.folder.witnesses]
    found = check_quorum(note, witness_keys, 2)
    assert {c.witness.name for c in found} == {"witness.example/w1", "witness.example/w2"}
    first_size = parse_checkpoint(note).size
    assert reg.witnesses[0].store.latest(ORIGIN).size == first_size  # type: ignore[union-attr]

    # the log grows: the published checkpoint stays the cosigned one until the quorum is met
    reg.add_org("Second")
    reg.add_org("Third")
    assert parse_checkpoint(reg.client.get("/log/checkpoint").text).size == first_size
    assert reg.client.get(f"/log/bundle/{first_size + 1}").status_code == 503
    reg.step(0)
    assert parse_checkpoint(reg.client.get("/log/checkpoint").text).size == first_size
    reg.step(1)
    note = reg.client.get("/log/checkpoint").text
    assert parse_checkpoint(note).size == first_size + 2
    assert len(check_quorum(note, witness_keys, 2)) == 2
    # the witnesses were sent consistency proofs from what each held, and accepted them
    assert reg.witnesses[1].store.latest(ORIGIN).size == first_size + 2  # type: ignore[union-attr]

    response = reg.client.get(f"/log/bundle/{first_size + 1}")
    assert response.status_code == 200
    bundle = Bundle.from_json(response.content)
    assert check_quorum(bundle.proof.checkpoint, witness_keys, 2)
    verify_bundle(bundle, [reg.folder.signing_key.verifier])
    consistency = reg.client.get("/log/proof/consistency?old=1").json()
    assert len(check_quorum(consistency["checkpoint"], witness_keys, 2)) == 2

    home = reg.client.get("/").text
    assert "2 of 3 cosigned this checkpoint" in home
    assert "witness.example/down</td><td>not yet" in home


def test_without_a_quorum_the_newest_checkpoint_is_published_with_what_it_has(
    tmp_path: Path,
) -> None:
    with make_register(tmp_path, f"sqlite:///{tmp_path / 'r.db'}", quorum=0) as reg:
        reg.add_org("First")
        note = reg.client.get("/log/checkpoint").text
        with pytest.raises(VerificationFailed, match="cosigned by 0 of the 2"):
            check_quorum(note, keys(reg), 1)  # type: ignore[arg-type]
        reg.step(0)
        note = reg.client.get("/log/checkpoint").text
        assert [c.witness.name for c in check_quorum(note, keys(reg), 1)] == [  # type: ignore[arg-type]
            "witness.example/w1"
        ]


def test_a_split_view_is_refused_by_the_witness_and_reported(tmp_path: Path) -> None:
    with make_register(tmp_path, f"sqlite:///{tmp_path / 'r.db'}", quorum=0) as reg:
        reg.add_org("First")
        reg.step(0)
        honest = reg.client.get("/log/checkpoint").text
        size = parse_checkpoint(honest).size
        # the register is made to sign and serve another tree of the very same size
        forged = sign_checkpoint(Checkpoint(ORIGIN, size, b"\x0f" * 32), reg.folder.signing_key)
        with reg.store.transaction() as tx:
            tx.connection.execute(
                insert(t.log_checkpoints).values(
                    tree_size=size, root_hash=b"\x0f" * 32, note=forged, signed_at=reg.clock()
                )
            )
        with pytest.raises(WitnessError, match="split view"):
            reg.followers[0].step()
        (conflict,) = reg.witnesses[0].store.conflicts()
        assert conflict.note == forged
        assert parse_checkpoint(conflict.held_note) == parse_checkpoint(honest)
        # the forged checkpoint never gets a cosignature
        assert "witness.example/w1" not in reg.client.get("/log/checkpoint").text


def test_a_hanging_witness_delays_no_append_and_the_others_still_cosign(tmp_path: Path) -> None:
    hanging = socket.socket()
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(8)  # accepts connections in the kernel, never answers
    stuck = Cosigner(SigningKey.generate("witness.example/stuck", b"\x64" * 32))
    extra = [{"url": f"http://127.0.0.1:{hanging.getsockname()[1]}", "vkey": stuck.verifier.vkey}]
    with make_register(
        tmp_path, f"sqlite:///{tmp_path / 'r.db'}", quorum=1, extra=extra, poll=0.05
    ) as reg:
        started = time.monotonic()
        for n in range(10):
            reg.add_org(f"Org {n}")
        appended = time.monotonic() - started
        deadline = time.monotonic() + 20
        while True:
            response = reg.client.get("/log/checkpoint")
            if response.status_code == 200:
                note = response.text
                if len(check_quorum(note, keys(reg)[:2], 1)) == 2:  # type: ignore[arg-type]
                    break
            assert time.monotonic() < deadline, "the live witnesses did not cosign"
            time.sleep(0.05)
        # the stuck witness holds its connection for its whole 10 s timeout meanwhile
        assert appended < 10
    hanging.close()


def test_one_connection_is_kept_per_witness_and_made_again_when_the_witness_closed_it(
    tmp_path: Path,
) -> None:
    # the witnesses close a connection idle for 0.2 s, as any server does after a while
    options = {"timeout_keep_alive": 0.2}
    with make_register(
        tmp_path, f"sqlite:///{tmp_path / 'r.db'}", quorum=0, witness_options=options
    ) as reg:
        follower = reg.followers[0]
        reg.add_org("Org 1")
        reg.step(0)
        reg.add_org("Org 2")
        reg.step(0)  # on the same connection
        kept = follower._connection
        assert kept is not None and kept.sock is not None
        reg.add_org("Org 3")
        reg.step(0)
        assert follower._connection is kept
        time.sleep(0.6)  # the witness has closed it by now: the step still gets through
        reg.add_org("Org 4")
        reg.step(0)
        held = reg.witnesses[0].store.latest(ORIGIN)
        assert held is not None and held.size == follower.held
        assert reg.client.get("/log/checkpoint").text.count("witness.example/w1") == 1


def test_under_a_stream_of_appends_each_witness_is_asked_once_per_interval(
    tmp_path: Path,
) -> None:
    with make_register(
        tmp_path, f"sqlite:///{tmp_path / 'r.db'}", quorum=0, poll=0.02, interval=0.5
    ) as reg:
        started, appended = time.monotonic(), 0
        while time.monotonic() - started < 2.5:
            reg.add_org(f"Org {appended}")
            appended += 1
        elapsed = time.monotonic() - started
        with reg.store.read() as tx:
            rows = tx.connection.execute(
                select(t.log_cosignatures.c.witness, func.count()).group_by(
                    t.log_cosignatures.c.witness
                )
            ).all()
    per_witness: dict[str, int] = {witness: count for witness, count in rows}
    assert set(per_witness) == {w.cosigner.verifier.vkey for w in reg.witnesses}
    # one request per 0.5 s at most (and the first at once), not one per append or per poll
    assert appended > 20
    for count in per_witness.values():
        assert 2 <= count <= elapsed / 0.5 + 1


# one witness key under two names
ONE_KEY = Cosigner(SigningKey.generate("witness.example/one", b"\x09" * 32)).verifier
ONE, SAME = ONE_KEY.vkey, WitnessKey("witness.example/same", ONE_KEY.public_key).vkey


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"witnesses": {}}, "must be a list"),
        ({"witnesses": [{"url": "ftp://x", "vkey": "k"}]}, "not an http(s) URL"),
        ({"witnesses": [{"url": "http://x"}]}, "witnesses[0] must be"),
        ({"witnesses": [{"url": "http://x", "vkey": "nope"}]}, "witnesses[0].vkey"),
        ({"witness_quorum": 1}, "witness_quorum must be"),
        (
            {"witnesses": [{"url": "http://a", "vkey": ONE}, {"url": "http://b", "vkey": SAME}]},
            "has the public key of another witness",
        ),
    ],
)
def test_bad_witness_settings_are_clear_errors(
    tmp_path: Path, settings: dict[str, object], reason: str
) -> None:
    folder, _ = init_data_dir(tmp_path / "d", origin=ORIGIN, now=FakeClock()())
    body = json.loads((folder.path / "clearance.json").read_text()) | settings
    (folder.path / "clearance.json").write_text(json.dumps(body))
    with pytest.raises(InvalidInput) as caught:
        open_data_dir(folder.path)
    assert reason in caught.value.message


def test_verify_demands_the_quorum_of_named_witnesses(tmp_path: Path) -> None:
    from tests.test_log_verify import clearance

    down = Cosigner(SigningKey.generate("witness.example/down", b"\x63" * 32))
    extra = [{"url": closed_port_url(), "vkey": down.verifier.vkey}]
    with make_register(tmp_path, f"sqlite:///{tmp_path / 'r.db'}", quorum=2, extra=extra) as reg:
        reg.add_org("First")
        reg.step(0, 1)
        (tmp_path / "b.json").write_bytes(reg.client.get("/log/bundle/1").content)
        log_vkey = reg.folder.signing_key.vkey
    w1, w2, w3 = (w.key.vkey for w in reg.folder.witnesses)
    (tmp_path / "witnesses.txt").write_text(f"{w1}\n{w2}\n{w3}\n")

    def verify(*args: str, bundle: str = "b.json") -> tuple[int, str]:
        done = clearance("verify", bundle, "--key", log_vkey, *args, cwd=tmp_path)
        assert "Traceback" not in done.stderr
        return done.returncode, done.stdout + done.stderr

    code, out = verify("--witness", w1, "--witness", w2, "--witnesses-required", "2")
    assert code == 0, out
    assert "cosigned by 2 of the 2 named witnesses (2 required):" in out
    assert "witness.example/w1 at 20" in out
    code, out = verify("--witness", "witnesses.txt", "--witnesses-required", "2")
    assert code == 0, out
    code, out = verify("--witness", "witnesses.txt", "--witnesses-required", "3")
    assert code == 1 and "cosigned by 2 of the 3 named witnesses" in out
    code, out = verify("--witness", "witnesses.txt")  # all named witnesses by default
    assert code == 1 and "3 are required" in out
    code, out = verify("--witness", w3, "--witnesses-required", "1")
    assert code == 1 and "0 of the 1" in out
    code, out = verify("--witnesses-required", "1")
    assert code == 2 and out.startswith("error: --witnesses-required needs")
    code, out = verify("--witness", w1, "--witnesses-required", "2")
    assert code == 2 and "from 1 to the 1" in out
    code, out = verify("--witness", log_vkey)
    assert code == 2 and "type 0x04" in out

    # a cosignature altered in the bundle: a named witness's line that does not verify
    body = json.loads((tmp_path / "b.json").read_text())
    line = next(x for x in body["checkpoint"].split("\n") if x.startswith("— witness.example/w1"))
    name, encoded = line.rsplit(" ", 1)
    bent = encoded[:20] + ("A" if encoded[20] != "A" else "B") + encoded[21:]
    for field in ("checkpoint", "tlog_proof"):
        body[field] = body[field].replace(line, f"{name} {bent}")
    (tmp_path / "bent.json").write_text(json.dumps(body))
    code, out = verify("--witness", w1, bundle="bent.json")
    assert code == 1 and "does not verify" in out
