"""Key rotation: a statement, signed by the old key, that names the key that succeeds it.

Verifiers that trust the old key can follow the chain of rotation statements to the current key
without out-of-band trust in the new one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from clearance.ledger._dsse import Envelope
from clearance.ledger._errors import MalformedData, VerificationFailed
from clearance.ledger._keys import SigningKey, VerifierKey
from clearance.ledger._statement import Statement, Subject, open_statement, sign_statement

KEY_ROTATION_PREDICATE = "https://clearance.dev/predicates/key-rotation/v1"


@dataclass(frozen=True)
class KeyRotation:
    """A verified rotation: from `old` to `new`, effective at an RFC 3339 time, with a reason."""

    old: VerifierKey
    new: VerifierKey
    effective_at: str
    reason: str


def _check_time(value: object) -> str:
    if not isinstance(value, str):
        raise MalformedData("key rotation effective_at must be an RFC 3339 string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedData(f"key rotation effective_at {value!r} is not RFC 3339") from None
    if moment.tzinfo is None:
        raise MalformedData(f"key rotation effective_at {value!r} has no time zone offset")
    return value


def rotation_statement(
    old: VerifierKey, new: VerifierKey, *, effective_at: str, reason: str = ""
) -> Statement:
    """The unsigned rotation statement; its subject is the new key, digest = SHA-256(new key)."""
    if new.public_key == old.public_key:
        raise MalformedData("a key rotation must change the key")
    subject = Subject.sha256_of(new.vkey, hashlib.sha256(new.public_key).hexdigest())
    predicate = {
        "old_vkey": old.vkey,
        "new_vkey": new.vkey,
        "effective_at": _check_time(effective_at),
        "reason": reason,
    }
    return Statement((subject,), KEY_ROTATION_PREDICATE, predicate)


def sign_key_rotation(
    old: SigningKey, new: VerifierKey, *, effective_at: str, reason: str = ""
) -> Envelope:
    """A DSSE envelope, signed by the old key, announcing `new` as its successor."""
    statement = rotation_statement(old.verifier, new, effective_at=effective_at, reason=reason)
    return sign_statement(statement, old)


def verify_key_rotation(envelope: Envelope | bytes | str, old: VerifierKey) -> KeyRotation:
    """Verify a rotation envelope signed by `old` and return the successor it names."""
    statement = open_statement(envelope, [old])
    if statement.predicate_type != KEY_ROTATION_PREDICATE:
        raise VerificationFailed(f"statement is a {statement.predicate_type!r}, not a key rotation")
    predicate = statement.predicate
    new_vkey, reason = predicate.get("new_vkey"), predicate.get("reason", "")
    if predicate.get("old_vkey") != old.vkey:
        raise VerificationFailed("the rotation statement names a different old key")
    if not isinstance(new_vkey, str) or not isinstance(reason, str):
        raise MalformedData("key rotation new_vkey and reason must be strings")
    new = VerifierKey.parse(new_vkey)
    expected = rotation_statement(
        old, new, effective_at=_check_time(predicate.get("effective_at")), reason=reason
    )
    if statement != expected:
        raise VerificationFailed(
            "the rotation statement differs from the standard form: its subject is not the new "
            "key, or its predicate has unexpected fields"
        )
    return KeyRotation(old, new, expected.predicate["effective_at"], reason)
