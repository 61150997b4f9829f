"""C2SP tlog-witness (https://c2sp.org/tlog-witness): the add-checkpoint request and the rules a
witness applies to it before it cosigns.

The request body is an old size line, up to 63 consistency proof lines, an empty line, then the
signed checkpoint:

    old <decimal size>
    <base64 hash>                     (zero or more)

    <signed checkpoint>

`check_add_checkpoint` decides, from the request, the log keys the witness trusts for the origin
and the latest checkpoint it has cosigned for it, whether to cosign; it raises `WitnessRefusal`
with the HTTP status the spec prescribes otherwise. Storing the result atomically with the
decision is the caller's part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from clearance.ledger._checkpoint import Checkpoint, verify_checkpoint
from clearance.ledger._codec import b64decode, b64encode
from clearance.ledger._errors import LedgerError, MalformedData
from clearance.ledger._keys import VerifierKey
from clearance.ledger._merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency
from clearance.ledger._note import Note, parse_note

MAX_PROOF_LINES = 63
TLOG_SIZE_TYPE = "text/x.tlog.size"
"""The content type of a 409 answer's body: the witness's latest size, in decimal, a newline."""


class WitnessRefusal(LedgerError):
    """The witness will not cosign; `status` is the HTTP status tlog-witness prescribes."""

    code = "witness_refused"

    def __init__(self, status: int, message: str, *, size: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.size = size
        """On a 409 for an old size that is not the witness's: the size it has cosigned (a
        409 for another root of the witness's own size carries none)."""


@dataclass(frozen=True)
class AddCheckpoint:
    """An add-checkpoint request: the size the client believes the witness holds, the
    consistency proof from it, and the new signed checkpoint."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: str

    @cached_property
    def note(self) -> Note:
        """The checkpoint as a signed note, signatures not checked."""
        return parse_note(self.checkpoint)

    @cached_property
    def parsed(self) -> Checkpoint:
        """The checkpoint's contents, signatures not checked."""
        return Checkpoint.from_text(self.note.text)

    def to_text(self) -> str:
        """The request body."""
        lines = [f"old {self.old_size}", *(b64encode(h) for h in self.proof)]
        return "".join(line + "\n" for line in lines) + "\n" + self.checkpoint

    @classmethod
    def from_text(cls, body: str | bytes) -> AddCheckpoint:
        """Parse a request body; MalformedData if any line breaks the format."""
        if isinstance(body, bytes):
            try:
                body = body.decode()
            except UnicodeDecodeError:
                raise MalformedData("add-checkpoint body is not valid UTF-8") from None
        line, newline, rest = body.partition("\n")
        number = line.removeprefix("old ")
        if not newline or not line.startswith("old ") or not number.isascii():
            raise MalformedData("add-checkpoint body must start with an 'old <size>' line")
        if not number.isdigit() or str(int(number)) != number:
            raise MalformedData(f"old size {number!r} is not a decimal without leading zeros")
        proof: list[bytes] = []
        while True:
            line, newline, rest = rest.partition("\n")
            if not newline:
                raise MalformedData("add-checkpoint body has no empty line before the checkpoint")
            if not line:
                break
            if len(proof) == MAX_PROOF_LINES:
                raise MalformedData(f"a consistency proof has at most {MAX_PROOF_LINES} lines")
            value = b64decode(line, f"consistency proof line {len(proof) + 1}")
            if len(value) != HASH_SIZE:
                raise MalformedData(f"consistency proof line {len(proof) + 1} is not 32 bytes")
            proof.append(value)
        request = cls(int(number), tuple(proof), rest)
        _ = request.parsed
        return request


@dataclass(frozen=True)
class Witnessed:
    """What a witness keeps per log: the latest checkpoint it cosigned, as it received it."""

    size: int
    root_hash: bytes
    note: str


def check_add_checkpoint(
    request: AddCheckpoint, log_keys: Sequence[VerifierKey], latest: Witnessed | None
) -> Checkpoint:
    """The checkpoint to cosign, or WitnessRefusal with the spec's status and the reason.

    `log_keys` are the keys trusted for the checkpoint's origin (empty: an unknown log, 404);
    `latest` is the witness's record for that origin (None before the first cosignature).
    The two halves, `verify_add_checkpoint` and `check_extends`, can run apart: the first
    needs no state, so a witness can do it before it takes its lock.
    """
    checkpoint = verify_add_checkpoint(request, log_keys)
    check_extends(request, checkpoint, latest)
    return checkpoint


def verify_add_checkpoint(request: AddCheckpoint, log_keys: Sequence[VerifierKey]) -> Checkpoint:
    """What does not depend on the witness's record: a log it follows (404), the log's
    signature (403), and an old size within the checkpoint's (400)."""
    origin = request.parsed.origin
    if not log_keys:
        raise WitnessRefusal(404, f"this witness does not follow the log {origin!r}")
    try:
        checkpoint = verify_checkpoint(request.note, request.parsed, log_keys, origin=origin)
    except LedgerError as exc:
        raise WitnessRefusal(403, f"no valid signature by a key of {origin!r}: {exc}") from None
    if request.old_size > checkpoint.size:
        raise WitnessRefusal(
            400, f"old size {request.old_size} is beyond the checkpoint's size {checkpoint.size}"
        )
    return checkpoint


def check_extends(request: AddCheckpoint, checkpoint: Checkpoint, latest: Witnessed | None) -> None:
    """Whether the verified `checkpoint` extends `latest`, the witness's record for its log:
    the old size must be the witness's (409 with its size), the same size must have the same
    root (409, a split view), and the consistency proof must verify (422)."""
    origin = checkpoint.origin
    held = latest.size if latest is not None else 0
    if request.old_size != held:
        raise WitnessRefusal(
            409, f"the witness holds size {held} of {origin!r}, not {request.old_size}", size=held
        )
    old_root = latest.root_hash if latest is not None else EMPTY_ROOT
    if latest is not None and checkpoint.size == latest.size:
        if checkpoint.root_hash != latest.root_hash:
            raise WitnessRefusal(
                409,
                f"the witness holds another root hash for size {held} of {origin!r}: the log "
                "shows two different histories (a split view)",
            )
        if request.proof:
            raise WitnessRefusal(422, "a consistency proof between equal sizes must be empty")
        return
    if request.old_size == 0 and request.proof:
        raise WitnessRefusal(422, "the consistency proof from size 0 must be empty")
    try:
        verify_consistency(
            request.old_size, checkpoint.size, old_root, checkpoint.root_hash, request.proof
        )
    except LedgerError as exc:
        raise WitnessRefusal(
            422, f"the checkpoint does not extend the one the witness holds: {exc}"
        ) from None
