"""How a reader checks a decision offline: its log entry, and the commands that verify it."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, select

from clearance.ledger import Envelope, Statement, parse_checkpoint
from clearance.register import ModelConfig
from clearance.store import Store, TransparencyLog, model_digest, published_checkpoint
from clearance.store import _tables as t

DECISION_KINDS = ("decision.made", "decision.deemed")


def log_entries(
    connection: Connection, model: ModelConfig, kinds: tuple[str, ...]
) -> dict[str, int]:
    """Event subject (a record id) to the log index of its statement, for one model's acts.

    Statements are filed under the model configuration's digest; the event inside each names
    the record it is about.
    """
    found: dict[str, int] = {}
    rows = connection.execute(
        select(t.statements.c.idx, t.statements.c.envelope)
        .where(t.statements.c.subject == model_digest(model), t.statements.c.kind.in_(kinds))
        .order_by(t.statements.c.idx)
    )
    for row in rows:
        statement = Statement.from_json(Envelope.from_json(bytes(row.envelope)).payload)
        event = statement.predicate.get("event")
        subject = event.get("subject") if isinstance(event, Mapping) else None
        if isinstance(subject, str):
            found.setdefault(subject, int(row.idx))
    return found


@dataclass(frozen=True)
class VerifyBlock:
    """What the "verify it yourself" block shows."""

    index: int
    bundle_url: str
    key_url: str
    vkey: str | None
    checkpointed: bool
    file: str

    @property
    def bundle_command(self) -> str:
        """The command that downloads the bundle from this register."""
        return f"clearance bundle {self.index} --url {shlex.quote(self.base)} -o {self.file}"

    @property
    def verify_command(self) -> str:
        """The command that checks the bundle offline against the log's key."""
        key = shlex.quote(self.vkey) if self.vkey else "VKEY"
        return f"clearance verify {self.file} --key {key}"

    @property
    def base(self) -> str:
        return self.bundle_url.removesuffix(f"/log/bundle/{self.index}")


def verify_block(
    store: Store, connection: Connection, index: int | None, base_url: str, name: str
) -> VerifyBlock | None:
    """The block for the statement at `index` (None when the act is not in the log)."""
    if index is None:
        return None
    log = next((h for h in store.hooks if isinstance(h, TransparencyLog)), None)
    published = published_checkpoint(connection, log.witness_quorum if log is not None else 0)
    note = published.note if published is not None else None
    base = base_url.rstrip("/")
    return VerifyBlock(
        index=index,
        bundle_url=f"{base}/log/bundle/{index}",
        key_url=f"{base}/log/key",
        vkey=log.key().vkey if log is not None else None,
        checkpointed=note is not None and parse_checkpoint(note).size > index,
        file=f"{name}.bundle.json",
    )
