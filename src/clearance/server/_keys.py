"""Rotating the authority key: announced in the log, signed by the old key, then switched.

The new key is written first (as `authority.key.new`), the rotation is logged and committed,
and only then do the files swap; an interrupted rotation is finished, or undone, by the next
one. The old keys stay in the folder as `authority.key.old-<n>` and `authority.vkey.old-<n>`,
readable by the owner only, so that earlier statements can still be checked.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from clearance.ledger import LedgerError, SigningKey, VerifierKey, verify_key_rotation
from clearance.server._datadir import AUTHORITY_KEY, AUTHORITY_VKEY, DataDir
from clearance.store import key_rotations

PENDING = AUTHORITY_KEY + ".new"


@dataclass(frozen=True)
class Rotation:
    """A finished rotation: the old and new verifier keys and the log entry announcing it."""

    old: VerifierKey
    new: VerifierKey
    index: int | None
    """The log index of the rotation statement (None when an interrupted one was finished)."""


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _switch(folder: DataDir, old: SigningKey, new: SigningKey) -> None:
    n = 1
    while (folder.path / f"{AUTHORITY_KEY}.old-{n}").exists():
        n += 1
    os.replace(folder.path / AUTHORITY_KEY, folder.path / f"{AUTHORITY_KEY}.old-{n}")
    (folder.path / f"{AUTHORITY_VKEY}.old-{n}").write_text(old.vkey + "\n")
    os.replace(folder.path / PENDING, folder.path / AUTHORITY_KEY)
    (folder.path / AUTHORITY_VKEY).write_text(new.vkey + "\n")


def _announced(folder: DataDir, old: SigningKey, new: SigningKey) -> bool:
    """Whether the log already holds old's rotation to new (a rotation cut short)."""
    store = folder.open_store()
    try:
        with store.read() as tx:
            for envelope in key_rotations(tx.connection):
                try:
                    if verify_key_rotation(envelope, old.verifier).new == new.verifier:
                        return True
                except LedgerError:
                    continue
        return False
    finally:
        store.engine.dispose()


def rotate_authority_key(folder: DataDir, now: dt.datetime, reason: str = "") -> Rotation:
    """Replace the authority key with a new one of the same name, announced in the log."""
    old = folder.signing_key
    pending = folder.path / PENDING
    if pending.exists():
        interrupted = SigningKey.parse(pending.read_text())
        if _announced(folder, old, interrupted):
            _switch(folder, old, interrupted)
            return Rotation(old.verifier, interrupted.verifier, None)
        pending.unlink()
    # Same name (the origin, which C2SP requires of a log key), new key: a new key hash.
    new = SigningKey.generate(folder.origin)
    _write_private(pending, new.skey + "\n")
    store = folder.open_store()
    try:
        transparency = folder.transparency_log()
        with store.transaction() as tx:
            index = transparency.rotate_key(tx.connection, new, now, reason)
    except BaseException:
        pending.unlink(missing_ok=True)
        raise
    finally:
        store.engine.dispose()
    _switch(folder, old, new)
    return Rotation(old.verifier, new.verifier, index)
