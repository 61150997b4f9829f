"""DSSE envelopes (https://github.com/secure-systems-lab/dsse) signed with Ed25519.

The signature covers PAE(payloadType, payload) = "DSSEv1" SP len(type) SP type SP len(body) SP
body. The JSON envelope is `{"payload", "payloadType", "signatures": [{"keyid", "sig"}]}` with
standard base64, written as RFC 8785 canonical JSON. Our `keyid` is the hex SHA-256 of the raw
Ed25519 public key (see `dsse_keyid`); verification requires it, so a signature names its key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from clearance.ledger._codec import b64decode, b64encode, canonical_json, load_json_object
from clearance.ledger._errors import MalformedData, VerificationFailed
from clearance.ledger._keys import SigningKey, VerifierKey

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: the bytes a signature covers."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True)
class EnvelopeSignature:
    """One DSSE signature: the key's keyid and the raw signature bytes."""

    keyid: str
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    """A DSSE envelope: payload bytes, their type, and signatures over their PAE."""

    payload: bytes
    payload_type: str
    signatures: tuple[EnvelopeSignature, ...]

    def to_json(self) -> bytes:
        """The JSON envelope as RFC 8785 canonical bytes."""
        return canonical_json(
            {
                "payload": b64encode(self.payload),
                "payloadType": self.payload_type,
                "signatures": [
                    {"keyid": s.keyid, "sig": b64encode(s.sig)} for s in self.signatures
                ],
            }
        )

    @classmethod
    def from_json(cls, data: bytes | str) -> Envelope:
        """Parse a JSON envelope; MalformedData if a required field is missing or mistyped."""
        obj = load_json_object(data, "DSSE envelope")
        payload, payload_type, signatures = (
            obj.get("payload"),
            obj.get("payloadType"),
            obj.get("signatures"),
        )
        if not isinstance(payload, str) or not isinstance(payload_type, str):
            raise MalformedData("DSSE envelope needs string 'payload' and 'payloadType' fields")
        if not isinstance(signatures, list):
            raise MalformedData("DSSE envelope needs a 'signatures' list")
        parsed = []
        for n, item in enumerate(signatures):
            if not isinstance(item, dict) or not isinstance(item.get("sig"), str):
                raise MalformedData(f"DSSE signature {n} needs a string 'sig' field")
            keyid = item.get("keyid", "")
            if not isinstance(keyid, str):
                raise MalformedData(f"DSSE signature {n} has a keyid that is not a string")
            sig = b64decode(item["sig"], f"DSSE signature {n}", urlsafe_ok=True)
            parsed.append(EnvelopeSignature(keyid, sig))
        body = b64decode(payload, "DSSE payload", urlsafe_ok=True)
        return cls(body, payload_type, tuple(parsed))


def sign_envelope(payload: bytes, payload_type: str, *keys: SigningKey) -> Envelope:
    """Sign `payload` of `payload_type` with each key."""
    if not keys:
        raise MalformedData("a DSSE envelope needs at least one signing key")
    message = pae(payload_type, payload)
    sigs = tuple(EnvelopeSignature(k.verifier.dsse_keyid, k.sign(message)) for k in keys)
    return Envelope(payload, payload_type, sigs)


def verify_envelope(
    envelope: Envelope | bytes | str,
    trusted: Iterable[VerifierKey],
    *,
    payload_type: str | None = None,
    threshold: int = 1,
) -> tuple[Envelope, tuple[VerifierKey, ...]]:
    """Verify an envelope against trusted keys; returns it and the keys whose signatures held.

    Every signature whose keyid names a trusted key must verify; signatures by other keyids are
    ignored; at least `threshold` distinct trusted keys must have signed.
    """
    if threshold < 1:
        raise VerificationFailed("a signature threshold must be at least 1")
    if not isinstance(envelope, Envelope):
        envelope = Envelope.from_json(envelope)
    if payload_type is not None and envelope.payload_type != payload_type:
        raise VerificationFailed(
            f"envelope payloadType is {envelope.payload_type!r}, expected {payload_type!r}"
        )
    keys = {key.dsse_keyid: key for key in trusted}
    message = pae(envelope.payload_type, envelope.payload)
    signers: dict[str, VerifierKey] = {}
    for sig in envelope.signatures:
        key = keys.get(sig.keyid)
        if key is None:
            continue
        if not key.verify(message, sig.sig):
            raise VerificationFailed(
                f"the envelope signature by keyid {sig.keyid[:16]}… does not verify: "
                "the payload was altered or the signature is corrupt"
            )
        signers[sig.keyid] = key
    if len(signers) < threshold:
        raise VerificationFailed(
            f"the envelope has {len(signers)} valid signature(s) by trusted keys; "
            f"{threshold} required"
        )
    return envelope, tuple(signers.values())
