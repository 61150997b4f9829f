"""C2SP tlog proofs (https://c2sp.org/tlog-proof): offline proof that an entry is in the log.

    c2sp.org/tlog-proof@v1
    extra <base64 opaque data>        (optional line)
    index <decimal entry index>
    <base64 hash>                     (zero or more: the inclusion proof, leaf side first)

    <signed checkpoint, verbatim>

Proofs made here carry the log entry (the leaf record) as their extra data, so that a verifier
holding only the DSSE envelope can recompute the leaf hash; the extra data is not trusted as
such: it must hash into the signed tree and must point at the envelope.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from clearance.ledger._checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from clearance.ledger._codec import b64decode, b64encode
from clearance.ledger._errors import MalformedData, VerificationFailed
from clearance.ledger._keys import VerifierKey
from clearance.ledger._leaf import LeafRecord, parse_leaf
from clearance.ledger._log import inclusion_proof, read_entry
from clearance.ledger._merkle import HASH_SIZE, leaf_hash, verify_inclusion
from clearance.ledger._store import TileStore

PROOF_HEADER = "c2sp.org/tlog-proof@v1"
_MAX_PROOF_HASHES = 64


@dataclass(frozen=True)
class TlogProof:
    """A parsed tlog proof: entry index, inclusion hashes, the signed checkpoint, extra data."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None

    def to_text(self) -> str:
        """The proof in its text format."""
        lines = [PROOF_HEADER]
        if self.extra is not None:
            lines.append(f"extra {b64encode(self.extra)}")
        lines.append(f"index {self.index}")
        lines.extend(b64encode(h) for h in self.hashes)
        return "".join(line + "\n" for line in lines) + "\n" + self.checkpoint

    @classmethod
    def from_text(cls, text: str | bytes) -> TlogProof:
        """Parse a tlog proof; MalformedData if any line breaks the format."""
        if isinstance(text, bytes):
            try:
                text = text.decode()
            except UnicodeDecodeError:
                raise MalformedData("tlog proof is not valid UTF-8") from None
        header, _, rest = text.partition("\n")
        if header != PROOF_HEADER:
            raise MalformedData(f"tlog proof must start with the line {PROOF_HEADER!r}")
        line, _, rest = rest.partition("\n")
        extra = None
        if line.startswith("extra "):
            extra = b64decode(line.removeprefix("extra "), "tlog proof extra data")
            line, _, rest = rest.partition("\n")
        number = line.removeprefix("index ")
        if not line.startswith("index ") or not number.isascii() or not number.isdigit():
            raise MalformedData("tlog proof needs an 'index <number>' line after its header")
        if str(int(number)) != number:
            raise MalformedData(f"tlog proof index {number!r} has leading zeros")
        hashes: list[bytes] = []
        while True:
            line, newline, rest = rest.partition("\n")
            if not newline:
                raise MalformedData("tlog proof has no blank line before its checkpoint")
            if not line:
                break
            value = b64decode(line, f"tlog proof hash {len(hashes)}")
            if len(value) != HASH_SIZE:
                raise MalformedData(f"tlog proof hash {len(hashes)} is not 32 bytes")
            hashes.append(value)
            if len(hashes) > _MAX_PROOF_HASHES:
                raise MalformedData(f"tlog proof has more than {_MAX_PROOF_HASHES} hashes")
        if not rest:
            raise MalformedData("tlog proof has no checkpoint after its blank line")
        return cls(int(number), tuple(hashes), rest, extra)


def make_tlog_proof(store: TileStore, index: int, signed_checkpoint: str) -> TlogProof:
    """The proof that entry `index` is in the tree of `signed_checkpoint`, carrying the entry."""
    size = parse_checkpoint(signed_checkpoint).size
    hashes = inclusion_proof(store, index, size)
    return TlogProof(index, tuple(hashes), signed_checkpoint, read_entry(store, index))


def verify_tlog_proof(
    proof: TlogProof | str | bytes,
    entry: bytes,
    verifiers: Iterable[VerifierKey],
    *,
    origin: str,
) -> Checkpoint:
    """Check that `entry` is in the log `origin` as the proof says; returns its checkpoint."""
    if not isinstance(proof, TlogProof):
        proof = TlogProof.from_text(proof)
    checkpoint = open_checkpoint(proof.checkpoint, verifiers, origin=origin)
    if proof.index >= checkpoint.size:
        raise VerificationFailed(
            f"entry {proof.index} is beyond the checkpoint's tree of size {checkpoint.size}"
        )
    verify_inclusion(
        leaf_hash(entry), proof.index, checkpoint.size, proof.hashes, checkpoint.root_hash
    )
    return checkpoint


@dataclass(frozen=True)
class VerifiedEntry:
    """What a verified entry proof establishes: the leaf, where it is, and the tree head."""

    leaf: LeafRecord
    index: int
    checkpoint: Checkpoint


def verify_entry_proof(
    proof: TlogProof | str | bytes,
    envelope: bytes,
    verifiers: Iterable[VerifierKey],
    *,
    origin: str,
) -> VerifiedEntry:
    """Check that the DSSE `envelope` (its JSON bytes) is logged, using the leaf in `extra`."""
    if not isinstance(proof, TlogProof):
        proof = TlogProof.from_text(proof)
    if proof.extra is None:
        raise MalformedData("tlog proof carries no log entry in its extra line")
    leaf = parse_leaf(proof.extra)
    leaf.check_envelope(envelope)
    checkpoint = verify_tlog_proof(proof, proof.extra, verifiers, origin=origin)
    return VerifiedEntry(leaf, proof.index, checkpoint)
