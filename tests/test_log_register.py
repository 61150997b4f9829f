"""The register's transparency log, on SQLite and PostgreSQL: one signed leaf per event, in the
same transaction; envelopes securesystemslib accepts; the log served in the tlog-tiles layout."""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

from securesystemslib.dsse import Envelope as SslibEnvelope
from securesystemslib.signer import SSlibKey
from sqlalchemy import select

import tests.test_register_lifecycle as lifecycle
from clearance.ledger import (
    KEY_ROTATION_PREDICATE,
    ConsistencyProof,
    MemoryTileStore,
    Statement,
    TreeState,
    VerifierKey,
    append_entries,
    decode_entry_bundle,
    open_checkpoint,
    parse_leaf,
    read_entry,
    recover_state,
    verify_bundle,
)
from clearance.register import ModelConfig
from clearance.server import find_log, make_bundle, rotate_authority_key
from clearance.store import (
    LogEntry,
    SqlTileStore,
    TransparencyLog,
    checkpoint_history,
    model_digest,
    predicate_type,
)
from clearance.store import _tables as t
from tests.register_fixtures import Register


def rows(reg: Register) -> list[Any]:
    store = reg.client.app.state.context.store  # type: ignore[attr-defined]
    with store.read() as tx:
        return list(tx.connection.execute(select(t.statements).order_by(t.statements.c.idx)))


def events(reg: Register) -> list[dict[str, Any]]:
    return reg.ok(None, "GET", "/events?limit=500")["items"]  # type: ignore[no-any-return]


def sslib_key(key: VerifierKey) -> SSlibKey:
    return SSlibKey(key.dsse_keyid, "ed25519", "ed25519", {"public": key.public_key.hex()})


def test_securesystemslib_verifies_every_kind_of_envelope(register: Register) -> None:
    reg = register
    lifecycle.test_lifecycle_end_to_end(reg)
    key = sslib_key(reg.data_dir.signing_key.verifier)
    kinds = set()
    for row in rows(reg):
        theirs = SslibEnvelope.from_dict(json.loads(row.envelope))
        assert set(theirs.verify([key], 1)) == {key.keyid}
        statement = Statement.from_json(theirs.payload)
        assert statement.predicate_type == predicate_type(row.kind)
        assert statement.subjects[0].sha256 == row.subject
        assert row.envelope_sha256 == hashlib.sha256(row.envelope).hexdigest()
        kinds.add(row.kind)
    assert {
        "framework.published",
        "organization.created",
        "principal.created",
        "model.registered",
        "application.filed",
        "decision.made",
        "appeal.ruled",
        "directive.issued",
        "grant.issued",
        "access.granted",
        "report.filed",
    } <= kinds


def test_every_event_has_exactly_one_leaf_in_order(register: Register) -> None:
    reg = register
    lifecycle.test_lifecycle_end_to_end(reg)
    logged, happened = rows(reg), events(reg)
    assert [r.kind for r in logged] == [e["kind"] for e in happened]
    assert [r.idx for r in logged] == list(range(len(logged)))
    store = reg.client.app.state.context.store  # type: ignore[attr-defined]
    with store.read() as tx:
        tiles = SqlTileStore(tx.connection)
        assert tiles.state == recover_state(tiles)
        assert tiles.state.size == len(logged)
        history = checkpoint_history(tx.connection)
        # checkpoints sign in every appending transaction by default
        vkey = reg.data_dir.signing_key.verifier
        latest = open_checkpoint(history[-1], [vkey], origin=reg.data_dir.origin)
        assert (latest.size, latest.root_hash) == (len(logged), tiles.state.root_hash)
        for n, row in enumerate(logged):
            leaf = parse_leaf(read_entry(tiles, n))
            assert leaf.envelope_sha256 == row.envelope_sha256
            assert leaf.kind == row.kind


