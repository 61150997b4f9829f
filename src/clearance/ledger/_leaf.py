"""Log leaves: small RFC 8785 canonical JSON records that point at a signed statement.

A leaf is `{"v": 1, "kind": ..., "envelope_sha256": ..., "subject_sha256": ..., <extras>}` in
canonical form: `envelope_sha256` is the hex SHA-256 of the DSSE envelope's JSON bytes as stored,
`subject_sha256` the hex digest of the statement's subject (the model configuration). Extras are
a few more small scalar fields the register wants in the log (for example `seq` or `at`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from clearance.ledger._codec import canonical_json, load_json_object
from clearance.ledger._errors import MalformedData, VerificationFailed

LEAF_VERSION = 1
MAX_LEAF_SIZE = 2048
"""Leaves are meant to be small; the statement itself lives outside the log."""

LeafValue = str | int | bool | None
_RESERVED = frozenset({"v", "kind", "envelope_sha256", "subject_sha256"})
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_KIND = re.compile(r"[a-z][a-z0-9._-]{0,63}")
_HEX256 = re.compile(r"[0-9a-f]{64}")
_MAX_INT = 2**53 - 1  # beyond this RFC 8785 (IEEE doubles) cannot keep an integer exact


@dataclass(frozen=True)
class LeafRecord:
    """A parsed leaf: what kind of statement, the envelope's and subject's digests, extras."""

    kind: str
    envelope_sha256: str
    subject_sha256: str
    extras: Mapping[str, LeafValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _KIND.fullmatch(self.kind):
            raise MalformedData(
                f"leaf kind {self.kind!r} must be lowercase letters, digits, '.', '_' or '-'"
            )
        for name, digest in (
            ("envelope_sha256", self.envelope_sha256),
            ("subject_sha256", self.subject_sha256),
        ):
            if not _HEX256.fullmatch(digest):
                raise MalformedData(f"leaf {name} must be 64 lowercase hex digits")
        for key, value in self.extras.items():
            if key in _RESERVED or not _NAME.fullmatch(key):
                raise MalformedData(f"leaf field name {key!r} is reserved or not snake_case")
            if isinstance(value, int) and not isinstance(value, bool):
                if abs(value) > _MAX_INT:
                    raise MalformedData(f"leaf field {key!r} is too large for canonical JSON")
            elif not (value is None or isinstance(value, str | bool)):
                raise MalformedData(
                    f"leaf field {key!r} must be a string, integer, boolean or null"
                )
        object.__setattr__(self, "extras", MappingProxyType(dict(self.extras)))

    def to_bytes(self) -> bytes:
        """The canonical JSON bytes that go into the log."""
        data = canonical_json(
            {
                **self.extras,
                "v": LEAF_VERSION,
                "kind": self.kind,
                "envelope_sha256": self.envelope_sha256,
                "subject_sha256": self.subject_sha256,
            }
        )
        if len(data) > MAX_LEAF_SIZE:
            raise MalformedData(f"leaf record is {len(data)} bytes; at most {MAX_LEAF_SIZE}")
        return data

    def check_envelope(self, envelope: bytes) -> None:
        """Raise VerificationFailed unless `envelope` is the one this leaf points at."""
        if hashlib.sha256(envelope).hexdigest() != self.envelope_sha256:
            raise VerificationFailed(
                "the envelope's SHA-256 differs from the one recorded in the log leaf"
            )


def build_leaf(kind: str, envelope: bytes, subject_sha256: str, /, **extras: LeafValue) -> bytes:
    """The leaf bytes for a statement of `kind` in DSSE `envelope` about `subject_sha256`."""
    digest = hashlib.sha256(envelope).hexdigest()
    return LeafRecord(kind, digest, subject_sha256, extras).to_bytes()


def parse_leaf(data: bytes) -> LeafRecord:
    """Parse leaf bytes; MalformedData unless they are a canonical version-1 leaf record."""
    if len(data) > MAX_LEAF_SIZE:
        raise MalformedData(f"leaf record is {len(data)} bytes; at most {MAX_LEAF_SIZE}")
    obj = load_json_object(data, "leaf record")
    if obj.get("v") != LEAF_VERSION or isinstance(obj.get("v"), bool):
        raise MalformedData(f"leaf record version {obj.get('v')!r} is not {LEAF_VERSION}")
    try:
        kind, envelope, subject = obj["kind"], obj["envelope_sha256"], obj["subject_sha256"]
    except KeyError as exc:
        raise MalformedData(f"leaf record lacks the field {exc.args[0]!r}") from None
    if not all(isinstance(v, str) for v in (kind, envelope, subject)):
        raise MalformedData("leaf record kind and digests must be strings")
    extras = {k: v for k, v in obj.items() if k not in _RESERVED}
    record = LeafRecord(kind, envelope, subject, extras)
    # One spelling per record, so that no byte of a logged leaf can change unnoticed.
    if record.to_bytes() != data:
        raise MalformedData("leaf record is not in RFC 8785 canonical form")
    return record
