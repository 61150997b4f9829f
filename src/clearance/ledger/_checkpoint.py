"""C2SP tlog checkpoints (https://c2sp.org/tlog-checkpoint): a log's signed tree head.

The note text is the origin, the decimal tree size, the base64 root hash, then optional
extension lines, each ending in a newline; the log signs it as a signed note with a key whose
name is the origin.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from clearance.ledger._codec import b64decode, b64encode
from clearance.ledger._errors import MalformedData, VerificationFailed
from clearance.ledger._keys import SigningKey, VerifierKey
from clearance.ledger._merkle import HASH_SIZE
from clearance.ledger._note import Note, open_note, parse_note, sign_note, verify_note


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, its size and root hash, and optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise MalformedData("checkpoint origin must be one non-empty line")
        if self.size < 0:
            raise MalformedData(f"checkpoint tree size {self.size} is negative")
        if len(self.root_hash) != HASH_SIZE:
            raise MalformedData(f"checkpoint root hash is {len(self.root_hash)} bytes, not 32")
        for line in self.extensions:
            if not line or "\n" in line:
                raise MalformedData("checkpoint extension lines must be single non-empty lines")

    @property
    def text(self) -> str:
        """The checkpoint's note text (what the log signs)."""
        lines = [self.origin, str(self.size), b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse checkpoint note text; MalformedData if any line breaks the format."""
        if not text.endswith("\n"):
            raise MalformedData("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedData("checkpoint text needs origin, tree size and root hash lines")
        origin, size_line, root_line, *extensions = lines
        if not size_line.isascii() or not size_line.isdigit() or str(int(size_line)) != size_line:
            raise MalformedData(
                f"checkpoint tree size {size_line!r} is not a decimal number without leading zeros"
            )
        root = b64decode(root_line, "checkpoint root hash")
        return cls(origin, int(size_line), root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, key: SigningKey, *cosigners: SigningKey) -> str:
    """Sign a checkpoint with the log key (named as the origin) and any extra keys."""
    if key.name != checkpoint.origin:
        raise MalformedData(
            f"the log key is named {key.name!r} but the checkpoint origin is {checkpoint.origin!r}"
        )
    return sign_note(checkpoint.text, key, *cosigners)


def parse_checkpoint(signed: str | bytes) -> Checkpoint:
    """Read a signed checkpoint's contents without verifying any signature."""
    return Checkpoint.from_text(parse_note(signed).text)


def open_checkpoint(
    signed: str | bytes, verifiers: Iterable[VerifierKey], *, origin: str
) -> Checkpoint:
    """Verify a signed checkpoint from the log `origin` and return it.

    The origin line must equal `origin`, and a key named `origin` among `verifiers` must have
    signed it; signatures by other known keys (witnesses) must verify too.
    """
    note = open_note(signed, verifiers)
    return _check_log_signed(note, Checkpoint.from_text(note.text), origin)


def verify_checkpoint(
    note: Note, checkpoint: Checkpoint, verifiers: Iterable[VerifierKey], *, origin: str
) -> Checkpoint:
    """`open_checkpoint` on a note and checkpoint already parsed (by `parse_note` and
    `Checkpoint.from_text` of its text), so a caller that has parsed them need not again."""
    return _check_log_signed(verify_note(note, verifiers), checkpoint, origin)


def _check_log_signed(note: Note, checkpoint: Checkpoint, origin: str) -> Checkpoint:
    if checkpoint.origin != origin:
        raise VerificationFailed(
            f"checkpoint is from log {checkpoint.origin!r}, not the expected {origin!r}"
        )
    if not any(sig.name == origin for sig in note.signatures):
        raise VerificationFailed(f"checkpoint carries no valid signature by the log {origin!r}")
    return checkpoint
