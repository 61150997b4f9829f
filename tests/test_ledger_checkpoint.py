"""Checkpoints and tlog proofs: format, verification, tampering, and rewritten history."""

from __future__ import annotations

import hashlib

import pytest

from clearance.ledger import (
    PROOF_HEADER,
    Checkpoint,
    LedgerError,
    MalformedData,
    MemoryTileStore,
    SigningKey,
    TlogProof,
    TreeState,
    VerificationFailed,
    append_entries,
    build_leaf,
    consistency_proof,
    inclusion_proof,
    make_tlog_proof,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
    verify_consistency,
    verify_entry_proof,
    verify_tlog_proof,
)

ORIGIN = "clearance.example/log"
LOG_KEY = SigningKey.generate(ORIGIN, hashlib.sha256(b"log key").digest())
WITNESS = SigningKey.generate("witness.example", hashlib.sha256(b"witness").digest())
SUBJECT = hashlib.sha256(b"model configuration").hexdigest()


def envelope(i: int) -> bytes:
    return f'{{"payload":"statement {i}"}}'.encode()


def leaves(start: int, end: int) -> list[bytes]:
    return [build_leaf("decision", envelope(i), SUBJECT, seq=i) for i in range(start, end)]


def grow(store: MemoryTileStore, state: TreeState, new: list[bytes]) -> tuple[TreeState, str]:
    state = append_entries(store, state, new)
    checkpoint = Checkpoint(ORIGIN, state.size, state.root_hash)
    return state, sign_checkpoint(checkpoint, LOG_KEY)


def test_checkpoint_text_follows_tlog_checkpoint() -> None:
    cp = Checkpoint("example.com/behind-the-sofa", 20852163, bytes(range(32)), ("ext one",))
    root = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    assert cp.text == f"example.com/behind-the-sofa\n20852163\n{root}\next one\n"
    assert Checkpoint.from_text(cp.text) == cp


@pytest.mark.parametrize(
    "text",
    [
        "origin\n5\n",
        "origin\n05\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "origin\n-5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "origin\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
        "origin\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "origin\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n",
        "\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "origin\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n",
    ],
)
def test_malformed_checkpoint_text_is_refused(text: str) -> None:
    with pytest.raises(MalformedData):
        Checkpoint.from_text(text)


def test_signed_checkpoint_verifies_for_its_origin_only() -> None:
    cp = Checkpoint(ORIGIN, 3, hashlib.sha256(b"root").digest())
    signed = sign_checkpoint(cp, LOG_KEY, WITNESS)
    assert open_checkpoint(signed, [LOG_KEY.verifier], origin=ORIGIN) == cp
    assert open_checkpoint(signed, [LOG_KEY.verifier, WITNESS.verifier], origin=ORIGIN) == cp
    assert parse_checkpoint(signed) == cp
    with pytest.raises(VerificationFailed, match="not the expected"):
        open_checkpoint(signed, [LOG_KEY.verifier], origin="other.example/log")
    with pytest.raises(VerificationFailed, match="no valid signature by the log"):
        open_checkpoint(signed, [WITNESS.verifier], origin=ORIGIN)
    with pytest.raises(MalformedData, match="origin"):
        sign_checkpoint(cp, WITNESS)


def test_every_changed_byte_of_a_signed_checkpoint_fails() -> None:
    cp = Checkpoint(ORIGIN, 12345, hashlib.sha256(b"root").digest())
    signed = sign_checkpoint(cp, LOG_KEY).encode()
    for i in range(len(signed)):
        for flip in (0x01, 0x20):
            tampered = bytearray(signed)
            tampered[i] ^= flip
            with pytest.raises(LedgerError):
                open_checkpoint(bytes(tampered), [LOG_KEY.verifier], origin=ORIGIN)


def test_tlog_proof_format_matches_the_spec_layout() -> None:
    store = MemoryTileStore()
    _, signed = grow(store, TreeState.empty(), leaves(0, 5))
    proof = make_tlog_proof(store, 3, signed)
    lines = proof.to_text().split("\n")
    assert lines[0] == PROOF_HEADER
    assert lines[1].startswith("extra ")
    assert lines[2] == "index 3"
    assert len(lines[3]) == 44 and len(lines[4]) == 44 and len(lines[5]) == 44
    assert lines[6] == ""
    assert "\n".join(lines[7:]) == signed
    assert TlogProof.from_text(proof.to_text()) == proof
    bare = TlogProof(0, (), signed)
    assert bare.to_text() == f"{PROOF_HEADER}\nindex 0\n\n{signed}"
    assert TlogProof.from_text(bare.to_text().encode()) == bare


@pytest.mark.parametrize(
    "text",
    [
        "c2sp.org/tlog-proof@v2\nindex 0\n\nx",
        f"{PROOF_HEADER}\nindex 01\n\nx",
        f"{PROOF_HEADER}\nindex -1\n\nx",
        f"{PROOF_HEADER}\nextra\nindex 1\n\nx",
        f"{PROOF_HEADER}\nindex 1\nAAAA\n\nx",
        f"{PROOF_HEADER}\nindex 1\n",
        f"{PROOF_HEADER}\nindex 1\n\n",
    ],
)
def test_malformed_tlog_proofs_are_refused(text: str) -> None:
    with pytest.raises(MalformedData):
        TlogProof.from_text(text)


