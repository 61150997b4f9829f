"""The witness's folder: its signing key (made on first start), its verifier key, its database."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from clearance.errors import InvalidInput
from clearance.ledger import Cosigner, MalformedData, SigningKey, VerifierKey

WITNESS_KEY = "witness.key"
WITNESS_VKEY = "witness.vkey"
WITNESS_DB = "witness.db"


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def open_witness_folder(path: Path, name: str) -> Cosigner:
    """The witness's key from `path`, made (with `witness.vkey` beside it) on first start.

    A folder whose key has another name is refused: the name is part of every cosignature.
    """
    try:
        SigningKey.generate(name, b"\0" * 32)
    except MalformedData as exc:
        raise InvalidInput(f"--name: {exc.message}") from None
    key_file = path / WITNESS_KEY
    if not key_file.exists():
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)
        _write_private(key_file, SigningKey.generate(name).skey + "\n")
    try:
        key = SigningKey.parse(key_file.read_text())
    except MalformedData as exc:
        raise InvalidInput(f"{key_file}: {exc.message}") from None
    if key.name != name:
        raise InvalidInput(
            f"{key_file} is the key of witness {key.name!r}, not {name!r}; a witness keeps its "
            "name (it is in every cosignature): use --name "
            f"{key.name} or another --data-dir"
        )
    cosigner = Cosigner(key)
    vkey_file = path / WITNESS_VKEY
    if not vkey_file.exists() or vkey_file.read_text().strip() != cosigner.verifier.vkey:
        partial = vkey_file.with_suffix(".vkey.tmp")
        partial.write_text(cosigner.verifier.vkey + "\n")
        os.replace(partial, vkey_file)
    return cosigner


def read_log_keys(files: Iterable[Path]) -> dict[str, list[VerifierKey]]:
    """The logs to follow: origin -> trusted keys, from files of vkeys (one per line)."""
    logs: dict[str, list[VerifierKey]] = {}
    for file in files:
        try:
            text = file.read_text()
        except OSError as exc:
            raise InvalidInput(f"--log-key {file}: cannot be read: {exc.strerror}") from None
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not lines:
            raise InvalidInput(f"--log-key {file}: holds no verifier key")
        for line in lines:
            try:
                key = VerifierKey.parse(line)
            except MalformedData as exc:
                raise InvalidInput(f"--log-key {file}: {exc.message}") from None
            if key not in logs.setdefault(key.name, []):
                logs[key.name].append(key)
    if not logs:
        raise InvalidInput("name at least one log to follow: --log-key FILE")
    return logs
