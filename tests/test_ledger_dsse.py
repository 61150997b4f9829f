"""DSSE envelopes, in-toto statements and key rotation; checked by securesystemslib too."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from securesystemslib.dsse import Envelope as SslibEnvelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import CryptoSigner, SSlibKey

from clearance.ledger import (
    IN_TOTO_PAYLOAD_TYPE,
    KEY_ROTATION_PREDICATE,
    STATEMENT_TYPE,
    Envelope,
    LedgerError,
    MalformedData,
    SigningKey,
    Statement,
    Subject,
    VerificationFailed,
    VerifierKey,
    dsse_keyid,
    open_statement,
    pae,
    rotation_statement,
    sign_envelope,
    sign_key_rotation,
    sign_statement,
    verify_envelope,
    verify_key_rotation,
)

AUTHORITY = SigningKey.generate("authority.example", hashlib.sha256(b"authority").digest())
OTHER = SigningKey.generate("other.example", hashlib.sha256(b"other").digest())
SUBJECT = Subject.sha256_of("model-config:frontier-1", hashlib.sha256(b"config").hexdigest())
DECISION = Statement(
    (SUBJECT,),
    "https://clearance.dev/predicates/decision/v1",
    {"outcome": "approved", "tier": "public_safeguarded", "conditions": ["c1", "c2"], "n": 3},
)


def sslib_key(key: VerifierKey) -> SSlibKey:
    return SSlibKey(key.dsse_keyid, "ed25519", "ed25519", {"public": key.public_key.hex()})


def test_pae_matches_the_dsse_spec_vector() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    assert pae("", b"") == b"DSSEv1 0  0 "


def test_dsse_spec_signature_vector_verifies_over_our_pae() -> None:
    # protocol.md "Test Vectors": ECDSA P-256 / SHA-256, raw r || s signature.
    x = 46950820868899156662930047687818585632848591499744589407958293238635476079160
    y = 5640078356564379163099075877009565129882514886557779369047442380624545832820
    public = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    raw = base64.b64decode(
        "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="
    )
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(
        der, pae("http://example.com/HelloWorld", b"hello world"), ec.ECDSA(hashes.SHA256())
    )
    envelope = Envelope.from_json(
        '{"payload": "aGVsbG8gd29ybGQ=", "payloadType": "http://example.com/HelloWorld",'
        ' "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUi'
        'HqJPcIAriEGAHTVeCUjW2JIZA=="}]}'
    )
    assert (envelope.payload, envelope.signatures[0].keyid, envelope.signatures[0].sig) == (
        b"hello world",
        "",
        raw,
    )


def test_statement_is_in_toto_v1_json() -> None:
    payload = json.loads(DECISION.to_json())
    assert payload == {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": SUBJECT.name, "digest": {"sha256": SUBJECT.sha256}}],
        "predicateType": DECISION.predicate_type,
        "predicate": dict(DECISION.predicate),
    }
    assert STATEMENT_TYPE == "https://in-toto.io/Statement/v1"
    assert Statement.from_json(DECISION.to_json()) == DECISION


def test_envelope_json_shape_and_keyid() -> None:
    envelope = sign_statement(DECISION, AUTHORITY)
    data = json.loads(envelope.to_json())
    assert set(data) == {"payload", "payloadType", "signatures"}
    assert data["payloadType"] == IN_TOTO_PAYLOAD_TYPE == "application/vnd.in-toto+json"
    assert base64.b64decode(data["payload"]) == DECISION.to_json()
    [sig] = data["signatures"]
    assert sig["keyid"] == hashlib.sha256(AUTHORITY.verifier.public_key).hexdigest()
    assert sig["keyid"] == dsse_keyid(AUTHORITY.verifier.public_key)
    assert len(base64.b64decode(sig["sig"])) == 64
    assert Envelope.from_json(envelope.to_json()) == envelope


def test_open_statement_round_trip_and_refusals() -> None:
    envelope = sign_statement(DECISION, AUTHORITY)
    assert open_statement(envelope.to_json(), [AUTHORITY.verifier]) == DECISION
    with pytest.raises(VerificationFailed, match="0 valid signature"):
        open_statement(envelope, [OTHER.verifier])
    with pytest.raises(VerificationFailed, match="2 required"):
        open_statement(envelope, [AUTHORITY.verifier, OTHER.verifier], threshold=2)
    both = sign_statement(DECISION, AUTHORITY, OTHER)
    assert open_statement(both, [AUTHORITY.verifier, OTHER.verifier], threshold=2) == DECISION
    other_type = sign_envelope(DECISION.to_json(), "text/plain", AUTHORITY)
    with pytest.raises(VerificationFailed, match="payloadType"):
        open_statement(other_type, [AUTHORITY.verifier])


def test_every_changed_byte_of_an_envelope_or_statement_fails() -> None:
    envelope = sign_statement(DECISION, AUTHORITY)
    data = envelope.to_json()
    trusted = [AUTHORITY.verifier]
    for i in range(len(data)):
        for flip in (0x01, 0x20):
            tampered = bytearray(data)
            tampered[i] ^= flip
            with pytest.raises(LedgerError):
                open_statement(bytes(tampered), trusted)
    payload = envelope.payload
    for i in range(len(payload)):
        tampered = bytearray(payload)
        tampered[i] ^= 0x01
        forged = Envelope(bytes(tampered), envelope.payload_type, envelope.signatures)
        with pytest.raises(LedgerError):
            open_statement(forged, trusted)


def test_securesystemslib_verifies_our_envelopes() -> None:
    for envelope in (
        sign_statement(DECISION, AUTHORITY),
        sign_statement(DECISION, AUTHORITY, OTHER),
        sign_key_rotation(AUTHORITY, OTHER.verifier, effective_at="2026-01-02T03:04:05Z"),
        sign_envelope(b"", "application/octet-stream", OTHER),
    ):
        theirs = SslibEnvelope.from_dict(json.loads(envelope.to_json()))
        keys = [sslib_key(AUTHORITY.verifier), sslib_key(OTHER.verifier)]
        accepted = theirs.verify(keys, 1)
        assert set(accepted) <= {AUTHORITY.verifier.dsse_keyid, OTHER.verifier.dsse_keyid}
        assert theirs.payload == envelope.payload


def test_securesystemslib_rejects_a_tampered_envelope() -> None:
    envelope = sign_statement(DECISION, AUTHORITY)
    forged = Envelope(envelope.payload + b" ", envelope.payload_type, envelope.signatures)
    theirs = SslibEnvelope.from_dict(json.loads(forged.to_json()))
    with pytest.raises(VerificationError):
        theirs.verify([sslib_key(AUTHORITY.verifier)], 1)


def test_we_verify_envelopes_signed_by_securesystemslib() -> None:
    private = Ed25519PrivateKey.from_private_bytes(AUTHORITY.seed)
    signer = CryptoSigner(private, sslib_key(AUTHORITY.verifier))
    theirs = SslibEnvelope(DECISION.to_json(), IN_TOTO_PAYLOAD_TYPE, {})
    theirs.sign(signer)
    data = json.dumps(theirs.to_dict()).encode()
    assert open_statement(data, [AUTHORITY.verifier]) == DECISION
    _, signers = verify_envelope(data, [AUTHORITY.verifier, OTHER.verifier])
    assert signers == (AUTHORITY.verifier,)


@pytest.mark.parametrize(
    "data",
    [
        b"[]",
        b'{"payload": "", "payloadType": "t"}',
        b'{"payload": 1, "payloadType": "t", "signatures": []}',
        b'{"payload": "", "payloadType": "t", "signatures": [{"keyid": "k"}]}',
        b'{"payload": "", "payloadType": "t", "signatures": [{"keyid": 1, "sig": ""}]}',
        b'{"payload": "!", "payloadType": "t", "signatures": []}',
        b'{"payload": "", "payload": "", "payloadType": "t", "signatures": []}',
        b'{"payload": NaN, "payloadType": "t", "signatures": []}',
        b"not json",
    ],
)
def test_malformed_envelopes_are_refused(data: bytes) -> None:
    with pytest.raises(MalformedData):
        Envelope.from_json(data)


@pytest.mark.parametrize(
    "payload",
    [
        {"_type": "https://in-toto.io/Statement/v0.1", "subject": [], "predicateType": "p"},
        {"_type": STATEMENT_TYPE, "subject": [], "predicateType": "p"},
        {"_type": STATEMENT_TYPE, "subject": [{"name": "a", "digest": {}}], "predicateType": "p"},
        {
            "_type": STATEMENT_TYPE,
            "subject": [{"digest": {"sha256": "ab" * 32}}],
            "predicateType": "p",
        },
        {
            "_type": STATEMENT_TYPE,
            "subject": [{"name": "a", "digest": {"sha256": "AB" * 32}}],
            "predicateType": "p",
        },
        {"_type": STATEMENT_TYPE, "subject": [{"name": "a", "digest": {"sha256": "ab" * 32}}]},
        {
            "_type": STATEMENT_TYPE,
            "subject": [{"name": "a", "digest": {"sha256": "ab" * 32}}],
            "predicateType": "p",
            "predicate": [],
        },
    ],
)
def test_malformed_statements_are_refused(payload: dict[str, object]) -> None:
    with pytest.raises(MalformedData):
        Statement.from_json(json.dumps(payload))


def test_key_rotation_is_signed_by_the_old_key_and_names_the_new() -> None:
    new = SigningKey.generate("authority.example")
    envelope = sign_key_rotation(
        AUTHORITY, new.verifier, effective_at="2026-03-01T00:00:00+00:00", reason="scheduled"
    )
    rotation = verify_key_rotation(envelope.to_json(), AUTHORITY.verifier)
    assert (rotation.old, rotation.new) == (AUTHORITY.verifier, new.verifier)
    assert (rotation.effective_at, rotation.reason) == ("2026-03-01T00:00:00+00:00", "scheduled")
    statement = open_statement(envelope, [AUTHORITY.verifier])
    assert statement.predicate_type == KEY_ROTATION_PREDICATE
    assert statement.subjects[0].sha256 == new.verifier.dsse_keyid
    assert statement.predicate["new_vkey"] == new.vkey


def test_key_rotation_refusals() -> None:
    new = SigningKey.generate("authority.example")
    at = "2026-03-01T00:00:00Z"
    # Signed by the new key instead of the old one.
    by_new = sign_statement(
        rotation_statement(AUTHORITY.verifier, new.verifier, effective_at=at), new
    )
    with pytest.raises(VerificationFailed, match="valid signature"):
        verify_key_rotation(by_new, AUTHORITY.verifier)
    # A rotation of some other key, presented as ours.
    other = sign_key_rotation(OTHER, new.verifier, effective_at=at)
    with pytest.raises(VerificationFailed):
        verify_key_rotation(other, AUTHORITY.verifier)
    # Subject digest that does not match the new key.
    good = rotation_statement(AUTHORITY.verifier, new.verifier, effective_at=at)
    swapped = Statement(
        (Subject.sha256_of(new.vkey, OTHER.verifier.dsse_keyid),),
        good.predicate_type,
        good.predicate,
    )
    with pytest.raises(VerificationFailed, match="subject"):
        verify_key_rotation(sign_statement(swapped, AUTHORITY), AUTHORITY.verifier)
    # Not a rotation at all.
    with pytest.raises(VerificationFailed, match="not a key rotation"):
        verify_key_rotation(sign_statement(DECISION, AUTHORITY), AUTHORITY.verifier)
    with pytest.raises(MalformedData, match="time zone"):
        sign_key_rotation(AUTHORITY, new.verifier, effective_at="2026-03-01T00:00:00")
    with pytest.raises(MalformedData, match="change the key"):
        sign_key_rotation(AUTHORITY, AUTHORITY.verifier, effective_at=at)
