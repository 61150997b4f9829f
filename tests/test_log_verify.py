"""Offline verification: any changed byte fails, a rewritten history is caught, and the CLI
round trip (bundle, consistency, verify) works through real processes; a SIGKILL loses nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from clearance.ledger import (
    Bundle,
    Checkpoint,
    ConsistencyProof,
    LedgerError,
    MemoryTileStore,
    SigningKey,
    Statement,
    Subject,
    TreeState,
    append_entries,
    build_leaf,
    make_consistency,
    make_tlog_proof,
    open_checkpoint,
    sign_checkpoint,
    sign_statement,
    verify_bundle,
    verify_consistency,
)
from clearance.server import init_data_dir, open_data_dir
from clearance.store import SqlTileStore, checkpoint_history, latest_checkpoint

ORIGIN = "verify.example/log"
KEY = SigningKey.generate(ORIGIN, b"\x07" * 32)
SUBJECT = "cd" * 32


def envelope(n: int) -> bytes:
    statement = Statement(
        (Subject.sha256_of("model:m", SUBJECT),),
        "https://clearance.dev/predicates/decision.made/v1",
        {"n": n},
    )
    return sign_statement(statement, KEY).to_json()


def build(count: int, replace: int | None = None) -> tuple[MemoryTileStore, list[bytes]]:
    envelopes = [envelope(n if n != replace else -1) for n in range(count)]
    leaves = [build_leaf("decision.made", e, SUBJECT) for e in envelopes]
    store = MemoryTileStore()
    append_entries(store, TreeState.empty(), leaves)
    return store, envelopes


def checkpoint(store: MemoryTileStore, size: int) -> str:
    from clearance.ledger import tree_root

    return sign_checkpoint(Checkpoint(ORIGIN, size, tree_root(store, size)), KEY)


def bundle_of(index: int, size: int) -> tuple[Bundle, MemoryTileStore]:
    store, envelopes = build(size)
    proof = make_tlog_proof(store, index, checkpoint(store, size))
    return Bundle(ORIGIN, index, envelopes[index], proof), store


def mutations(text: str) -> list[str]:
    """Every one-character change of `text` to a character of the same kind."""
    swap = {c: d for c, d in zip("0123456789", "1234567890", strict=True)}
    out = []
    for i, char in enumerate(text):
        new = swap.get(char) or (
            chr(ord(char) ^ 1)
            if char.isalpha() and char.isascii()
            else ("+" if char != "+" else "/")
        )
        out.append(text[:i] + new + text[i + 1 :])
    return out


def test_a_good_bundle_verifies() -> None:
    bundle, _ = bundle_of(5, 13)
    verified = verify_bundle(bundle.to_json(), [KEY.verifier])
    assert (verified.index, verified.checkpoint.size) == (5, 13)


def test_any_changed_byte_of_envelope_proof_leaf_or_checkpoint_fails() -> None:
    bundle, _ = bundle_of(5, 13)
    body = json.loads(bundle.to_json())
    for field in ("envelope", "tlog_proof"):
        for changed in mutations(body[field]):
            tampered = body | {field: changed}
            if field == "tlog_proof" and changed.partition("\n\n")[2] != body["checkpoint"]:
                tampered["checkpoint"] = changed.partition("\n\n")[2]
            with pytest.raises(LedgerError):
                verify_bundle(json.dumps(tampered), [KEY.verifier])
    for changed in mutations(body["checkpoint"]):
        with pytest.raises(LedgerError):
            verify_bundle(json.dumps(body | {"checkpoint": changed}), [KEY.verifier])


def test_a_rewritten_history_fails_the_consistency_check() -> None:
    bundle, _ = bundle_of(5, 13)
    honest, _ = build(40)
    good = make_consistency(honest, 13, checkpoint(honest, 40))
    assert verify_bundle(bundle, [KEY.verifier], newer=good).newer is not None
    # one leaf before the old checkpoint replaced, the tree rebuilt and extended, re-signed
    forged, _ = build(40, replace=2)
    rewritten = make_consistency(forged, 13, checkpoint(forged, 40))
    with pytest.raises(LedgerError, match="history was rewritten"):
        verify_bundle(bundle, [KEY.verifier], newer=rewritten)
    # a checkpoint alone, of another size, is not evidence of consistency
    with pytest.raises(LedgerError, match="consistency file"):
        verify_bundle(bundle, [KEY.verifier], newer=checkpoint(honest, 40))
    for changed in mutations(good.to_json().decode()):
        try:
            proof = ConsistencyProof.from_json(changed)
        except LedgerError:
            continue
        if proof == good:
            continue
        with pytest.raises(LedgerError):
            verify_bundle(bundle, [KEY.verifier], newer=proof)


def clearance(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from clearance.cli import main; main()", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_bundle_and_verify_round_trip_through_the_cli(tmp_path: Path) -> None:
    data = tmp_path / "data"
    init = clearance("init", "--data-dir", str(data), "--example-framework", cwd=tmp_path)
    assert init.returncode == 0
    made = clearance("bundle", "1", "-o", "b.json", "--data-dir", str(data), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    vkey = (data / "authority.vkey").read_text().strip()
    ok = clearance("verify", "b.json", "--key", vkey, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "verified: entry 1 (principal.created)" in ok.stdout

    rotated = clearance("key", "rotate", "--data-dir", str(data), cwd=tmp_path)
    assert rotated.returncode == 0, rotated.stderr
    made = clearance("consistency", "3", "-o", "c.json", "--data-dir", str(data), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    ok = clearance("verify", "b.json", "--key", vkey, "--newer-checkpoint", "c.json", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "consistent with its checkpoint of 4 entries" in ok.stdout

    body = json.loads((tmp_path / "b.json").read_text())
    body["envelope"] = body["envelope"].replace('"payload":"ey', '"payload":"ez')
    (tmp_path / "bad.json").write_text(json.dumps(body))
    bad = clearance("verify", "bad.json", "--key", str(data / "authority.vkey.old-1"), cwd=tmp_path)
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: ") and "does not verify" in bad.stderr
    wrong_key = clearance("verify", "b.json", "--key", str(data / "authority.vkey"), cwd=tmp_path)
    assert wrong_key.returncode == 1 and "trusted" in wrong_key.stderr


APPENDER = textwrap.dedent(
    """
    import datetime as dt, secrets, sys
    from pathlib import Path
    from clearance.register import Organization, create_organization
    from clearance.server import open_data_dir

    store = open_data_dir(Path(sys.argv[1])).open_store()
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    n = 0
    while True:
        org = Organization(id=f"org_{secrets.token_hex(8)}", name=f"Org {n}", kind="partner",
                           jurisdiction="US", created_at=now)
        with store.transaction() as tx:
            tx.apply(create_organization(org, None))
            size = SqlTileStore(tx.connection).tree_size()
        print(size - 1, org.id, flush=True)
        n += 1
    """
).replace(
    "from clearance.server", "from clearance.store import SqlTileStore\nfrom clearance.server"
)


@pytest.mark.slow
def test_sigkill_mid_append_loses_no_acknowledged_entry(tmp_path: Path, database_url: str) -> None:
    """On SQLite and PostgreSQL: every acknowledged act is there, the log verifies, and the
    checkpoints signed before the kill are consistent with the one signed after it."""
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    folder, _ = init_data_dir(tmp_path / "data", database_url=database_url, origin=ORIGIN, now=now)
    script = tmp_path / "append.py"
    script.write_text(APPENDER)
    child = subprocess.Popen(
        [sys.executable, str(script), str(folder.path)], stdout=subprocess.PIPE, text=True
    )
    acknowledged = []
    organizations = []
    assert child.stdout is not None
    try:
        for line in child.stdout:
            index, organization = line.split()
            acknowledged.append(int(index))
            organizations.append(organization)
            if len(acknowledged) >= 300:
                os.kill(child.pid, signal.SIGKILL)
                break
    finally:
        child.kill()
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    reopened = open_data_dir(folder.path)
    store = reopened.open_store()
    key = reopened.signing_key
    with store.transaction() as tx:
        from clearance.register import Organization

        stored = {o.id for o in tx.find(Organization)}
        assert set(organizations) <= stored
        tiles = SqlTileStore(tx.connection)
        assert max(acknowledged) < tiles.tree_size()
        reopened.transparency_log().checkpoint(tx.connection, now, force=True)
    with store.read() as tx:
        from clearance.ledger import recover_state

        tiles = SqlTileStore(tx.connection)
        assert tiles.state == recover_state(tiles)
        notes = checkpoint_history(tx.connection)
        newest = open_checkpoint(
            latest_checkpoint(tx.connection) or "", [key.verifier], origin=ORIGIN
        )
        assert newest.size == tiles.tree_size()
        for note in notes:
            earlier = open_checkpoint(note, [key.verifier], origin=ORIGIN)
            proof = make_consistency(tiles, earlier.size, notes[-1]).hashes
            verify_consistency(
                earlier.size, newest.size, earlier.root_hash, newest.root_hash, proof
            )
    store.engine.dispose()
