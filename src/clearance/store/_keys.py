"""API keys: shown once, stored as a SHA-256 of the secret, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX = "clr"


def new_api_key() -> tuple[str, str, str]:
    """A fresh key as (key id, secret hash, the full key to show once)."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return key_id, _hash(secret), f"{PREFIX}_{key_id}_{secret}"


def split_key(api_key: str) -> tuple[str, str] | None:
    """(key id, secret) from a full key, or None when it is not shaped like one."""
    parts = api_key.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or len(parts[1]) != 16:
        return None
    return parts[1], parts[2]


def key_matches(secret: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented secret with the stored hash."""
    return hmac.compare_digest(_hash(secret), stored_hash)


def key_digest(api_key: str) -> str:
    """SHA-256 of a whole key, for the gateway's snapshot (which never holds keys themselves)."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
