"""in-toto Statement v1 (https://in-toto.io/Statement/v1) inside DSSE envelopes.

A statement says something (`predicate`, of type `predicateType`) about subjects named by digest;
in clearance the subject is a model configuration's digest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from clearance.ledger._codec import canonical_json, load_json_object
from clearance.ledger._dsse import IN_TOTO_PAYLOAD_TYPE, Envelope, sign_envelope, verify_envelope
from clearance.ledger._errors import MalformedData
from clearance.ledger._keys import SigningKey, VerifierKey

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
_HEX256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Subject:
    """A statement's subject: a name and its digests, which must include a SHA-256."""

    name: str
    digest: Mapping[str, str]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise MalformedData("statement subject needs a non-empty name")
        if not isinstance(self.digest, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.digest.items()
        ):
            raise MalformedData(f"subject {self.name!r} digest must map algorithms to hex strings")
        if not _HEX256.fullmatch(self.digest.get("sha256", "")):
            raise MalformedData(f"subject {self.name!r} needs a sha256 digest of 64 lowercase hex")
        object.__setattr__(self, "digest", MappingProxyType(dict(self.digest)))

    @classmethod
    def sha256_of(cls, name: str, sha256: str) -> Subject:
        """A subject with only a SHA-256 digest."""
        return cls(name, {"sha256": sha256})

    @property
    def sha256(self) -> str:
        """The subject's SHA-256 digest, hex."""
        return self.digest["sha256"]


@dataclass(frozen=True)
class Statement:
    """An in-toto v1 statement: subjects, a predicate type URI and the predicate object."""

    subjects: tuple[Subject, ...]
    predicate_type: str
    predicate: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.subjects:
            raise MalformedData("a statement needs at least one subject")
        if not isinstance(self.predicate_type, str) or not self.predicate_type:
            raise MalformedData("a statement needs a predicateType URI")
        if not isinstance(self.predicate, Mapping):
            raise MalformedData("a statement's predicate must be a JSON object")
        object.__setattr__(self, "predicate", MappingProxyType(dict(self.predicate)))

    def to_json(self) -> bytes:
        """The statement as RFC 8785 canonical JSON (the DSSE payload)."""
        return canonical_json(
            {
                "_type": STATEMENT_TYPE,
                "subject": [{"name": s.name, "digest": dict(s.digest)} for s in self.subjects],
                "predicateType": self.predicate_type,
                "predicate": _plain(self.predicate),
            }
        )

    @classmethod
    def from_json(cls, data: bytes | str) -> Statement:
        """Parse a statement; MalformedData if it is not an in-toto v1 statement."""
        obj = load_json_object(data, "in-toto statement")
        if obj.get("_type") != STATEMENT_TYPE:
            raise MalformedData(f"statement _type is {obj.get('_type')!r}, not {STATEMENT_TYPE!r}")
        subjects = obj.get("subject")
        if not isinstance(subjects, list):
            raise MalformedData("statement 'subject' must be a list")
        parsed = []
        for item in subjects:
            if not isinstance(item, dict):
                raise MalformedData("each statement subject must be an object")
            parsed.append(Subject(item.get("name", ""), item.get("digest", {})))
        predicate = obj.get("predicate", {})
        if not isinstance(predicate, dict):
            raise MalformedData("statement 'predicate' must be an object")
        return cls(tuple(parsed), obj.get("predicateType", ""), predicate)


def _plain(value: Any) -> Any:
    """Turn read-only mappings back into dicts so that canonical JSON can write them."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def sign_statement(statement: Statement, *keys: SigningKey) -> Envelope:
    """Sign a statement into a DSSE envelope of type application/vnd.in-toto+json."""
    return sign_envelope(statement.to_json(), IN_TOTO_PAYLOAD_TYPE, *keys)


def open_statement(
    envelope: Envelope | bytes | str, trusted: Iterable[VerifierKey], *, threshold: int = 1
) -> Statement:
    """Verify a DSSE envelope by trusted keys and return the in-toto statement inside."""
    verified, _ = verify_envelope(
        envelope, trusted, payload_type=IN_TOTO_PAYLOAD_TYPE, threshold=threshold
    )
    return Statement.from_json(verified.payload)
