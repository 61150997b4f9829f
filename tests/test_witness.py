"""`clearance witness`: C2SP tlog-witness over HTTP, its SQLite memory, and its folder."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from clearance.ledger import (
    AddCheckpoint,
    Checkpoint,
    Cosigner,
    SigningKey,
    WitnessKey,
    check_quorum,
    merge_signatures,
    parse_note,
    sign_checkpoint,
)
from clearance.witness import WITNESS_VKEY, WitnessApp, WitnessStore
from tests.witness_fixtures import GrowingLog, free_port, start_witness, stop

NAME = "witness.example/w1"
NOW = 1_780_000_000


@pytest.fixture
def log() -> GrowingLog:
    log = GrowingLog.new()
    for size in (3, 10, 300, 301, 302):
        log.grow(size)
    return log


@pytest.fixture
def witness(tmp_path: Path, log: GrowingLog) -> Iterator[tuple[TestClient, WitnessStore]]:
    cosigner = Cosigner(SigningKey.generate(NAME, b"\x07" * 32))
    logs = {log.origin: [log.key.verifier]}
    store = WitnessStore(tmp_path / "w.db", cosigner, lambda origin: logs.get(origin, ()))
    with TestClient(WitnessApp(store, logs, clock=lambda: NOW)) as client:
        yield client, store
    store.close()


def post(client: TestClient | httpx.Client, body: str) -> httpx.Response:
    return client.post("/add-checkpoint", content=body.encode())


def test_the_witness_cosigns_a_growing_log_and_answers_as_the_spec_says(
    witness: tuple[TestClient, WitnessStore], log: GrowingLog
) -> None:
    client, store = witness
    key = store.cosigner.verifier
    first = post(client, log.request(0, 3).to_text())
    assert first.status_code == 200, first.text
    assert first.text.startswith(f"— {NAME} ") and first.text.endswith("\n")
    cosigned = log.signed[3] + first.text
    (found,) = check_quorum(cosigned, [key], 1)
    assert found.timestamp == NOW
    for old, new in ((3, 10), (10, 300), (300, 301), (301, 301)):
        answer = post(client, log.request(old, new).to_text())
        assert answer.status_code == 200, answer.text
        check_quorum(log.signed[new] + answer.text, [key], 1)
    stored = store.latest(log.origin)
    assert stored is not None and (stored.size, stored.note) == (301, log.signed[301])

    # an old size that is not the witness's: 409 with its size, as text/x.tlog.size
    stale = post(client, log.request(10, 301).to_text())
    assert stale.status_code == 409
    assert stale.headers["content-type"] == "text/x.tlog.size"
    assert stale.text == "301\n"
    # another root for the size the witness holds: a split view, refused and kept as evidence
    fork = sign_checkpoint(Checkpoint(log.origin, 301, b"\x0f" * 32), log.key)
    split = post(client, f"old 301\n\n{fork}")
    assert split.status_code == 409 and "split view" in split.text
    assert [c.note for c in store.conflicts()] == [fork]
    # a bad consistency proof: 422, and the witness still holds 301
    request = log.request(301, 302)
    bent = AddCheckpoint(301, (b"\x01" * 32, *request.proof[1:]), request.checkpoint)
    assert post(client, bent.to_text()).status_code == 422
    # unknown log, untrusted signature, old size beyond the checkpoint, garbage
    other = GrowingLog.new("other.example/log")
    other.grow(2)
    assert post(client, other.request(0, 2).to_text()).status_code == 404
    stranger = GrowingLog.new(log.origin, b"\x09" * 32)
    stranger.grow(400)
    assert post(client, stranger.request(0, 400).to_text()).status_code == 403
    assert post(client, f"old 500\n\n{log.signed[301]}").status_code == 400
    assert post(client, "hello").status_code == 400
    assert client.get("/add-checkpoint").status_code == 405
    assert client.get("/").text.startswith(f"C2SP tlog-witness {NAME}\nvkey: {key.vkey}")
    latest = store.latest(log.origin)
    assert latest is not None and latest.size == 301


def test_concurrent_requests_never_roll_a_log_back(
    witness: tuple[TestClient, WitnessStore], log: GrowingLog
) -> None:
    _, store = witness
    store.add_checkpoint(log.request(0, 3), NOW)
    # two requests from the same old size race: one wins, the other gets 409, never both
    futures = [store.submit(log.request(3, 300), NOW), store.submit(log.request(3, 10), NOW)]
    outcomes = []
    for future in futures:
        try:
            future.result()
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(type(exc).__name__)
    assert outcomes == ["ok", "WitnessRefusal"]
    latest = store.latest(log.origin)
    assert latest is not None and latest.size == 300


def test_requests_arriving_together_are_decided_in_order_and_answered_after_the_commit(
    tmp_path: Path, log: GrowingLog
) -> None:
    other = GrowingLog.new("test.example/other", b"\x02" * 32)
    other.grow(3)
    cosigner = Cosigner(SigningKey.generate(NAME, b"\x07" * 32))
    logs = {log.origin: [log.key.verifier], other.origin: [other.key.verifier]}
    store = WitnessStore(tmp_path / "w.db", cosigner, lambda origin: logs.get(origin, ()))
    store.add_checkpoint(log.request(0, 3), NOW)
    app = WitnessApp(store, logs, clock=lambda: NOW)
    bodies = [
        log.request(3, 300),  # extends the held size 3
        log.request(3, 10),  # races it from the same old size: decided after it, so 409
        other.request(0, 3),  # another log in the same batch
        other.request(0, 3),  # again: the witness now holds 3 of it
        log.request(300, 301),  # builds on the first one of this batch
        AddCheckpoint(0, (), GrowingLog.new("test.example/unknown", b"\x03" * 32).grow(1)),
    ]

    async def all_at_once() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://w") as client:
            return await asyncio.gather(
                *(client.post("/add-checkpoint", content=b.to_text().encode()) for b in bodies)
            )

    answers = asyncio.run(all_at_once())
    assert [a.status_code for a in answers] == [200, 409, 200, 409, 200, 404]
    assert answers[1].text == "300\n" and answers[3].text == "3\n"
    assert answers[1].headers["content-type"] == "text/x.tlog.size"
    witness = WitnessKey(NAME, cosigner.key.verifier.public_key)
    for answer, body in zip(answers, bodies, strict=True):
        if answer.status_code == 200:
            assert len(check_quorum(body.checkpoint + answer.text, [witness], 1)) == 1
    # every accepted request is on disk, in a fresh connection to the database
    reopened = WitnessStore(tmp_path / "w.db", cosigner, lambda origin: logs.get(origin, ()))
    held = {origin: reopened.latest(origin) for origin in logs}
    assert {origin: w.size for origin, w in held.items() if w} == {log.origin: 301, other.origin: 3}
    reopened.close()
    store.close()


def test_a_cosignature_merged_into_the_checkpoint_is_one_more_note_line(
    witness: tuple[TestClient, WitnessStore], log: GrowingLog
) -> None:
    client, store = witness
    lines = post(client, log.request(0, 3).to_text()).text
    (sig,) = parse_note(log.signed[3] + lines).unverified[1:]
    merged = merge_signatures(log.signed[3], [sig])
    assert merged == log.signed[3] + lines
    assert WitnessKey.parse(store.cosigner.verifier.vkey) == store.cosigner.verifier


def test_first_start_writes_the_vkey_and_a_restart_keeps_key_and_state(
    tmp_path: Path, log: GrowingLog
) -> None:
    folder = tmp_path / "witness"
    vkey_file = tmp_path / "log.vkey"
    vkey_file.write_text(log.key.vkey + "\n")
    port = free_port()
    child = start_witness(folder, NAME, vkey_file, port)
    try:
        vkey = (folder / WITNESS_VKEY).read_text().strip()
        key = WitnessKey.parse(vkey)
        assert key.name == NAME
        assert stat.S_IMODE((folder / "witness.key").stat().st_mode) == 0o600
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            answer = post(client, log.request(0, 10).to_text())
            assert answer.status_code == 200
            check_quorum(log.signed[10] + answer.text, [key], 1)
    finally:
        output = stop(child)
    assert f"verifier key ({folder / WITNESS_VKEY}): {vkey}" in output

    child = start_witness(folder, NAME, vkey_file, port)
    try:
        assert (folder / WITNESS_VKEY).read_text().strip() == vkey
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            assert post(client, log.request(0, 300).to_text()).text == "10\n"
            assert post(client, log.request(10, 300).to_text()).status_code == 200
    finally:
        stop(child)


def test_the_witness_command_refuses_bad_set_ups(tmp_path: Path, log: GrowingLog) -> None:
    from tests.test_cli_server import clearance

    vkey_file = tmp_path / "log.vkey"
    vkey_file.write_text(log.key.vkey + "\n")
    folder = tmp_path / "w"
    Path(folder).mkdir()
    (folder / "witness.key").write_text(SigningKey.generate("someone.else/w").skey + "\n")
    renamed = clearance(
        "witness", "--data-dir", str(folder), "--name", NAME, "--log-key", str(vkey_file),
        "--port", "1",
    )  # fmt: skip
    assert renamed.returncode == 2 and "not 'witness.example/w1'" in renamed.stderr
    bad_key = tmp_path / "bad.vkey"
    bad_key.write_text("not a key\n")
    refused = clearance(
        "witness", "--data-dir", str(tmp_path / "w2"), "--name", NAME, "--log-key",
        str(bad_key), "--port", "1",
    )  # fmt: skip
    assert refused.returncode == 2 and refused.stderr.startswith("error: --log-key")
    assert "Traceback" not in refused.stderr + renamed.stderr


@pytest.mark.slow
def test_sigkill_mid_update_keeps_the_witness_state(tmp_path: Path) -> None:
    # four logs fed at once, so the kill lands while requests are being decided and committed
    logs = [GrowingLog.new(f"test.example/log{n}", bytes([n + 1]) * 32) for n in range(4)]
    sizes = list(range(1, 301))
    for log in logs:
        for size in sizes:
            log.grow(size)
    folder, vkey_file, port = tmp_path / "witness", tmp_path / "log.vkey", free_port()
    vkey_file.write_text("".join(log.key.vkey + "\n" for log in logs))
    child = start_witness(folder, NAME, vkey_file, port)
    acknowledged: dict[str, list[int]] = {log.origin: [] for log in logs}
    sent: dict[str, list[int]] = {log.origin: [] for log in logs}
    lock = threading.Lock()
    killed = threading.Event()

    def feed(log: GrowingLog) -> None:
        old = 0
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for size in sizes:
                sent[log.origin].append(size)
                try:
                    answer = post(client, log.request(old, size).to_text())
                except httpx.TransportError:
                    return
                assert answer.status_code == 200, answer.text
                acknowledged[log.origin].append(size)
                old = size
                with lock:
                    if sum(map(len, acknowledged.values())) >= 400 and not killed.is_set():
                        os.kill(child.pid, signal.SIGKILL)
                        killed.set()

    feeders = [threading.Thread(target=feed, args=(log,)) for log in logs]
    for feeder in feeders:
        feeder.start()
    for feeder in feeders:
        feeder.join(timeout=120)
    assert killed.is_set()
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    stop(child)
    # the other logs were still being fed when the kill came
    assert sum(len(sent[o]) - len(acknowledged[o]) for o in sent) >= 2

    child = start_witness(folder, NAME, vkey_file, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            for log in logs:
                last = sizes[-1]
                held = post(client, log.request(0, last).to_text())
                assert held.status_code == 409
                size = int(held.text)
                # every acknowledged cosignature is remembered; at most the request in flight
                assert max(acknowledged[log.origin]) <= size <= max(sent[log.origin])
                assert post(client, log.request(size, last).to_text()).status_code == 200
                # and what it remembers is the exact checkpoint of that size
                fork = sign_checkpoint(Checkpoint(log.origin, last, b"\x0f" * 32), log.key)
                assert post(client, f"old {last}\n\n{fork}").status_code == 409
    finally:
        stop(child)
