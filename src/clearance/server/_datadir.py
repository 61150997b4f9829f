"""The data folder: database, authority signing key, first administrator key, settings."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from clearance.api import publish_framework
from clearance.errors import InvalidInput
from clearance.examples import example_path
from clearance.framework import parse_framework
from clearance.ledger import MalformedData, SigningKey, WitnessKey
from clearance.register import Organization, Principal, create_organization, create_principal
from clearance.store import (
    NoticeHook,
    Store,
    TransparencyLog,
    make_engine,
    migrate,
    new_api_key,
    sqlite_url,
)

SETTINGS = "clearance.json"
AUTHORITY_KEY = "authority.key"
AUTHORITY_VKEY = "authority.vkey"
ADMIN_KEY = "admin.key"


class KeyFile:
    """The authority key file, re-read when it changes (after `clearance key rotate`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int, int] | None = None
        self._key: SigningKey | None = None

    def __call__(self) -> SigningKey:
        stat = self.path.stat()
        seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if self._key is None or seen != self._seen:
            self._key = SigningKey.parse(self.path.read_text().strip())
            self._seen = seen
        return self._key


@dataclass(frozen=True)
class WitnessConfig:
    """A witness the register asks to cosign its checkpoints: where it listens, and its key."""

    url: str
    key: WitnessKey


@dataclass(frozen=True)
class DataDir:
    """An initialized data folder and what it holds."""

    path: Path
    database_url: str
    origin: str
    checkpoint_interval: float = 0.0
    """Seconds between signed checkpoints; 0 signs one in every transaction that appends."""
    witnesses: tuple[WitnessConfig, ...] = ()
    """Witnesses asked to cosign each new checkpoint (`"witnesses"` in clearance.json)."""
    witness_quorum: int = 0
    """Cosignatures a checkpoint needs before the log publishes it (`"witness_quorum"`)."""

    @property
    def signing_key(self) -> SigningKey:
        """The authority's Ed25519 signing key (readable by the owner only)."""
        return SigningKey.parse((self.path / AUTHORITY_KEY).read_text().strip())

    def transparency_log(self) -> TransparencyLog:
        """The register's log, signing with the authority key as it stands on disk."""
        return TransparencyLog(
            self.origin,
            KeyFile(self.path / AUTHORITY_KEY),
            checkpoint_interval=self.checkpoint_interval,
            witnesses=[w.key for w in self.witnesses],
            witness_quorum=self.witness_quorum,
        )

    def open_store(self) -> Store:
        """The store on this folder's database, migrated, with the log writing every change."""
        engine = make_engine(self.database_url)
        migrate(engine)
        return Store(engine, [self.transparency_log(), NoticeHook()])


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


class _Example:
    """The shipped example framework, as `init_data_dir`'s default (tests and the demo)."""

    def __repr__(self) -> str:
        return "EXAMPLE_FRAMEWORK"


EXAMPLE_FRAMEWORK = _Example()


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only (0600), replacing any file of that name.

    For every file that holds a secret or a database URL: keys, settings, the demo's summary.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    _write_private(temporary, text)
    os.replace(temporary, path)


def init_data_dir(
    path: Path,
    *,
    database_url: str | None = None,
    framework_text: str | _Example | None = EXAMPLE_FRAMEWORK,
    authority_name: str = "Release Authority",
    jurisdiction: str = "US",
    origin: str | None = None,
    checkpoint_interval: float = 0.0,
    now: dt.datetime,
) -> tuple[DataDir, str]:
    """Create a data folder; returns it and the first administrator's API key.

    `framework_text` is published as the first framework; None publishes none (the register
    refuses applications until one is); by default the shipped example is published.

    Everything that can be checked is checked before anything is written, and a failure part
    way removes the folder it created, so a failed init leaves nothing half-made.
    """
    if (path / SETTINGS).exists():
        raise InvalidInput(f"{path}: already initialized (found {SETTINGS}); use a new folder")
    text = example_path().read_text() if isinstance(framework_text, _Example) else framework_text
    if text is not None:
        parse_framework(text, "framework")
    if not re.fullmatch(r"[A-Z]{2}", jurisdiction):
        raise InvalidInput(f"jurisdiction: {jurisdiction!r} is not a two-letter country code")
    if not authority_name.strip():
        raise InvalidInput("authority: the authority needs a name")
    created = not path.exists()
    try:
        return _create(
            path,
            database_url=database_url,
            framework_text=text,
            authority_name=authority_name,
            jurisdiction=jurisdiction,
            origin=origin,
            checkpoint_interval=checkpoint_interval,
            now=now,
        )
    except BaseException:
        if created:
            shutil.rmtree(path, ignore_errors=True)
        raise