def test_entry_proofs_verify_offline_for_every_entry() -> None:
    store = MemoryTileStore()
    state, _ = grow(store, TreeState.empty(), leaves(0, 300))
    _, signed = grow(store, state, leaves(300, 333))
    for index in range(333):
        text = make_tlog_proof(store, index, signed).to_text()
        found = verify_entry_proof(text, envelope(index), [LOG_KEY.verifier], origin=ORIGIN)
        assert (found.index, found.leaf.extras["seq"], found.checkpoint.size) == (index, index, 333)
    with pytest.raises(VerificationFailed, match="envelope"):
        verify_entry_proof(
            make_tlog_proof(store, 4, signed), envelope(5), [LOG_KEY.verifier], origin=ORIGIN
        )


def test_tlog_proof_for_another_entry_or_beyond_the_tree_fails() -> None:
    store = MemoryTileStore()
    _, signed = grow(store, TreeState.empty(), leaves(0, 10))
    proof = make_tlog_proof(store, 4, signed)
    verify_tlog_proof(proof, leaves(4, 5)[0], [LOG_KEY.verifier], origin=ORIGIN)
    with pytest.raises(VerificationFailed, match="does not lead to the root"):
        verify_tlog_proof(proof, leaves(5, 6)[0], [LOG_KEY.verifier], origin=ORIGIN)
    beyond = TlogProof(10, proof.hashes, signed)
    with pytest.raises(VerificationFailed, match="beyond"):
        verify_tlog_proof(beyond, leaves(4, 5)[0], [LOG_KEY.verifier], origin=ORIGIN)
    with pytest.raises(MalformedData, match="extra"):
        verify_entry_proof(
            TlogProof(4, proof.hashes, signed), envelope(4), [LOG_KEY.verifier], origin=ORIGIN
        )


def test_every_changed_byte_of_an_entry_proof_fails() -> None:
    store = MemoryTileStore()
    _, signed = grow(store, TreeState.empty(), leaves(0, 21))
    text = make_tlog_proof(store, 13, signed).to_text().encode()
    verify_entry_proof(text, envelope(13), [LOG_KEY.verifier], origin=ORIGIN)
    for i in range(len(text)):
        for flip in (0x01, 0x20):
            tampered = bytearray(text)
            tampered[i] ^= flip
            with pytest.raises(LedgerError):
                verify_entry_proof(bytes(tampered), envelope(13), [LOG_KEY.verifier], origin=ORIGIN)


def test_every_changed_byte_of_a_leaf_breaks_its_inclusion() -> None:
    store = MemoryTileStore()
    _, signed = grow(store, TreeState.empty(), leaves(0, 9))
    leaf = leaves(6, 7)[0]
    proof = make_tlog_proof(store, 6, signed)
    for i in range(len(leaf)):
        tampered = bytearray(leaf)
        tampered[i] ^= 0x01
        with pytest.raises(VerificationFailed):
            verify_tlog_proof(proof, bytes(tampered), [LOG_KEY.verifier], origin=ORIGIN)


def test_rewritten_history_is_caught_by_a_consistency_proof() -> None:
    honest = MemoryTileStore()
    state, signed_old = grow(honest, TreeState.empty(), leaves(0, 700))
    old = open_checkpoint(signed_old, [LOG_KEY.verifier], origin=ORIGIN)
    state, signed_new = grow(honest, state, leaves(700, 1000))
    new = open_checkpoint(signed_new, [LOG_KEY.verifier], origin=ORIGIN)
    verify_consistency(
        old.size, new.size, old.root_hash, new.root_hash, consistency_proof(honest, 700, 1000)
    )

    # The log rebuilds its tree with entry 123 replaced, and signs the new head.
    forged = leaves(0, 1000)
    forged[123] = build_leaf("decision", b'{"payload":"forged"}', SUBJECT, seq=123)
    rewritten = MemoryTileStore()
    _, signed_forged = grow(rewritten, TreeState.empty(), forged)
    head = open_checkpoint(signed_forged, [LOG_KEY.verifier], origin=ORIGIN)
    assert head.size == new.size and head.root_hash != new.root_hash
    for proof in (consistency_proof(rewritten, 700, 1000), consistency_proof(honest, 700, 1000)):
        with pytest.raises(VerificationFailed):
            verify_consistency(old.size, head.size, old.root_hash, head.root_hash, proof)
    with pytest.raises(VerificationFailed, match="rewritten"):
        verify_consistency(
            old.size,
            head.size,
            old.root_hash,
            head.root_hash,
            consistency_proof(rewritten, 700, 1000),
        )
    # And the forged entry's inclusion proof does not verify against the honest head.
    proof = inclusion_proof(rewritten, 123, 1000)
    with pytest.raises(VerificationFailed):
        verify_tlog_proof(
            TlogProof(123, tuple(proof), signed_new), forged[123], [LOG_KEY.verifier], origin=ORIGIN
        )