def test_a_failed_request_adds_no_leaf(register: Register) -> None:
    reg = register
    lifecycle.file_application(reg)
    before = len(rows(reg))
    unknown = reg.call(
        "admin",
        "POST",
        "/directives",
        json={"action": "restore", "model": "atlas-2", "grounds": "g", "organizations": ["Nobody"]},
    )
    assert unknown.status_code == 404
    duplicate = reg.call("admin", "POST", "/organizations", json={
        "name": "Atlas Labs", "kind": "developer", "jurisdiction": "US"
    })  # fmt: skip
    assert duplicate.status_code == 409
    assert len(rows(reg)) == before == len(events(reg))


def test_statements_are_about_the_model_configuration_and_carry_no_keys(
    register: Register,
) -> None:
    reg = register
    lifecycle.test_lifecycle_end_to_end(reg)
    store = reg.client.app.state.context.store  # type: ignore[attr-defined]
    with store.read() as tx:
        model = tx.find_one(ModelConfig, name="atlas-2")
        hashes = list(tx.connection.scalars(select(t.api_keys.c.key_hash)))
    assert model is not None
    logged = rows(reg)
    decision = next(r for r in logged if r.kind == "decision.made")
    statement = Statement.from_json(SslibEnvelope.from_dict(json.loads(decision.envelope)).payload)
    assert statement.subjects[0].name == "model:atlas-2"
    assert statement.subjects[0].sha256 == model_digest(model) == decision.subject
    record, *obligations = statement.predicate["records"]
    assert record["reasons"][0]["rules"] == ["evidence.missing", "cyber-critical"]
    assert [o["text"] for o in obligations] == ["Report usage monthly."]  # signed with it
    assert record["condition_departures"][0]["change"] == "dropped"  # the finding's condition
    assert statement.predicate["event"]["kind"] == "decision.made"
    payloads = b"".join(
        SslibEnvelope.from_dict(json.loads(r.envelope)).payload for r in logged
    ).decode()
    for key in reg.keys.values():
        # the secret is everything after the second "_": it may itself contain "_" (urlsafe)
        assert key.split("_", 2)[2] not in payloads
    for key_hash in hashes:
        assert key_hash not in payloads
    assert "key_hash" not in payloads


def test_log_endpoints_serve_the_tiles_and_a_verifiable_checkpoint(register: Register) -> None:
    reg = register
    early = reg.client.get("/log/bundle/3").content
    lifecycle.test_lifecycle_end_to_end(reg)
    vkey = VerifierKey.parse(reg.client.get("/log/key").text)
    assert vkey == reg.data_dir.signing_key.verifier
    response = reg.client.get("/log/checkpoint")
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["cache-control"] == "no-cache"
    checkpoint = open_checkpoint(response.text, [vkey], origin=reg.data_dir.origin)

    # the same leaves appended in one go to a memory store give the same tiles, byte for byte
    leaves = []
    for n in range(0, checkpoint.size, 256):
        width = min(256, checkpoint.size - n)
        suffix = "" if width == 256 else f".p/{width}"
        bundle = reg.client.get(f"/log/tile/entries/{n // 256:03d}{suffix}")
        assert bundle.status_code == 200
        leaves += decode_entry_bundle(bundle.content)
    expected = MemoryTileStore()
    state = append_entries(expected, TreeState.empty(), leaves)
    assert state.root_hash == checkpoint.root_hash
    for path, data in expected.paths().items():
        served = reg.client.get(f"/log/{path}")
        assert served.status_code == 200, path
        assert served.content == data
        assert served.headers["content-type"] == "application/octet-stream"
        full = ".p/" not in path
        assert ("immutable" in served.headers["cache-control"]) is full
    # an older partial tile is still served: the prefix of the current one
    assert (
        reg.client.get("/log/tile/0/000.p/1").content
        == expected.paths()[next(p for p in expected.paths() if p.startswith("tile/0/000"))][:32]
    )
    assert reg.client.get("/log/tile/0/999").status_code == 404
    assert reg.client.get("/log/tile/0/bogus").status_code == 404

    envelope = reg.client.get("/log/statements/5")
    assert envelope.headers["cache-control"].endswith("immutable")
    assert rows(reg)[5].envelope == envelope.content
    old_size = json.loads(early)["checkpoint"].split("\n")[1]
    proof = reg.client.get(f"/log/proof/consistency?old={old_size}")
    assert proof.status_code == 200
    verified = verify_bundle(early, [vkey], newer=ConsistencyProof.from_json(proof.text))
    assert verified.newer is not None and verified.newer.size == checkpoint.size


