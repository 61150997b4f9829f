"""C2SP signed notes and Ed25519 keys, against the published vectors of the spec and of Go."""

from __future__ import annotations

import pytest

from clearance.ledger import (
    LedgerError,
    MalformedData,
    SigningKey,
    VerificationFailed,
    VerifierKey,
    add_signatures,
    key_id,
    open_note,
    parse_note,
    sign_note,
)

# From c2sp.org/signed-note, "Verifier keys / Example".
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n"
    "\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXm"
    "RKuwHjG1Yu72IneyaQM=\n"
)

# From golang.org/x/mod/sumdb/note's documentation and tests.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
PETER_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngo"
    "tpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox3"
    "3WWd1RvMc+QQ=\n"
)


def test_spec_example_note_verifies_with_spec_vkey() -> None:
    key = VerifierKey.parse(SPEC_VKEY)
    assert key.name == "example.com/foo"
    assert key.key_id == 0x530D903A
    assert key.vkey == SPEC_VKEY
    note = open_note(SPEC_NOTE, [key])
    assert note.text == "This is an example message.\n"
    assert [(s.name, s.key_id) for s in note.signatures] == [("example.com/foo", 0x530D903A)]
    assert note.signatures[0].line == SPEC_NOTE.split("\n")[2] + "\n"


def test_go_signer_key_signs_the_go_example_byte_for_byte() -> None:
    key = SigningKey.parse(PETER_SKEY)
    assert key.skey == PETER_SKEY
    assert key.vkey == PETER_VKEY
    assert sign_note(PETER_TEXT, key) == PETER_TEXT + "\n" + PETER_SIG
    assert "AYEK" not in repr(key)


def test_note_with_several_signatures_verifies_those_by_known_keys() -> None:
    peter, enoch = VerifierKey.parse(PETER_VKEY), VerifierKey.parse(ENOCH_VKEY)
    both = PETER_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    note = open_note(both, [peter])
    assert [s.name for s in note.signatures] == ["PeterNeumann"]
    assert [s.name for s in note.unverified] == ["EnochRoot"]
    note = open_note(both.encode(), [peter, enoch])
    assert [s.name for s in note.signatures] == ["PeterNeumann", "EnochRoot"]
    assert note.unverified == ()


def test_note_signed_by_no_known_key_is_rejected() -> None:
    with pytest.raises(VerificationFailed, match=r"no signature .* trusted key .*PeterNeumann"):
        open_note(PETER_TEXT + "\n" + PETER_SIG, [VerifierKey.parse(ENOCH_VKEY)])
    with pytest.raises(VerificationFailed):
        open_note(PETER_TEXT + "\n" + PETER_SIG, [])


def test_bad_signature_by_a_known_key_rejects_the_whole_note() -> None:
    peter, enoch = VerifierKey.parse(PETER_VKEY), VerifierKey.parse(ENOCH_VKEY)
    bad = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[64:]
    with pytest.raises(VerificationFailed, match=r"EnochRoot\+af0cfe78 does not verify"):
        open_note(PETER_TEXT + "\n" + PETER_SIG + bad, [peter, enoch])
    # Unknown to the verifier, the same bad signature is ignored.
    assert open_note(PETER_TEXT + "\n" + PETER_SIG + bad, [peter]).signatures


def test_same_name_or_same_id_alone_does_not_match_a_key() -> None:
    other = SigningKey.generate("PeterNeumann", bytes(32))
    note = sign_note(PETER_TEXT, other)
    with pytest.raises(VerificationFailed, match="no signature"):
        open_note(note, [VerifierKey.parse(PETER_VKEY)])


@pytest.mark.parametrize(
    "note",
    [
        PETER_TEXT,
        PETER_TEXT + "\n",
        PETER_TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + PETER_TEXT + "\n" + PETER_SIG,
        PETER_TEXT + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FF"
        "YC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        PETER_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        PETER_TEXT + "\n" + "— PeterNeumann AAAA\n",
        PETER_TEXT + "\n" + PETER_SIG * 101,
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(MalformedData):
        open_note(note, [VerifierKey.parse(PETER_VKEY)])


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(MalformedData, match="UTF-8"):
        parse_note(b"\xff" + (PETER_TEXT + "\n" + PETER_SIG).encode())


def test_every_changed_byte_of_a_signed_note_fails() -> None:
    peter = VerifierKey.parse(PETER_VKEY)
    note = (PETER_TEXT + "\n" + PETER_SIG).encode()
    for i in range(len(note)):
        for flip in (0x01, 0x20):
            tampered = bytearray(note)
            tampered[i] ^= flip
            with pytest.raises(LedgerError):
                open_note(bytes(tampered), [peter])


def test_generated_keys_round_trip_and_sign() -> None:
    key = SigningKey.generate("log.example/one")
    again = SigningKey.parse(key.skey)
    assert again == key
    assert VerifierKey.parse(key.vkey) == key.verifier
    assert key.verifier.key_id == key_id(key.name, key.verifier.public_key)
    note = sign_note("hello\n", key, SigningKey.generate("witness.example"))
    assert open_note(note, [key.verifier]).text == "hello\n"
    seeded = SigningKey.generate("x", bytes(range(32)))
    assert seeded == SigningKey.generate("x", bytes(range(32)))


def test_add_signatures_cosigns_and_replaces_own_line() -> None:
    old, new = SigningKey.generate("log.example"), SigningKey.generate("log.example")
    note = sign_note("tree\n", old)
    both = add_signatures(note, new)
    assert both.startswith(note)
    assert [s.name for s in open_note(both, [old.verifier, new.verifier]).signatures] == [
        "log.example",
        "log.example",
    ]
    assert add_signatures(both, new).count("\n— ") == 2


def test_vkey_manglings_are_refused() -> None:
    good = PETER_VKEY
    for i in range(len(good)):
        for j in range(i + 1, len(good) + 1):
            if (i, j) != (0, len(good)):
                with pytest.raises(MalformedData):
                    VerifierKey.parse(good[i:j])
    for i in range(len(good)):
        mangled = good[:i] + chr(ord(good[i]) + 1) + good[i + 1 :]
        with pytest.raises(MalformedData):
            VerifierKey.parse(mangled)


def test_signer_key_manglings_are_refused() -> None:
    for i in range(len(PETER_SKEY)):
        mangled = PETER_SKEY[:i] + chr(ord(PETER_SKEY[i]) + 1) + PETER_SKEY[i + 1 :]
        with pytest.raises(MalformedData):
            SigningKey.parse(mangled)
    with pytest.raises(MalformedData, match="PRIVATE"):
        SigningKey.parse(PETER_VKEY)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "tab\there", "nbsp\u00a0x", "ctl\x7f"])
def test_bad_key_names_are_refused(name: str) -> None:
    with pytest.raises(MalformedData):
        SigningKey.generate(name)


def test_signing_refuses_text_without_final_newline_or_with_controls() -> None:
    key = SigningKey.generate("k")
    with pytest.raises(MalformedData, match="newline"):
        sign_note("abc", key)
    with pytest.raises(MalformedData, match="control"):
        sign_note("a\rb\n", key)
    with pytest.raises(MalformedData, match="at least one"):
        sign_note("abc\n")
