"""The store: records, events and the model status table, written together in one transaction."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from clearance.errors import Conflict, NotFound
from clearance.register import (
    AccessRequest,
    Appeal,
    Application,
    Change,
    Decision,
    Directive,
    Event,
    EvidenceGrant,
    Grant,
    Hearing,
    InformationRequest,
    ModelConfig,
    ModelStatus,
    Obligation,
    Organization,
    Principal,
    Record,
    RiskReport,
    ended_with,
    ending_models,
    model_status,
)
from clearance.store import _tables as t
from clearance.store._db import DatabaseUnavailable

log = logging.getLogger("clearance.store")

R = TypeVar("R", bound=Record)

TABLES: dict[type[Record], Table] = {
    Organization: t.organizations,
    Principal: t.principals,
    ModelConfig: t.models,
    Application: t.applications,
    InformationRequest: t.information_requests,
    Decision: t.decisions,
    Appeal: t.appeals,
    Directive: t.directives,
    AccessRequest: t.access_requests,
    Grant: t.grants,
    RiskReport: t.reports,
    ModelStatus: t.model_status,
    Hearing: t.hearings,
    EvidenceGrant: t.evidence_grants,
    Obligation: t.obligations,
}
NOUNS: dict[type[Record], str] = {
    Organization: "organization",
    Principal: "principal",
    ModelConfig: "model",
    Application: "application",
    InformationRequest: "information request",
    Decision: "decision",
    Appeal: "appeal",
    Directive: "directive",
    AccessRequest: "access request",
    Grant: "grant",
    RiskReport: "report",
    ModelStatus: "model",
    Hearing: "hearing",
    EvidenceGrant: "evidence grant",
    Obligation: "obligation",
}

LOGGED = "clearance.logged"
"""Where a hook leaves the (event, log index) pairs it appended, in the connection's info."""

ChangeHook = Callable[[Connection, Change], None]
"""Called inside the transaction after a change is written (the ledger appends its leaves)."""


def _row(record: Record, table: Table) -> dict[str, Any]:
    """The record's indexed columns, copied from its fields of the same name."""
    body = record.model_dump(mode="json")
    row: dict[str, Any] = {"id": _key(record), "body": body}
    for column in table.columns:
        if column.name in ("id", "body"):
            continue
        value = getattr(record, column.name, None)
        if column.name == "model_id" and isinstance(record, ModelStatus):
            continue
        row[column.name] = value
    return row


def _key(record: Record) -> str:
    # every record but the status row has an `id` field; pydantic keeps fields in __dict__
    return record.model_id if isinstance(record, ModelStatus) else str(record.__dict__["id"])