def test_key_rotation_is_logged_and_later_checkpoints_carry_the_new_key(
    register: Register,
) -> None:
    reg = register
    old = reg.data_dir.signing_key.verifier
    rotation = rotate_authority_key(reg.data_dir, reg.clock())
    assert (rotation.old, reg.data_dir.signing_key.verifier) == (old, rotation.new)
    assert rotation.new.name == old.name and rotation.new.key_id != old.key_id
    assert (reg.data_dir.path / "authority.key.old-1").stat().st_mode & 0o777 == 0o600
    assert reg.client.get("/log/key").text.strip() == rotation.new.vkey

    logged = rows(reg)
    assert logged[-1].kind == "key.rotated"
    statement = Statement.from_json(
        SslibEnvelope.from_dict(json.loads(logged[-1].envelope)).payload
    )
    assert statement.predicate_type == KEY_ROTATION_PREDICATE
    # the handover checkpoint verifies with either key
    handover = reg.client.get("/log/checkpoint").text
    for key in (old, rotation.new):
        open_checkpoint(handover, [key], origin=reg.data_dir.origin)

    reg.add_org("After Rotation", "partner")
    after = reg.client.get("/log/checkpoint").text
    open_checkpoint(after, [rotation.new], origin=reg.data_dir.origin)
    newest = rows(reg)[-1]
    theirs = SslibEnvelope.from_dict(json.loads(newest.envelope))
    assert set(theirs.verify([sslib_key(rotation.new)], 1)) == {rotation.new.dsse_keyid}

    # a verifier who only knew the old key follows the logged rotation to the new one
    store = reg.client.app.state.context.store  # type: ignore[attr-defined]
    verified = verify_bundle(make_bundle(store, newest.idx).to_json(), [old])
    assert rotation.new in verified.keys


def test_concurrent_appends_never_share_an_index(register: Register) -> None:
    reg = register
    store = reg.client.app.state.context.store  # type: ignore[attr-defined]
    log = find_log(store)
    assert log is not None
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            for n in range(8):
                entry = LogEntry(
                    "test.entry", f"{worker}-{n}".encode(), "ab" * 32, "x", reg.clock()
                )
                with store.transaction() as tx:
                    log.append(tx.connection, [entry, entry], reg.clock())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    before = len(rows(reg))
    threads = [threading.Thread(target=append, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    logged = rows(reg)
    assert [r.idx for r in logged] == list(range(before + 64))
    with store.read() as tx:
        tiles = SqlTileStore(tx.connection)
        assert tiles.state == recover_state(tiles)


def test_interval_checkpoints_wait_for_the_signer(register: Register) -> None:
    reg = register
    store = reg.client.app.state.context.store  # type: ignore[attr-defined]
    key = reg.data_dir.signing_key
    log = TransparencyLog(reg.data_dir.origin, lambda: key, checkpoint_interval=60)
    entry = LogEntry("test.entry", b"{}", "ab" * 32, "x", reg.clock())
    with store.transaction() as tx:
        (index,) = log.append(tx.connection, [entry], reg.clock())
    assert reg.client.get(f"/log/bundle/{index}").status_code == 503
    with store.transaction() as tx:
        assert log.checkpoint(tx.connection, reg.clock()) is not None
        assert log.checkpoint(tx.connection, reg.clock()) is None
    assert reg.client.get(f"/log/bundle/{index}").status_code == 200
