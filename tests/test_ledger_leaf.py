"""Log leaves: canonical JSON records pointing at an envelope, with one spelling each."""

from __future__ import annotations

import hashlib

import pytest

from clearance.ledger import (
    LeafRecord,
    MalformedData,
    VerificationFailed,
    build_leaf,
    parse_leaf,
)

ENVELOPE = b'{"payload":"eyJ9","payloadType":"application/vnd.in-toto+json","signatures":[]}'
SUBJECT = hashlib.sha256(b"config").hexdigest()


def test_leaf_is_rfc8785_canonical_json_with_the_envelope_digest() -> None:
    leaf = build_leaf("decision", ENVELOPE, SUBJECT, seq=7, at="2026-01-01T00:00:00Z")
    digest = hashlib.sha256(ENVELOPE).hexdigest()
    assert leaf == (
        b'{"at":"2026-01-01T00:00:00Z","envelope_sha256":"' + digest.encode() + b'",'
        b'"kind":"decision","seq":7,"subject_sha256":"' + SUBJECT.encode() + b'","v":1}'
    )
    record = parse_leaf(leaf)
    assert record == LeafRecord(
        "decision", digest, SUBJECT, {"seq": 7, "at": "2026-01-01T00:00:00Z"}
    )
    record.check_envelope(ENVELOPE)
    with pytest.raises(VerificationFailed, match="envelope"):
        record.check_envelope(ENVELOPE + b" ")


@pytest.mark.parametrize(
    "data",
    [
        b'{"kind":"decision","v":1}',
        b' {"envelope_sha256":"'
        + b"a" * 64
        + b'","kind":"d","subject_sha256":"'
        + b"b" * 64
        + b'","v":1}',
        b'{"v":1,"kind":"d","envelope_sha256":"'
        + b"a" * 64
        + b'","subject_sha256":"'
        + b"b" * 64
        + b'"}',
        b'{"envelope_sha256":"'
        + b"a" * 64
        + b'","kind":"d","subject_sha256":"'
        + b"b" * 64
        + b'","v":2}',
        b'{"envelope_sha256":"'
        + b"a" * 64
        + b'","kind":"d","subject_sha256":"'
        + b"b" * 64
        + b'","v":true}',
        b'{"envelope_sha256":"'
        + b"A" * 64
        + b'","kind":"d","subject_sha256":"'
        + b"b" * 64
        + b'","v":1}',
        b'{"envelope_sha256":"'
        + b"a" * 64
        + b'","kind":"d","subject_sha256":"'
        + b"b" * 64
        + b'","v":1,"x":1.5}',
        b'{"envelope_sha256":"'
        + b"a" * 64
        + b'","kind":"D","subject_sha256":"'
        + b"b" * 64
        + b'","v":1}',
        b"[1]",
    ],
)
def test_non_canonical_or_malformed_leaves_are_refused(data: bytes) -> None:
    with pytest.raises(MalformedData):
        parse_leaf(data)


def test_leaf_extras_are_small_scalars_with_plain_names() -> None:
    with pytest.raises(MalformedData, match="reserved"):
        build_leaf("decision", ENVELOPE, SUBJECT, kind="x", v=2)
    with pytest.raises(MalformedData, match="reserved"):
        build_leaf("decision", ENVELOPE, SUBJECT, **{"Bad-Name": 1})
    with pytest.raises(MalformedData, match="string, integer"):
        build_leaf("decision", ENVELOPE, SUBJECT, ratio=0.5)  # type: ignore[arg-type]
    with pytest.raises(MalformedData, match="too large"):
        build_leaf("decision", ENVELOPE, SUBJECT, seq=2**53)
    with pytest.raises(MalformedData, match="at most"):
        build_leaf("decision", ENVELOPE, SUBJECT, note="x" * 3000)
    with pytest.raises(MalformedData, match="hex"):
        build_leaf("decision", ENVELOPE, "ab")


def test_every_changed_byte_of_a_leaf_is_noticed() -> None:
    leaf = build_leaf("grant", ENVELOPE, SUBJECT, seq=12)
    for i in range(len(leaf)):
        tampered = bytearray(leaf)
        tampered[i] ^= 0x01
        try:
            record = parse_leaf(bytes(tampered))
        except MalformedData:
            continue
        assert record != parse_leaf(leaf)
