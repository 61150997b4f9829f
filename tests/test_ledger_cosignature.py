"""C2SP cosignature/v1 and tlog-witness's rules, against published vectors and a message built
here from the spec's words (checked with `cryptography` directly, not through our verifier)."""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from clearance.ledger import (
    AddCheckpoint,
    Checkpoint,
    Cosigner,
    MalformedData,
    MemoryTileStore,
    NoteSignature,
    SigningKey,
    SplitView,
    TreeState,
    VerificationFailed,
    VerifierKey,
    Witnessed,
    WitnessKey,
    WitnessRefusal,
    append_entries,
    check_add_checkpoint,
    check_quorum,
    consistency_proof,
    cosignatures,
    extend_tree,
    leaf_hash,
    merge_signatures,
    open_checkpoint,
    parse_note,
    recover_state,
    sign_checkpoint,
    verify_split_view,
)

# A cosignature/v1 verifier key (type byte 0x04) from the tests of
# github.com/transparency-dev/formats (note/note_cosigv1_test.go), an implementation not ours.
REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
# An ordinary Ed25519 note key (type 0x01) from the same test table.
TEST_VKEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
# The example cosignature line of c2sp.org/tlog-cosignature; its message example reads
# "time 1679315147" (the witness's public key is not published, so only the layout is checked).
SPEC_LINE = (
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2"
    "oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)
SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)

ORIGIN = "test.example/log"
LOG = SigningKey.generate(ORIGIN, b"\x01" * 32)
W1 = Cosigner(SigningKey.generate("witness.example/w1", b"\x02" * 32))
W2 = Cosigner(SigningKey.generate("witness.example/w2", b"\x03" * 32))
W3 = Cosigner(SigningKey.generate("witness.example/w3", b"\x04" * 32))


def test_third_party_cosignature_vkey_parses_and_keeps_its_key_id() -> None:
    key = WitnessKey.parse(REMORA_VKEY)
    assert key.name == "remora.n621.de" and key.key_id == 0xDA77ADE7
    assert key.vkey == REMORA_VKEY
    with pytest.raises(MalformedData, match="type 0x04"):
        VerifierKey.parse(REMORA_VKEY)
    with pytest.raises(MalformedData, match="type 0x01"):
        WitnessKey.parse(TEST_VKEY)
    assert VerifierKey.parse(TEST_VKEY).vkey == TEST_VKEY


def test_spec_example_line_carries_key_id_then_the_timestamp() -> None:
    (sig,) = parse_note(SPEC_CHECKPOINT + "\n" + SPEC_LINE).unverified
    assert sig.name == "witness.example.com/w1"
    assert len(sig.signature) == 8 + 64
    assert int.from_bytes(sig.signature[:8], "big") == 1679315147


def test_a_cosignature_is_ed25519_over_the_message_the_spec_describes() -> None:
    text = Checkpoint(ORIGIN, 5, b"\x07" * 32).text
    sig = W1.cosign(text, 1_700_000_000)
    raw = base64.b64decode(sig.line.split(" ")[-1])
    assert raw[:4] == W1.verifier.key_id.to_bytes(4, "big")
    assert int.from_bytes(raw[4:12], "big") == 1_700_000_000
    # The message, spelled from the spec's prose: header line, time line, the note body.
    message = b"cosignature/v1\ntime 1700000000\n" + text.encode()
    public = Ed25519PublicKey.from_public_bytes(W1.verifier.public_key)
    public.verify(raw[12:], message)
    with pytest.raises(InvalidSignature):
        public.verify(raw[12:], text.encode())
    vkey = W1.verifier.vkey
    material = base64.b64decode(vkey.split("+")[2])
    assert material[0] == 0x04 and material[1:] == W1.verifier.public_key


