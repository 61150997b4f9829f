"""Offline bundles: one signed statement with the proof that it is in the log, checked anywhere.

A bundle is a JSON object:

    {"format": "https://clearance.dev/bundle/v1",
     "origin": <log origin>, "index": <entry index>,
     "envelope": <the DSSE envelope's JSON text, byte for byte as logged>,
     "tlog_proof": <a C2SP tlog-proof: the leaf as extra data, the inclusion hashes, and the
                    signed checkpoint>,
     "checkpoint": <that signed checkpoint again, for tools that want only the tree head>,
     "key_rotations": [<DSSE key-rotation envelopes logged before the checkpoint, oldest first>]}

Consistency with a later tree head needs the hashes that join the two trees, not the later
checkpoint alone. A consistency file carries them:

    {"format": "https://clearance.dev/consistency/v1",
     "old_size": <size of the earlier tree>, "proof": [<base64 hash>, ...],
     "checkpoint": <the later signed checkpoint>}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from clearance.ledger._checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from clearance.ledger._codec import b64decode, b64encode, load_json_object
from clearance.ledger._cosignature import Cosignature, WitnessKey, check_quorum
from clearance.ledger._dsse import IN_TOTO_PAYLOAD_TYPE, verify_envelope
from clearance.ledger._errors import LedgerError, MalformedData, VerificationFailed
from clearance.ledger._keys import VerifierKey
from clearance.ledger._leaf import LeafRecord
from clearance.ledger._log import consistency_proof
from clearance.ledger._merkle import verify_consistency
from clearance.ledger._proof import TlogProof, verify_entry_proof
from clearance.ledger._rotation import verify_key_rotation
from clearance.ledger._statement import Statement
from clearance.ledger._store import TileStore

BUNDLE_FORMAT = "https://clearance.dev/bundle/v1"
CONSISTENCY_FORMAT = "https://clearance.dev/consistency/v1"


def _fields(data: bytes | str, what: str, fmt: str, names: set[str]) -> dict[str, object]:
    obj = load_json_object(data, what)
    if obj.get("format") != fmt:
        raise MalformedData(f"{what} format is {obj.get('format')!r}, not {fmt!r}")
    if set(obj) != names | {"format"}:
        raise MalformedData(f"{what} must have exactly the fields {sorted(names | {'format'})}")
    return obj


def _text(obj: dict[str, object], name: str, what: str) -> str:
    value = obj[name]
    if not isinstance(value, str):
        raise MalformedData(f"{what} field {name!r} must be a string")
    return value


def _count(obj: dict[str, object], name: str, what: str) -> int:
    value = obj[name]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedData(f"{what} field {name!r} must be a whole number")
    return value


@dataclass(frozen=True)
class Bundle:
    """A statement's envelope, its tlog proof (with checkpoint), and the key rotations before."""

    origin: str
    index: int
    envelope: bytes
    proof: TlogProof
    key_rotations: tuple[bytes, ...] = ()

    def to_json(self) -> bytes:
        """The bundle file's bytes (indented JSON)."""
        body = {
            "format": BUNDLE_FORMAT,
            "origin": self.origin,
            "index": self.index,
            "envelope": self.envelope.decode(),
            "tlog_proof": self.proof.to_text(),
            "checkpoint": self.proof.checkpoint,
            "key_rotations": [r.decode() for r in self.key_rotations],
        }
        return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> Bundle:
        """Parse a bundle file; MalformedData if a field is missing, extra or mistyped."""
        what = "bundle"
        names = {"origin", "index", "envelope", "tlog_proof", "checkpoint", "key_rotations"}
        obj = _fields(data, what, BUNDLE_FORMAT, names)
        proof = TlogProof.from_text(_text(obj, "tlog_proof", what))
        if _text(obj, "checkpoint", what) != proof.checkpoint:
            raise VerificationFailed("the bundle's checkpoint differs from its tlog proof's")
        rotations = obj["key_rotations"]
        if not isinstance(rotations, list) or not all(isinstance(r, str) for r in rotations):
            raise MalformedData("bundle field 'key_rotations' must be a list of strings")
        return cls(
            _text(obj, "origin", what),
            _count(obj, "index", what),
            _text(obj, "envelope", what).encode(),
            proof,
            tuple(r.encode() for r in rotations),
        )


