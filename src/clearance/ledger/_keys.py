"""Ed25519 keys in the C2SP signed-note encodings: signer keys, verifier keys (vkeys), key IDs.

A key has a name (for a log, its origin). The vkey is `<name>+<hex key ID>+<base64(0x01 || public
key)>` and the signer key is `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>`, where the
key ID is the first four bytes of SHA-256(name || 0x0A || 0x01 || public key), as in
https://c2sp.org/signed-note and golang.org/x/mod/sumdb/note.

DSSE envelopes name keys differently: their `keyid` is the lowercase hex SHA-256 of the raw
32-byte Ed25519 public key (`dsse_keyid`), which does not depend on the key's name.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from clearance.ledger._codec import b64decode, b64encode
from clearance.ledger._errors import MalformedData

ALG_ED25519 = 0x01
_KEY_SIZE = 32
ALG_COSIGNATURE_V1 = 0x04
_ALG_NAMES = {ALG_ED25519: "an Ed25519 note key", ALG_COSIGNATURE_V1: "a cosignature/v1 key"}
_SIGNER_PREFIX = "PRIVATE+KEY+"


@lru_cache(maxsize=4096)
def check_key_name(name: str) -> None:
    """Raise MalformedData unless `name` is a valid signed-note key name."""
    if not name:
        raise MalformedData("a key name must not be empty")
    for char in name:
        if char == "+" or char.isspace() or unicodedata.category(char) in ("Cc", "Zs", "Cs"):
            raise MalformedData(
                f"key name {name!r} contains {char!r}; names exclude spaces, '+' and controls"
            )


def key_id(name: str, public_key: bytes, alg: int = ALG_ED25519) -> int:
    """The signed-note key ID of a key: SHA-256(name || 0x0A || alg || key)[:4].

    `alg` is the signature type byte: 0x01 for Ed25519 note signatures, 0x04 for C2SP
    cosignature/v1 (Ed25519 over a timestamped message).
    """
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def dsse_keyid(public_key: bytes) -> str:
    """The DSSE `keyid` of an Ed25519 key: lowercase hex SHA-256 of the raw 32-byte public key."""
    return hashlib.sha256(public_key).hexdigest()


def split_key(text: str, what: str, alg: int = ALG_ED25519) -> tuple[str, int, bytes]:
    """Split `<name>+<hex id>+<base64 alg||key>` and check the parts; return name, id, key."""
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise MalformedData(f"{what} must have three '+'-separated parts: name, key ID, key")
    name, hex_id, encoded = parts
    check_key_name(name)
    if len(hex_id) != 8 or hex_id != hex_id.lower() or not _is_hex(hex_id):
        raise MalformedData(f"{what} key ID {hex_id!r} is not 8 lowercase hex digits")
    material = b64decode(encoded, f"{what} key material")
    if not material or material[0] != alg:
        found = f"0x{material[0]:02x}" if material else "none"
        raise MalformedData(
            f"{what} has signature type {found}; this place takes type 0x{alg:02x} "
            f"({_ALG_NAMES.get(alg, 'unknown')})"
        )
    if len(material) != 1 + _KEY_SIZE:
        raise MalformedData(f"{what} has {len(material) - 1} key bytes; Ed25519 needs 32")
    return name, int(hex_id, 16), material[1:]


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


@dataclass(frozen=True)
class VerifierKey:
    """An Ed25519 public key with its signed-note name; checks signatures."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.public_key) != _KEY_SIZE:
            raise MalformedData(f"an Ed25519 public key is 32 bytes, not {len(self.public_key)}")

    @classmethod
    def parse(cls, vkey: str) -> VerifierKey:
        """Parse a vkey string `<name>+<hex key ID>+<base64(0x01 || public key)>`."""
        name, claimed, public = split_key(vkey.strip(), "verifier key")
        key = cls(name, public)
        if key.key_id != claimed:
            raise MalformedData(
                f"verifier key ID {claimed:08x} does not match its name and key ({key.key_id:08x})"
            )
        return key

    @property
    def vkey(self) -> str:
        """The vkey string."""
        material = b64encode(bytes([ALG_ED25519]) + self.public_key)
        return f"{self.name}+{self.key_id:08x}+{material}"

    @cached_property
    def key_id(self) -> int:
        """The signed-note key ID (uint32)."""
        return key_id(self.name, self.public_key)

    @property
    def dsse_keyid(self) -> str:
        """The DSSE keyid: hex SHA-256 of the raw public key."""
        return dsse_keyid(self.public_key)

    @cached_property
    def _crypto(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether `signature` is a valid Ed25519 signature of `message` by this key."""
        try:
            self._crypto.verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def __str__(self) -> str:
        return self.vkey


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key (its 32-byte seed) with its signed-note name; signs."""

    name: str
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.seed) != _KEY_SIZE:
            raise MalformedData(f"an Ed25519 seed is 32 bytes, not {len(self.seed)}")

    @classmethod
    def generate(cls, name: str, seed: bytes | None = None) -> SigningKey:
        """A new key named `name`, from `seed` (32 random bytes) or the system's generator."""
        if seed is None:
            seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(name, seed)

    @classmethod
    def parse(cls, skey: str) -> SigningKey:
        """Parse a signer key `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>`."""
        skey = skey.strip()
        if not skey.startswith(_SIGNER_PREFIX):
            raise MalformedData("a signer key starts with 'PRIVATE+KEY+'")
        name, claimed, seed = split_key(skey.removeprefix(_SIGNER_PREFIX), "signer key")
        key = cls(name, seed)
        if key.verifier.key_id != claimed:
            raise MalformedData(
                f"signer key ID {claimed:08x} does not match its name and key "
                f"({key.verifier.key_id:08x})"
            )
        return key

    @property
    def skey(self) -> str:
        """The signer key string; it is secret."""
        material = b64encode(bytes([ALG_ED25519]) + self.seed)
        return f"{_SIGNER_PREFIX}{self.name}+{self.verifier.key_id:08x}+{material}"

    @cached_property
    def _crypto(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @cached_property
    def verifier(self) -> VerifierKey:
        """The matching public key, with the same name."""
        return VerifierKey(self.name, self._crypto.public_key().public_bytes_raw())

    @property
    def vkey(self) -> str:
        """The matching vkey string."""
        return self.verifier.vkey

    def sign(self, message: bytes) -> bytes:
        """The Ed25519 signature of `message` (64 bytes)."""
        return self._crypto.sign(message)