def _create(
    path: Path,
    *,
    database_url: str | None,
    framework_text: str | None,
    authority_name: str,
    jurisdiction: str,
    origin: str | None,
    checkpoint_interval: float,
    now: dt.datetime,
) -> tuple[DataDir, str]:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    url = database_url or sqlite_url(path)
    origin = origin or f"clearance.local/{secrets.token_hex(4)}"
    key = SigningKey.generate(origin)
    engine = make_engine(url)
    migrate(engine)
    # The set-up acts are the log's first entries, signed with the key about to be written.
    store = Store(engine, [TransparencyLog(origin, lambda: key), NoticeHook()])
    text = framework_text
    with store.transaction() as tx:
        if tx.count(Organization) > 0:
            raise InvalidInput(
                "the database already holds a register; point --database-url at an empty one"
            )
        authority = Organization(
            id=f"org_{secrets.token_hex(8)}",
            name=authority_name,
            kind="authority",
            jurisdiction=jurisdiction,
            created_at=now,
        )
        admin = Principal(
            id=f"pri_{secrets.token_hex(8)}",
            organization_id=authority.id,
            name="First administrator",
            roles=("admin",),
            created_at=now,
        )
        tx.apply(create_organization(authority, None))
        key_id, key_hash, api_key = new_api_key()
        tx.add_principal(admin, key_id, key_hash)
        tx.apply(create_principal(admin, authority, None))
        if text is not None:
            publish_framework(tx, text, admin.id, now)
    engine.dispose()
    _write_private(path / AUTHORITY_KEY, key.skey + "\n")
    (path / AUTHORITY_VKEY).write_text(key.vkey + "\n")
    _write_private(path / ADMIN_KEY, api_key + "\n")
    settings = {
        "database_url": database_url,
        "origin": origin,
        "checkpoint_interval": checkpoint_interval,
        "created_at": now.isoformat(),
    }
    # the database URL may carry a password
    write_private(path / SETTINGS, json.dumps(settings, indent=2) + "\n")
    return DataDir(path, url, origin, checkpoint_interval), api_key


def open_data_dir(path: Path, database_url: str | None = None) -> DataDir:
    """An initialized data folder, or a clear error."""
    settings_path = path / SETTINGS
    if not settings_path.exists():
        raise InvalidInput(
            f"{path}: not a clearance data folder; run `clearance init --data-dir {path}`"
        )
    settings = json.loads(settings_path.read_text())
    url = database_url or settings.get("database_url") or sqlite_url(path)
    interval = float(settings.get("checkpoint_interval", 0))
    if interval < 0:
        raise InvalidInput(f"{settings_path}: checkpoint_interval must be 0 or more seconds")
    witnesses, quorum = parse_witnesses(settings, str(settings_path))
    return DataDir(path, url, settings["origin"], interval, witnesses, quorum)


def parse_witnesses(settings: dict[str, Any], where: str) -> tuple[tuple[WitnessConfig, ...], int]:
    """The `witnesses` list and `witness_quorum` of a settings object, checked."""
    raw = settings.get("witnesses", [])
    if not isinstance(raw, list):
        raise InvalidInput(f'{where}: witnesses must be a list of {{"url", "vkey"}}')
    witnesses: list[WitnessConfig] = []
    for n, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) != {"url", "vkey"}:
            raise InvalidInput(f'{where}: witnesses[{n}] must be {{"url": ..., "vkey": ...}}')
        url, vkey = item["url"], item["vkey"]
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInput(f"{where}: witnesses[{n}].url {url!r} is not an http(s) URL")
        try:
            key = WitnessKey.parse(vkey if isinstance(vkey, str) else "")
        except MalformedData as exc:
            raise InvalidInput(f"{where}: witnesses[{n}].vkey: {exc.message}") from None
        if any(w.key.public_key == key.public_key for w in witnesses):
            raise InvalidInput(
                f"{where}: witnesses[{n}] has the public key of another witness (one key is one "
                "witness, whatever it is named)"
            )
        witnesses.append(WitnessConfig(url.rstrip("/"), key))
    quorum = settings.get("witness_quorum", 0)
    if not isinstance(quorum, int) or isinstance(quorum, bool) or not 0 <= quorum <= len(witnesses):
        raise InvalidInput(
            f"{where}: witness_quorum must be a whole number from 0 to the number of witnesses "
            f"({len(witnesses)})"
        )
    return tuple(witnesses), quorum