@dataclass(frozen=True)
class ConsistencyProof:
    """A later signed checkpoint and the hashes proving it extends the tree of `old_size`."""

    old_size: int
    hashes: tuple[bytes, ...]
    checkpoint: str

    def to_json(self) -> bytes:
        """The consistency file's bytes (indented JSON)."""
        body = {
            "format": CONSISTENCY_FORMAT,
            "old_size": self.old_size,
            "proof": [b64encode(h) for h in self.hashes],
            "checkpoint": self.checkpoint,
        }
        return (json.dumps(body, indent=2) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> ConsistencyProof:
        """Parse a consistency file; MalformedData if a field is missing, extra or mistyped."""
        what = "consistency file"
        obj = _fields(data, what, CONSISTENCY_FORMAT, {"old_size", "proof", "checkpoint"})
        hashes = obj["proof"]
        if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
            raise MalformedData("consistency file field 'proof' must be a list of base64 hashes")
        return cls(
            _count(obj, "old_size", what),
            tuple(b64decode(h, f"consistency hash {n}") for n, h in enumerate(hashes)),
            _text(obj, "checkpoint", what),
        )


def make_consistency(store: TileStore, old_size: int, signed_checkpoint: str) -> ConsistencyProof:
    """The consistency file from tree size `old_size` to the tree of `signed_checkpoint`."""
    new_size = parse_checkpoint(signed_checkpoint).size
    hashes = consistency_proof(store, old_size, new_size)
    return ConsistencyProof(old_size, tuple(hashes), signed_checkpoint)


@dataclass(frozen=True)
class VerifiedBundle:
    """What a verified bundle establishes."""

    statement: Statement
    leaf: LeafRecord
    index: int
    checkpoint: Checkpoint
    newer: Checkpoint | None
    keys: tuple[VerifierKey, ...]
    """The keys trusted in the end: those given, and those the bundle's rotations handed over to."""
    cosignatures: tuple[Cosignature, ...] = ()
    """The named witnesses' valid cosignatures on the bundle's checkpoint (when asked for)."""


def follow_rotations(
    trusted: Iterable[VerifierKey], rotations: Sequence[bytes]
) -> list[VerifierKey]:
    """The trusted keys plus every successor a rotation signed by a trusted key names."""
    keys = list(trusted)
    for envelope in rotations:
        for key in list(keys):
            try:
                rotation = verify_key_rotation(envelope, key)
            except LedgerError:
                continue
            if rotation.new not in keys:
                keys.append(rotation.new)
    return keys


def verify_bundle(
    bundle: Bundle | bytes | str,
    trusted: Iterable[VerifierKey],
    *,
    newer: ConsistencyProof | str | None = None,
    witnesses: Iterable[WitnessKey] = (),
    witnesses_required: int = 0,
) -> VerifiedBundle:
    """Check a bundle's signature, its inclusion in the log, and consistency with `newer`.

    `newer` is a consistency file, or a signed checkpoint of the very same tree. With
    `witnesses_required` K, the bundle's checkpoint must carry valid cosignatures by at least K
    of `witnesses` (C2SP cosignature/v1). Raises VerificationFailed (or MalformedData) with the
    reason when anything does not hold.
    """
    if not isinstance(bundle, Bundle):
        bundle = Bundle.from_json(bundle)
    keys = follow_rotations(trusted, bundle.key_rotations)
    if not keys:
        raise VerificationFailed("no trusted key was given")
    envelope, _ = verify_envelope(bundle.envelope, keys, payload_type=IN_TOTO_PAYLOAD_TYPE)
    statement = Statement.from_json(envelope.payload)
    if bundle.proof.index != bundle.index:
        raise VerificationFailed(
            f"the bundle is for entry {bundle.index} but its proof is for entry "
            f"{bundle.proof.index}"
        )
    entry = verify_entry_proof(bundle.proof, bundle.envelope, keys, origin=bundle.origin)
    if entry.leaf.subject_sha256 not in {s.sha256 for s in statement.subjects}:
        raise VerificationFailed("the log leaf names a subject the statement is not about")
    later = None if newer is None else check_newer(entry.checkpoint, newer, keys)
    cosigned: tuple[Cosignature, ...] = ()
    if witnesses_required:
        cosigned = check_quorum(bundle.proof.checkpoint, witnesses, witnesses_required)
    return VerifiedBundle(
        statement, entry.leaf, entry.index, entry.checkpoint, later, tuple(keys), cosigned
    )


def check_newer(
    old: Checkpoint, newer: ConsistencyProof | str, keys: Iterable[VerifierKey]
) -> Checkpoint:
    """Check that a later tree head (with its consistency proof) extends `old`; return it."""
    keys = list(keys)
    if isinstance(newer, str):
        checkpoint = open_checkpoint(newer, keys, origin=old.origin)
        if checkpoint.size != old.size:
            raise VerificationFailed(
                f"the newer checkpoint has {checkpoint.size} entries and the bundle's "
                f"{old.size}: a consistency file (with the proof hashes) is needed, not a "
                "checkpoint alone"
            )
        if checkpoint.root_hash != old.root_hash:
            raise VerificationFailed(
                f"two checkpoints of size {old.size} have different root hashes: the log forked"
            )
        return checkpoint
    checkpoint = open_checkpoint(newer.checkpoint, keys, origin=old.origin)
    if newer.old_size != old.size:
        raise VerificationFailed(
            f"the consistency proof starts at tree size {newer.old_size}, but the bundle's "
            f"checkpoint has size {old.size}"
        )
    if checkpoint.size < old.size:
        raise VerificationFailed(
            f"the newer checkpoint ({checkpoint.size} entries) is older than the bundle's "
            f"({old.size})"
        )
    try:
        verify_consistency(
            old.size, checkpoint.size, old.root_hash, checkpoint.root_hash, newer.hashes
        )
    except VerificationFailed as exc:
        raise VerificationFailed(
            f"the log of {checkpoint.size} entries is not an extension of the one of "
            f"{old.size} entries the bundle was proved against: history was rewritten "
            f"({exc.message})"
        ) from None
    return checkpoint
