"""Witnesses' cosignatures on the register's checkpoints, and the checkpoint the log publishes.

The log signs checkpoints as it grows; witnesses cosign some of them later (asynchronously).
The published checkpoint is the newest signed one, or, with a witness quorum K, the newest one
that at least K witnesses have cosigned, with every cosignature obtained added as a signature
line. Cosignatures are verified before they are stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select

from clearance.store import _tables as t


@dataclass(frozen=True)
class Cosigned:
    """One witness's cosignature on a checkpoint: its vkey, timestamp and signature line."""

    witness: str
    cosigned_at: int
    line: str


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint row: its id, tree size, the note as the log signed it, and cosignatures."""

    id: int
    size: int
    signed: str
    cosigned: tuple[Cosigned, ...] = ()

    @property
    def note(self) -> str:
        """The signed note with every cosignature obtained as an extra signature line."""
        return self.signed + "".join(c.line for c in self.cosigned)


def newest_checkpoint(connection: Connection) -> SignedCheckpoint | None:
    """The newest checkpoint the log signed (without its cosignatures), or None."""
    c = t.log_checkpoints
    row = connection.execute(
        select(c.c.id, c.c.tree_size, c.c.note).order_by(c.c.id.desc()).limit(1)
    ).first()
    return None if row is None else SignedCheckpoint(int(row.id), int(row.tree_size), row.note)


def published_checkpoint(
    connection: Connection, quorum: int = 0, *, size: int | None = None
) -> SignedCheckpoint | None:
    """The checkpoint the log serves, with its cosignatures: the newest one (of `size` if
    given) that at least `quorum` witnesses cosigned; None if there is none."""
    c, s = t.log_checkpoints, t.log_cosignatures
    query = select(c.c.id, c.c.tree_size, c.c.note).order_by(c.c.id.desc()).limit(1)
    if size is not None:
        query = query.where(c.c.tree_size == size)
    if quorum > 0:
        enough = (
            select(s.c.checkpoint_id)
            .group_by(s.c.checkpoint_id)
            .having(func.count() >= quorum)
            .scalar_subquery()
        )
        query = query.where(c.c.id.in_(enough))
    row = connection.execute(query).first()
    if row is None:
        return None
    lines = connection.execute(
        select(s.c.witness, s.c.cosigned_at, s.c.line)
        .where(s.c.checkpoint_id == row.id)
        .order_by(s.c.witness)
    )
    cosigned = tuple(Cosigned(w, int(at), line) for w, at, line in lines)
    return SignedCheckpoint(int(row.id), int(row.tree_size), row.note, cosigned)


def record_cosignature(
    connection: Connection,
    checkpoint_id: int,
    witness: str,
    line: str,
    cosigned_at: int,
    now: dt.datetime,
) -> bool:
    """Store a verified cosignature; False if that witness's is already stored for it."""
    s = t.log_cosignatures
    exists = connection.scalar(
        select(func.count()).where(s.c.checkpoint_id == checkpoint_id, s.c.witness == witness)
    )
    if exists:
        return False
    connection.execute(
        insert(s).values(
            checkpoint_id=checkpoint_id,
            witness=witness,
            line=line,
            cosigned_at=cosigned_at,
            received_at=now,
        )
    )
    return True
