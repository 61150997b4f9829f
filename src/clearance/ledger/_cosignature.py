"""C2SP cosignatures (https://c2sp.org/tlog-cosignature, cosignature/v1): a witness's word, signed
and timestamped, that a checkpoint is the largest consistent tree head it has seen of that log.

A cosignature is one more signature line on the checkpoint's signed note:

    — <witness name> base64(key ID || u64 big-endian timestamp || Ed25519 signature)

The key ID is SHA-256(name || 0x0A || 0x04 || public key)[:4] (0x04: the cosignature/v1
signature type), and the Ed25519 signature covers `cosignature/v1\\ntime <timestamp>\\n` followed
by the checkpoint's whole note text. A witness's verifier key is a vkey with the type byte 0x04:
`<name>+<hex key ID>+base64(0x04 || public key)`. The witness's private key is an ordinary
signed-note signer key; only the verifier side names the cosignature type.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from clearance.ledger._codec import b64encode
from clearance.ledger._errors import MalformedData, VerificationFailed
from clearance.ledger._keys import (
    ALG_COSIGNATURE_V1,
    SigningKey,
    check_key_name,
    key_id,
    split_key,
)
from clearance.ledger._note import NoteSignature, parse_note

COSIGNATURE_HEADER = "cosignature/v1"
MAX_TIMESTAMP = 2**63 - 1
_SIGNATURE_SIZE = 8 + 64


def cosignature_message(text: str, timestamp: int) -> bytes:
    """The bytes a cosignature/v1 signs: header line, time line, then the checkpoint text."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise MalformedData(f"cosignature timestamp {timestamp} is outside 0..2**63-1")
    return f"{COSIGNATURE_HEADER}\ntime {timestamp}\n{text}".encode()


@dataclass(frozen=True)
class WitnessKey:
    """A witness's public key (cosignature/v1, Ed25519) with its name; checks cosignatures."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.public_key) != 32:
            raise MalformedData(f"an Ed25519 public key is 32 bytes, not {len(self.public_key)}")

    @classmethod
    def parse(cls, vkey: str) -> WitnessKey:
        """Parse a witness vkey `<name>+<hex key ID>+<base64(0x04 || public key)>`."""
        name, claimed, public = split_key(vkey.strip(), "witness key", ALG_COSIGNATURE_V1)
        key = cls(name, public)
        if key.key_id != claimed:
            raise MalformedData(
                f"witness key ID {claimed:08x} does not match its name and key ({key.key_id:08x})"
            )
        return key

    @cached_property
    def key_id(self) -> int:
        """The cosignature/v1 key ID (uint32): SHA-256(name || 0x0A || 0x04 || key)[:4]."""
        return key_id(self.name, self.public_key, ALG_COSIGNATURE_V1)

    @property
    def vkey(self) -> str:
        """The vkey string, with signature type 0x04."""
        material = b64encode(bytes([ALG_COSIGNATURE_V1]) + self.public_key)
        return f"{self.name}+{self.key_id:08x}+{material}"

    @cached_property
    def _crypto(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.public_key)

    def timestamp_of(self, text: str, signature: NoteSignature) -> int | None:
        """The cosignature's timestamp when `signature` is this witness's valid cosignature on
        the note text `text`; None when it is not."""
        if (signature.name, signature.key_id) != (self.name, self.key_id):
            return None
        if len(signature.signature) != _SIGNATURE_SIZE:
            return None
        timestamp = int.from_bytes(signature.signature[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            return None
        try:
            self._crypto.verify(signature.signature[8:], cosignature_message(text, timestamp))
        except (InvalidSignature, ValueError):
            return None
        return timestamp

    def __str__(self) -> str:
        return self.vkey


@dataclass(frozen=True)
class Cosigner:
    """A witness's signing key: makes cosignature/v1 lines."""

    key: SigningKey

    @cached_property
    def verifier(self) -> WitnessKey:
        """The witness's public key, with its name."""
        return WitnessKey(self.key.name, self.key.verifier.public_key)

    def cosign(self, text: str, timestamp: int) -> NoteSignature:
        """The cosignature on the note text `text` (a checkpoint's), made at `timestamp`."""
        signature = self.key.sign(cosignature_message(text, timestamp))
        return NoteSignature(
            self.key.name, self.verifier.key_id, timestamp.to_bytes(8, "big") + signature
        )


@dataclass(frozen=True)
class Cosignature:
    """A verified cosignature: which witness, when, and its signature line."""

    witness: WitnessKey
    timestamp: int
    signature: NoteSignature


def cosignatures(note: str | bytes, witnesses: Iterable[WitnessKey]) -> tuple[Cosignature, ...]:
    """The valid cosignatures on a signed note by any of `witnesses`, one per witness key.

    Lines by other keys are ignored; a line that names one of `witnesses` (name and key ID) but
    does not verify makes the whole note fail, as a signed-note verifier must. A cosignature
    does not sign its witness's name, so one key named twice is one witness, counted once.
    """
    parsed = parse_note(note)
    known = {(w.name, w.key_id): w for w in witnesses}
    found: dict[bytes, Cosignature] = {}
    for sig in parsed.unverified:
        witness = known.get((sig.name, sig.key_id))
        if witness is None:
            continue
        timestamp = witness.timestamp_of(parsed.text, sig)
        if timestamp is None:
            raise VerificationFailed(
                f"the cosignature by witness {sig.name}+{sig.key_id:08x} does not verify: the "
                "checkpoint was altered or the cosignature is corrupt"
            )
        found.setdefault(witness.public_key, Cosignature(witness, timestamp, sig))
    return tuple(found.values())


def check_quorum(
    note: str | bytes, witnesses: Iterable[WitnessKey], required: int
) -> tuple[Cosignature, ...]:
    """The cosignatures on `note` by `witnesses`, when at least `required` distinct ones verify.

    Raises VerificationFailed when fewer do, MalformedData when the policy itself cannot be met.
    """
    named = list(dict.fromkeys(witnesses))
    if not named:
        raise MalformedData("a witness quorum needs at least one witness key")
    distinct = len({w.public_key for w in named})
    if not 1 <= required <= distinct:
        raise MalformedData(
            f"a quorum of {required} cannot be met by {distinct} distinct witness key(s)"
        )
    found = cosignatures(note, named)
    if len(found) < required:
        signed = ", ".join(c.witness.name for c in found) or "none of them"
        raise VerificationFailed(
            f"the checkpoint is cosigned by {len(found)} of the {distinct} named witnesses "
            f"({signed}); {required} are required: it may be a view of the log that no "
            "witness has checked"
        )
    return found