class Transaction:
    """One database transaction of the register: read records, then apply a Change."""

    def __init__(self, connection: Connection, hooks: Sequence[ChangeHook]) -> None:
        self.connection = connection
        self._hooks = hooks
        self.logged: list[tuple[Event, int]] = []
        """Each event this transaction applied, with the log index of its statement."""
        self.applied = 0
        """How many changes this transaction applied (the store's `committed` callbacks run
        after the commit when it applied any)."""

    def get(self, kind: type[R], record_id: str) -> R:
        """The record with this id, or NotFound."""
        found = self.find_one(kind, id=record_id)
        if found is None:
            raise NotFound(f"no {NOUNS[kind]} with id {record_id!r}")
        return found

    def body(self, kind: type[Record], column: str, value: str) -> dict[str, Any] | None:
        """A record's stored JSON by one indexed column, unparsed (the fast path for reads)."""
        table = TABLES[kind]
        found = self.connection.scalar(select(table.c.body).where(table.c[column] == value))
        return dict(found) if found is not None else None

    def find_one(self, kind: type[R], **where: Any) -> R | None:
        """The one record matching the indexed columns, or None."""
        rows = self.find(kind, limit=1, **where)
        return rows[0] if rows else None

    def find(
        self,
        kind: type[R],
        *,
        limit: int | None = None,
        order_by: str | None = None,
        descending: bool = False,
        **where: Any,
    ) -> list[R]:
        """Records whose indexed columns equal the given values (a tuple value means IN)."""
        table = TABLES[kind]
        query = select(table.c.body)
        for column, value in where.items():
            if isinstance(value, (tuple, list)):
                query = query.where(table.c[column].in_(value))
            else:
                query = query.where(table.c[column] == value)
        if order_by is not None:
            query = query.order_by(table.c[order_by].desc() if descending else table.c[order_by])
        query = query.order_by(table.c.id)
        if limit is not None:
            query = query.limit(limit)
        return [kind.model_validate(body) for body in self.connection.scalars(query)]

    def page(
        self, kind: type[Record], limit: int, after: str | None, **where: Any
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Record bodies ordered by id, `limit` at a time after a cursor; and the next cursor."""
        table = TABLES[kind]
        query = select(table.c.id, table.c.body).order_by(table.c.id).limit(limit + 1)
        for column, value in where.items():
            if value is not None:
                query = query.where(table.c[column] == value)
        if after is not None:
            query = query.where(table.c.id > after)
        rows = list(self.connection.execute(query))
        more = len(rows) > limit
        rows = rows[:limit]
        return [row.body for row in rows], (str(rows[-1].id) if more else None)

    def count(self, kind: type[Record], **where: Any) -> int:
        """How many records match."""
        table = TABLES[kind]
        query = select(func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        return int(self.connection.scalar(query) or 0)

    def apply(self, change: Change) -> None:
        """Write a change: records, the grants that end with its acts, events, the affected
        models' status, then the hooks."""
        for record in change.records:
            self._upsert(record)
        models = ending_models(change)
        if models:
            grants = self.find(Grant, model_id=tuple(sorted(models)))
            revived = {
                r.origin for r in change.records if isinstance(r, Grant) and r.state == "active"
            }
            origins = {
                act.id: act
                for origin in sorted(revived)
                for act in (
                    self.find_one(Directive, id=origin),
                    self.find_one(Application, id=origin),
                )
                if act is not None
            }
            ended = ended_with(change, grants, origins)
            for record in ended.records:
                self._upsert(record)
            change = change + ended
        if change.events:
            self.connection.execute(
                insert(t.events),
                [
                    {
                        "kind": e.kind,
                        "subject": e.subject,
                        "model_id": e.model_id,
                        "actor": e.actor,
                        "at": e.at,
                        "data": e.data,
                    }
                    for e in change.events
                ],
            )
        touched = {e.model_id for e in change.events if e.model_id is not None}
        if touched:
            now = max(e.at for e in change.events)
            for model_id in sorted(touched):
                self.refresh_status(model_id, now)
        for hook in self._hooks:
            hook(self.connection, change)
        self.logged.extend(self.connection.info.pop(LOGGED, []))
        self.applied += 1

    def refresh_status(self, model_id: str, now: dt.datetime) -> ModelStatus:
        """Recompute a model's status from its decisions, directives and applications."""
        status = model_status(
            self.get(ModelConfig, model_id),
            self.find(Decision, model_id=model_id),
            self.find(Directive, model_id=model_id, state="active"),
            self.find(Application, model_id=model_id),
            now,
        )
        self._upsert(status)
        return status

    def authority(self) -> Organization | None:
        """The authority's organization (the first created, should there be several)."""
        o = t.organizations
        body = self.connection.scalar(
            select(o.c.body).where(o.c.kind == "authority").order_by(o.c.id).limit(1)
        )
        return None if body is None else Organization.model_validate(body)

    def add_principal(self, principal: Principal, key_id: str, key_hash: str) -> None:
        """Insert a principal with its first key (id and hashed secret)."""
        self.connection.execute(insert(t.principals).values(**_row(principal, t.principals)))
        self.add_key(principal.id, key_id, key_hash, principal.created_at)

    def add_key(self, principal_id: str, key_id: str, key_hash: str, now: dt.datetime) -> None:
        """Give a principal one more key."""
        self.connection.execute(
            insert(t.api_keys).values(
                key_id=key_id, principal_id=principal_id, key_hash=key_hash, created_at=now
            )
        )

    def principal_by_key_id(
        self, key_id: str, now: dt.datetime
    ) -> tuple[Principal, str, dt.datetime | None] | None:
        """The principal holding a key valid at `now`, the key's hash and when it was last used."""
        found = self.connection.execute(
            select(
                t.principals.c.body,
                t.api_keys.c.key_hash,
                t.api_keys.c.last_used_at,
                t.api_keys.c.expires_at,
            )
            .join(t.principals, t.principals.c.id == t.api_keys.c.principal_id)
            .where(t.api_keys.c.key_id == key_id, t.api_keys.c.revoked_at.is_(None))
        ).first()
        if found is None or (found.expires_at is not None and _aware(found.expires_at) <= now):
            return None
        last = None if found.last_used_at is None else _aware(found.last_used_at)
        return Principal.model_validate(found.body), str(found.key_hash), last

    def key_used(self, key_id: str, now: dt.datetime) -> None:
        """Note that a key was used at `now`."""
        self.connection.execute(
            update(t.api_keys).where(t.api_keys.c.key_id == key_id).values(last_used_at=now)
        )

    def keys_of(self, principal_id: str) -> list[dict[str, Any]]:
        """A principal's keys, oldest first: ids and times, never hashes."""
        rows = self.connection.execute(
            select(t.api_keys)
            .where(t.api_keys.c.principal_id == principal_id)
            .order_by(t.api_keys.c.created_at, t.api_keys.c.key_id)
        )
        return [
            {
                "key_id": r.key_id,
                "created_at": _aware(r.created_at),
                "expires_at": None if r.expires_at is None else _aware(r.expires_at),
                "revoked_at": None if r.revoked_at is None else _aware(r.revoked_at),
                "last_used_at": None if r.last_used_at is None else _aware(r.last_used_at),
            }
            for r in rows
        ]

    def end_keys(self, principal_id: str, now: dt.datetime, grace: dt.timedelta) -> int:
        """End a principal's keys valid at `now`: revoked at once, or expiring after `grace`.

        Returns how many keys this ended. A key already expiring sooner keeps its expiry.
        """
        keys = t.api_keys.c
        live = [
            k
            for k in self.keys_of(principal_id)
            if k["revoked_at"] is None and (k["expires_at"] is None or k["expires_at"] > now)
        ]
        for k in live:
            if grace <= dt.timedelta(0):
                values: dict[str, Any] = {"revoked_at": now}
            else:
                ends = now + grace
                values = {"expires_at": min(ends, k["expires_at"] or ends)}
            self.connection.execute(
                update(t.api_keys).where(keys.key_id == k["key_id"]).values(**values)
            )
        return len(live)

    def valid_keys(self, now: dt.datetime) -> list[tuple[Principal, str, str, dt.datetime | None]]:
        """Every key valid at `now`: (holder, key id, hash, expiry or None)."""
        rows = self.connection.execute(
            select(
                t.principals.c.body,
                t.api_keys.c.key_id,
                t.api_keys.c.key_hash,
                t.api_keys.c.expires_at,
            )
            .join(t.principals, t.principals.c.id == t.api_keys.c.principal_id)
            .where(t.api_keys.c.revoked_at.is_(None))
        )
        found = []
        for r in rows:
            expires = None if r.expires_at is None else _aware(r.expires_at)
            if expires is None or expires > now:
                found.append((Principal.model_validate(r.body), r.key_id, r.key_hash, expires))
        return found

    def keep_name_salt(self, organization_id: str, salt: bytes) -> None:
        """Keep the secret salt of a withheld name's commitment."""
        self.connection.execute(
            insert(t.organization_salts).values(organization_id=organization_id, salt=salt)
        )

    def name_salt(self, organization_id: str) -> bytes | None:
        """The salt of an organization's name commitment, or None."""
        found = self.connection.scalar(
            select(t.organization_salts.c.salt).where(
                t.organization_salts.c.organization_id == organization_id
            )
        )
        return None if found is None else bytes(found)

    def mark_applied(self, kind: str, subject: str, at: dt.datetime) -> bool:
        """Record a clock transition; False when it was already applied."""
        exists = self.connection.scalar(
            select(func.count())
            .select_from(t.clock_applied)
            .where(t.clock_applied.c.kind == kind, t.clock_applied.c.subject == subject)
        )
        if exists:
            return False
        self.connection.execute(insert(t.clock_applied).values(kind=kind, subject=subject, at=at))
        return True

    def events(
        self, *, model_id: str | None = None, after: int = 0, limit: int = 100
    ) -> list[tuple[int, Event]]:
        """Events in order, after a sequence number, optionally for one model."""
        query = select(t.events).where(t.events.c.seq > after).order_by(t.events.c.seq).limit(limit)
        if model_id is not None:
            query = query.where(t.events.c.model_id == model_id)
        return [
            (
                int(row.seq),
                Event(
                    kind=row.kind,
                    subject=row.subject,
                    model_id=row.model_id,
                    actor=row.actor,
                    at=_aware(row.at),
                    data=row.data,
                ),
            )
            for row in self.connection.execute(query)
        ]

    def _upsert(self, record: Record) -> None:
        table = TABLES[type(record)]
        row = _row(record, table)
        key = row.pop("id")
        try:
            updated = self.connection.execute(
                update(table).where(table.c.id == key).values(**row)
            ).rowcount
            if not updated:
                self.connection.execute(insert(table).values(id=key, **row))
        except IntegrityError as exc:
            raise Conflict(_integrity_message(type(record), exc)) from None


def _integrity_message(kind: type[Record], exc: IntegrityError) -> str:
    text = str(exc.orig).lower()
    if "unique" in text or "duplicate" in text:
        return f"a {NOUNS[kind]} with that name already exists"
    if "foreign key" in text:
        return f"the {NOUNS[kind]} refers to a record that does not exist"
    return f"the {NOUNS[kind]} conflicts with a stored record"


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes; every time the register writes is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class Store:
    """The register's persistence: transactions over records, events and hooks."""

    def __init__(self, engine: Engine, hooks: Sequence[ChangeHook] = ()) -> None:
        self.engine = engine
        self.hooks: list[ChangeHook] = list(hooks)
        """Called inside the transaction with each change (the log appends its statements)."""
        self.committed: list[Callable[[], None]] = []
        """Called after a transaction that applied a change has committed (from the thread
        that committed it): what reads the register afresh, such as the gateway's snapshot,
        sees the change."""

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A read-write transaction: everything in it is written, or nothing."""
        try:
            with self.engine.begin() as connection:
                tx = Transaction(connection, self.hooks)
                yield tx
        except OperationalError as exc:
            raise DatabaseUnavailable(f"the database is unavailable: {exc.orig}") from None
        if tx.applied:
            for callback in self.committed:
                try:
                    callback()
                except Exception:
                    log.exception("a commit listener failed")

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        """A read-only view (writes made in it are rolled back)."""
        try:
            with self.engine.connect().execution_options(clearance_read_only=True) as connection:
                yield Transaction(connection, ())
                connection.rollback()
        except OperationalError as exc:
            raise DatabaseUnavailable(f"the database is unavailable: {exc.orig}") from None