def test_cosignatures_ride_along_the_log_signature_and_count_toward_a_quorum() -> None:
    checkpoint = Checkpoint(ORIGIN, 3, b"\x05" * 32)
    note = sign_checkpoint(checkpoint, LOG)
    cosigned = merge_signatures(
        note, [W1.cosign(checkpoint.text, 10), W2.cosign(checkpoint.text, 11)]
    )
    # the log's own verifier still opens it, ignoring the cosignatures
    assert open_checkpoint(cosigned, [LOG.verifier], origin=ORIGIN) == checkpoint
    found = cosignatures(cosigned, [W1.verifier, W2.verifier, W3.verifier])
    assert [(c.witness.name, c.timestamp) for c in found] == [
        ("witness.example/w1", 10),
        ("witness.example/w2", 11),
    ]
    assert len(check_quorum(cosigned, [W1.verifier, W2.verifier, W3.verifier], 2)) == 2
    with pytest.raises(VerificationFailed, match="cosigned by 2 of the 3 named witnesses"):
        check_quorum(cosigned, [W1.verifier, W2.verifier, W3.verifier], 3)
    with pytest.raises(VerificationFailed, match="0 of the 1"):
        check_quorum(note, [W1.verifier], 1)
    with pytest.raises(MalformedData, match="cannot be met"):
        check_quorum(cosigned, [W1.verifier], 2)
    # a second line by the same witness is not added twice
    again = merge_signatures(cosigned, [W1.cosign(checkpoint.text, 12)])
    assert again == cosigned


def test_one_witness_key_under_two_names_is_one_witness() -> None:
    checkpoint = Checkpoint(ORIGIN, 3, b"\x05" * 32)
    # the signed message does not carry the witness's name: W1's bytes verify under any name
    alias = WitnessKey("witness.example/alias", W1.verifier.public_key)
    line = W1.cosign(checkpoint.text, 10)
    relabelled = NoteSignature(alias.name, alias.key_id, line.signature)
    note = merge_signatures(sign_checkpoint(checkpoint, LOG), [line, relabelled])
    found = cosignatures(note, [W1.verifier, alias])
    assert [c.witness.name for c in found] == ["witness.example/w1"]
    with pytest.raises(MalformedData, match="cannot be met by 1 distinct witness key"):
        check_quorum(note, [W1.verifier, alias], 2)
    # with a real second witness the quorum of two is met, by two keys
    both = merge_signatures(note, [W2.cosign(checkpoint.text, 11)])
    assert len(check_quorum(both, [W1.verifier, alias, W2.verifier], 2)) == 2
    with pytest.raises(VerificationFailed, match="cosigned by 2 of the 3 named witnesses"):
        check_quorum(both, [W1.verifier, alias, W2.verifier, W3.verifier], 3)


def test_a_cosignature_on_another_checkpoint_or_altered_fails() -> None:
    checkpoint = Checkpoint(ORIGIN, 3, b"\x05" * 32)
    other = Checkpoint(ORIGIN, 3, b"\x06" * 32)
    note = sign_checkpoint(checkpoint, LOG)
    moved = merge_signatures(note, [W1.cosign(other.text, 10)])
    with pytest.raises(VerificationFailed, match=r"witness\.example/w1"):
        cosignatures(moved, [W1.verifier])
    # the timestamp is signed: changing it breaks the cosignature
    sig = W1.cosign(checkpoint.text, 10)
    raw = bytearray(base64.b64decode(sig.line.split(" ")[-1]))
    raw[11] ^= 1
    line = f"— {sig.name} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(VerificationFailed):
        cosignatures(note + line, [W1.verifier])
    # a key of the same name that is not the witness's is simply another signer
    stranger = Cosigner(SigningKey.generate("witness.example/w1", b"\x09" * 32))
    assert (
        cosignatures(merge_signatures(note, [stranger.cosign(checkpoint.text, 1)]), [W1.verifier])
        == ()
    )


def test_add_checkpoint_body_round_trips_and_rejects_bad_bodies() -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 3, b"\x05" * 32), LOG)
    request = AddCheckpoint(2, (b"\x01" * 32, b"\x02" * 32), note)
    assert AddCheckpoint.from_text(request.to_text().encode()) == request
    assert request.to_text().startswith("old 2\nAQEB")
    for body, reason in [
        ("old 02\n\n" + note, "leading zeros"),
        ("new 2\n\n" + note, "'old <size>'"),
        ("old 2\n" + note, "not valid base64"),
        ("old 2\nAQ==\n\n" + note, "not 32 bytes"),
        (
            "old 2\n" + "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n" * 64 + "\n" + note,
            "at most 63",
        ),
        ("old 2\n\nnot a checkpoint\n", "no blank line"),
    ]:
        with pytest.raises(MalformedData, match=reason):
            AddCheckpoint.from_text(body)


