"""The register's transparency log: each change's statements and leaves, in its own transaction.

`TransparencyLog` is a ChangeHook: after a change is written it signs one DSSE statement per
event, stores the envelopes in `statements`, appends their leaves to the tiles and, when the
checkpoint interval is 0, signs a checkpoint, all before the transaction commits. A change
without its leaves, or leaves without their change, cannot be committed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from clearance.errors import InvalidInput, NotFound
from clearance.ledger import (
    Checkpoint,
    Envelope,
    SigningKey,
    Statement,
    WitnessKey,
    append_entries,
    build_leaf,
    parse_checkpoint,
    sign_checkpoint,
    sign_key_rotation,
    sign_statement,
)
from clearance.register import Change, ModelConfig
from clearance.store import _tables as t
from clearance.store._statements import event_statement
from clearance.store._store import LOGGED
from clearance.store._tilestore import SqlTileStore

KEY_ROTATION_KIND = "key.rotated"


@dataclass(frozen=True)
class LogEntry:
    """One statement to log: its kind, envelope bytes, subject and time."""

    kind: str
    envelope: bytes
    subject_sha256: str
    subject_name: str
    at: dt.datetime

    @property
    def leaf(self) -> bytes:
        """The RFC 8785 leaf record that points at the envelope."""
        return build_leaf(self.kind, self.envelope, self.subject_sha256, at=_rfc3339(self.at))


def _rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class TransparencyLog:
    """The log of one register: its origin, signing key, and checkpoint policy."""

    def __init__(
        self,
        origin: str,
        key: Callable[[], SigningKey],
        *,
        checkpoint_interval: float = 0.0,
        witnesses: Sequence[WitnessKey] = (),
        witness_quorum: int = 0,
    ) -> None:
        self.origin = origin
        self.key = key
        self.checkpoint_interval = checkpoint_interval
        """Seconds between checkpoints; 0 signs one in every transaction that appends."""
        self.witnesses = tuple(witnesses)
        """The witnesses asked to cosign each new checkpoint."""
        self.witness_quorum = witness_quorum
        """How many of them must cosign a checkpoint before the log publishes it (0: any)."""

    def __call__(self, connection: Connection, change: Change) -> None:
        """The ChangeHook: sign and log every event of `change`."""
        if not change.events:
            return
        key = self.key()
        models: dict[str, ModelConfig] = {}

        def model(model_id: str) -> ModelConfig:
            if model_id not in models:
                body = connection.scalar(select(t.models.c.body).where(t.models.c.id == model_id))
                if body is None:
                    raise NotFound(f"no model with id {model_id!r}")
                models[model_id] = ModelConfig.model_validate(body)
            return models[model_id]

        entries = []
        for event in change.events:
            made = event_statement(event, change, model)
            envelope = sign_statement(made.statement, key).to_json()
            entries.append(
                LogEntry(made.kind, envelope, made.subject.sha256, made.subject.name, event.at)
            )
        indexes = self.append(connection, entries, max(e.at for e in change.events))
        connection.info.setdefault(LOGGED, []).extend(zip(change.events, indexes, strict=True))

    def append(
        self,
        connection: Connection,
        entries: Sequence[LogEntry],
        now: dt.datetime,
        *,
        sign: bool | None = None,
    ) -> list[int]:
        """Append entries (statements, leaves) in the caller's transaction; return their indexes.

        A checkpoint is signed too when `sign` says so, by default when the interval is 0.
        """
        store = SqlTileStore(connection, lock=True)
        first = store.state.size
        state = append_entries(store, store.state, [e.leaf for e in entries])
        store.save_state(state)
        connection.execute(
            insert(t.statements),
            [
                {
                    "idx": first + n,
                    "kind": e.kind,
                    "envelope": e.envelope,
                    "envelope_sha256": hashlib.sha256(e.envelope).hexdigest(),
                    "subject": e.subject_sha256,
                    "subject_name": e.subject_name[:255],
                    "created_at": e.at,
                }
                for n, e in enumerate(entries)
            ],
        )
        if sign is None:
            sign = self.checkpoint_interval == 0
        if sign:
            self._sign(connection, store, now, self.key())
        return list(range(first, state.size))

    def checkpoint(
        self, connection: Connection, now: dt.datetime, *, force: bool = False
    ) -> str | None:
        """Sign a checkpoint of the current tree if it grew since the last one (or `force`)."""
        store = SqlTileStore(connection, lock=True)
        latest = latest_checkpoint(connection)
        if not force and latest is not None and parse_checkpoint(latest).size == store.state.size:
            return None
        return self._sign(connection, store, now, self.key())

    def rotate_key(
        self, connection: Connection, new: SigningKey, now: dt.datetime, reason: str = ""
    ) -> int:
        """Log a key rotation signed by the current key; checkpoint it with both keys."""
        old = self.key()
        if new.name != self.origin:
            raise InvalidInput(
                f"the new key is named {new.name!r}, not the log origin {self.origin!r}"
            )
        envelope = sign_key_rotation(old, new.verifier, effective_at=_rfc3339(now), reason=reason)
        subject = envelope_subject(envelope)
        entry = LogEntry(KEY_ROTATION_KIND, envelope.to_json(), subject, f"key:{new.vkey}", now)
        (index,) = self.append(connection, [entry], now, sign=False)
        # Signed by the new key and the old: verifiers holding either accept the handover.
        self._sign(connection, None, now, new, old)
        return index

    def _sign(
        self,
        connection: Connection,
        store: SqlTileStore | None,
        now: dt.datetime,
        key: SigningKey,
        *cosigners: SigningKey,
    ) -> str:
        store = store or SqlTileStore(connection)
        state = store.state
        note = sign_checkpoint(
            Checkpoint(self.origin, state.size, state.root_hash), key, *cosigners
        )
        connection.execute(
            insert(t.log_checkpoints).values(
                tree_size=state.size, root_hash=state.root_hash, note=note, signed_at=now
            )
        )
        return note


def envelope_subject(envelope: Envelope) -> str:
    """The SHA-256 of the first subject of the in-toto statement in `envelope` (unverified)."""
    return Statement.from_json(envelope.payload).subjects[0].sha256


def latest_checkpoint(connection: Connection) -> str | None:
    """The newest signed checkpoint, or None before the first."""
    return connection.scalar(
        select(t.log_checkpoints.c.note).order_by(t.log_checkpoints.c.id.desc()).limit(1)
    )


def checkpoint_history(connection: Connection) -> list[str]:
    """Every signed checkpoint, oldest first."""
    return list(
        connection.scalars(select(t.log_checkpoints.c.note).order_by(t.log_checkpoints.c.id))
    )


def statement_envelope(connection: Connection, index: int) -> bytes | None:
    """The DSSE envelope logged at `index`, as stored, or None."""
    data = connection.scalar(select(t.statements.c.envelope).where(t.statements.c.idx == index))
    return None if data is None else bytes(data)


def entry_of(connection: Connection, record_id: str) -> int | None:
    """The log index of the statement of the first event about a record (a decision, directive,
    grant...): the act that made it. None when no logged event names it."""
    first = connection.execute(
        select(t.events.c.kind, t.events.c.at)
        .where(t.events.c.subject == record_id)
        .order_by(t.events.c.seq)
        .limit(1)
    ).first()
    if first is None:
        return None
    candidates = connection.execute(
        select(t.statements.c.idx, t.statements.c.envelope)
        .where(t.statements.c.kind == first.kind, t.statements.c.created_at == first.at)
        .order_by(t.statements.c.idx)
    )
    for index, envelope in candidates:
        payload = Envelope.from_json(bytes(envelope)).payload
        event = Statement.from_json(payload).predicate.get("event", {})
        if event.get("subject") == record_id:
            return int(index)
    return None


def key_rotations(connection: Connection, before: int | None = None) -> list[bytes]:
    """The logged key-rotation envelopes, oldest first (those before index `before` if given)."""
    query = select(t.statements.c.envelope).where(t.statements.c.kind == KEY_ROTATION_KIND)
    if before is not None:
        query = query.where(t.statements.c.idx < before)
    return [bytes(e) for e in connection.scalars(query.order_by(t.statements.c.idx))]
