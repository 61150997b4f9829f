"""The ledger's errors: one base class, and two kinds a caller may want to tell apart."""

from __future__ import annotations

from clearance.errors import ClearanceError


class LedgerError(ClearanceError):
    """A ledger operation failed; the message says what and why."""

    code = "ledger_error"


class MalformedData(LedgerError):
    """Bytes or text that do not follow their format (note, checkpoint, proof, envelope, leaf)."""

    code = "ledger_malformed"


class VerificationFailed(LedgerError):
    """Well-formed data whose signature, hash or proof does not check out."""

    code = "ledger_verification_failed"
