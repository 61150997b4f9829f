"""Strict encodings shared by the ledger's formats: base64 and JSON with a single valid spelling.

Every format here is signed or hashed, so a decoder that accepted two spellings of the same value
(non-zero base64 padding bits, duplicate JSON keys) would let bytes change without any check
noticing; these decoders accept exactly what the encoders produce.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import rfc8785

from clearance.ledger._errors import MalformedData

JSONObject = dict[str, Any]


def b64encode(data: bytes) -> str:
    """Standard base64 (RFC 4648 section 4) with padding."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, what: str, *, urlsafe_ok: bool = False) -> bytes:
    """Decode canonical padded base64, or raise MalformedData naming `what`."""
    alphabet_urlsafe = urlsafe_ok and ("-" in text or "_" in text)
    try:
        raw = text.encode("ascii")
        if alphabet_urlsafe:
            data = base64.urlsafe_b64decode(raw)
            again = base64.urlsafe_b64encode(data)
        else:
            data = base64.b64decode(raw, validate=True)
            again = base64.b64encode(data)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise MalformedData(f"{what} is not valid base64") from None
    if again != raw:
        raise MalformedData(f"{what} is not canonical base64")
    return data


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON bytes."""
    try:
        return bytes(rfc8785.dumps(value))
    except (TypeError, ValueError, rfc8785.CanonicalizationError) as exc:
        raise MalformedData(f"value cannot be written as canonical JSON: {exc}") from None


def load_json_object(data: bytes | str, what: str) -> JSONObject:
    """Parse a JSON object, refusing duplicate keys and NaN/Infinity; MalformedData otherwise."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> JSONObject:
        obj: JSONObject = {}
        for key, value in pairs:
            if key in obj:
                raise MalformedData(f"{what} has the key {key!r} twice")
            obj[key] = value
        return obj

    def no_constants(name: str) -> object:
        raise MalformedData(f"{what} contains {name}, which is not JSON")

    try:
        value = json.loads(data, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedData(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise MalformedData(f"{what} must be a JSON object, not {type(value).__name__}")
    return value