def grown(sizes: list[int]) -> tuple[MemoryTileStore, dict[int, Checkpoint]]:
    store, state = MemoryTileStore(), TreeState.empty()
    heads = {}
    for size in sizes:
        state = append_entries(store, state, [b"e%d" % n for n in range(state.size, size)])
        heads[size] = Checkpoint(ORIGIN, size, state.root_hash)
    return store, heads


def refusal(
    request: AddCheckpoint, latest: Witnessed | None, keys: list[VerifierKey]
) -> WitnessRefusal:
    with pytest.raises(WitnessRefusal) as caught:
        check_add_checkpoint(request, keys, latest)
    return caught.value


def test_the_witness_rules_give_the_specs_answers() -> None:
    store, heads = grown([4, 9, 20])
    keys = [LOG.verifier]
    signed = {n: sign_checkpoint(c, LOG) for n, c in heads.items()}
    first = AddCheckpoint(0, (), signed[4])
    assert check_add_checkpoint(first, keys, None) == heads[4]
    held = Witnessed(4, heads[4].root_hash, signed[4])
    proof = tuple(consistency_proof(store, 4, 9))
    assert check_add_checkpoint(AddCheckpoint(4, proof, signed[9]), keys, held) == heads[9]
    # the same checkpoint again is fine (a retry)
    assert check_add_checkpoint(AddCheckpoint(4, (), signed[4]), keys, held) == heads[4]

    assert refusal(first, None, []).status == 404
    stranger = SigningKey.generate(ORIGIN, b"\x08" * 32)
    assert (
        refusal(AddCheckpoint(0, (), sign_checkpoint(heads[4], stranger)), None, keys).status == 403
    )
    assert refusal(AddCheckpoint(10, (), signed[9]), held, keys).status == 400
    stale = refusal(AddCheckpoint(0, (), signed[9]), held, keys)
    assert (stale.status, stale.size) == (409, 4)
    bad = (proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:])
    assert refusal(AddCheckpoint(4, bad, signed[9]), held, keys).status == 422
    assert refusal(AddCheckpoint(0, proof, signed[4]), None, keys).status == 422
    # a different history of the same size: 409, and the witness's size in the answer
    fork = sign_checkpoint(Checkpoint(ORIGIN, 4, b"\x0f" * 32), LOG)
    split = refusal(AddCheckpoint(4, (), fork), held, keys)
    assert (split.status, split.size) == (409, None) and "split view" in split.message
    # ... or a longer one that does not extend what the witness holds
    forked = sign_checkpoint(Checkpoint(ORIGIN, 9, b"\x0e" * 32), LOG)
    assert refusal(AddCheckpoint(4, proof, forked), held, keys).status == 422


def test_extend_tree_matches_the_stored_tree() -> None:
    store, _ = grown([300, 517])
    state = TreeState.empty()
    state = extend_tree(state, [leaf_hash(b"e%d" % n) for n in range(300)])
    state = extend_tree(state, [leaf_hash(b"e%d" % n) for n in range(300, 517)])
    assert state == recover_state(store)


def test_a_split_view_file_holds_two_signed_roots_of_one_size() -> None:
    a = sign_checkpoint(Checkpoint(ORIGIN, 4, b"\x01" * 32), LOG)
    b = sign_checkpoint(Checkpoint(ORIGIN, 4, b"\x02" * 32), LOG)
    view = SplitView(a, b, ("http://register", "witness"))
    first, second = verify_split_view(view.to_json(), [LOG.verifier])
    assert first.size == second.size == 4 and first.root_hash != second.root_hash
    with pytest.raises(MalformedData, match="different roots"):
        SplitView(a, a)
    with pytest.raises(VerificationFailed):
        verify_split_view(view, [SigningKey.generate(ORIGIN, b"\x07" * 32).verifier])
