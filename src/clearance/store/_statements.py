"""What the register signs: one in-toto statement per event, about a model configuration.

Each event of a Change becomes a Statement v1 whose predicate type names the event kind and a
version (`https://clearance.dev/predicates/<kind>/v1`, for example `.../decision.made/v1`) and
whose predicate carries the event and the records it concerns (the full decision with its
reasons, the directive, the grants...). API keys and their hashes are never part of a record.

The subject is the digest of what the act is about:
- a model configuration (every event with a `model_id`): `model_digest`, the SHA-256 of the
  RFC 8785 canonical JSON of its identifying fields (organization_id, name, version, variant,
  weights_digest, channels), named `model:<name>`;
- a framework publication: the framework's own digest, named `framework:<id>@<version>`;
- anything else (an organization, a principal): the SHA-256 of the RFC 8785 canonical JSON of
  the record as the statement carries it, named `<kind>:<id>`.

An organization that asked for its name to be withheld (`name_public: false`) is carried without
its name: the statement holds its `name_commitment` instead (SHA-256 of a salt the register
keeps and the name), and so does the subject digest, so no guess of the name can be checked
against the log until the authority reveals the salt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import rfc8785

from clearance.ledger import Statement, Subject
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
    Obligation,
    Organization,
    Principal,
    Record,
    RiskReport,
)

PREDICATE_PREFIX = "https://clearance.dev/predicates/"
MODEL_FIELDS = ("organization_id", "name", "version", "variant", "weights_digest", "channels")
"""The fields that identify a model configuration; its digest covers exactly these."""

_RECORD_TYPES: dict[str, type[Record]] = {
    "organization": Organization,
    "principal": Principal,
    "model": ModelConfig,
    "application": Application,
    "information": InformationRequest,
    "decision": Decision,
    "appeal": Appeal,
    "directive": Directive,
    "access": AccessRequest,
    "grant": Grant,
    "report": RiskReport,
    "hearing": Hearing,
    "evidence": EvidenceGrant,
    "obligation": Obligation,
}
# Where the developer's servers are (kept off the public pages too), and defence in depth: no
# record carries the others today, and none may reach a public statement.
_SECRET_FIELDS = frozenset(
    {"api_key", "key_hash", "key_id", "secret", "pre_release_upstream", "upstream_url"}
)
"""Field names no statement or notice may carry."""


def predicate_type(kind: str) -> str:
    """The predicate type URI of statements about events of `kind` (version 1)."""
    return f"{PREDICATE_PREFIX}{kind}/v1"


def _digest(value: Any) -> str:
    return hashlib.sha256(bytes(rfc8785.dumps(value))).hexdigest()


def model_digest(model: ModelConfig) -> str:
    """SHA-256 (hex) of the RFC 8785 JSON of the model configuration's identifying fields."""
    body = model.model_dump(mode="json")
    return _digest({name: body[name] for name in MODEL_FIELDS})


def record_digest(record: Record) -> str:
    """SHA-256 (hex) of the RFC 8785 canonical JSON of a record as statements carry it."""
    return _digest(public_record(record))


@dataclass(frozen=True)
class EventStatement:
    """An event's unsigned statement, with what the log records beside it."""

    kind: str
    statement: Statement

    @property
    def subject(self) -> Subject:
        """The statement's (single) subject."""
        return self.statement.subjects[0]


def _public(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if k not in _SECRET_FIELDS}
    if isinstance(value, list):
        return [_public(v) for v in value]
    return value


def public_record(record: Record) -> dict[str, Any]:
    """A record as a public statement carries it: no secrets, no withheld name."""
    body: dict[str, Any] = _public(record.model_dump(mode="json"))
    if isinstance(record, Organization) and not record.name_public:
        body.pop("name", None)
    return body


def _records_for(event: Event, change: Change) -> list[Record]:
    kind = _RECORD_TYPES.get(event.kind.split(".", 1)[0])
    if kind is None:
        return []
    same = [r for r in change.records if isinstance(r, kind)]
    # The event's own record when it names one; otherwise every record of its kind in the act
    # that the event's subject issued (a restore's grants are named by the directive that issued
    # them; the grants the same act ended, of the directive it superseded, are not among them).
    exact = [r for r in same if r.__dict__.get("id") == event.subject]
    if kind is Grant and not exact:
        same = [r for r in same if r.__dict__.get("origin") == event.subject]
    if event.kind in ("decision.made", "decision.deemed"):
        # the decision's conditions, each a typed obligation, are signed with it
        return [*(exact or same), *(r for r in change.records if isinstance(r, Obligation))]
    return exact or same


def event_statement(
    event: Event, change: Change, model: Callable[[str], ModelConfig]
) -> EventStatement:
    """The statement for one event of a change; `model` looks a model configuration up by id."""
    records = _records_for(event, change)
    if event.model_id is not None:
        config = next(
            (r for r in change.records if isinstance(r, ModelConfig) and r.id == event.model_id),
            None,
        ) or model(event.model_id)
        subject = Subject.sha256_of(f"model:{config.name}", model_digest(config))
    elif event.kind in ("framework.published", "framework.effective"):
        name = f"framework:{event.data.get('id')}@{event.data.get('version')}"
        subject = Subject.sha256_of(name, event.subject)
    elif records:
        subject = Subject.sha256_of(
            f"{event.kind.split('.', 1)[0]}:{event.subject}", record_digest(records[0])
        )
    else:
        subject = Subject.sha256_of(
            f"event:{event.subject}", _digest(event.model_dump(mode="json"))
        )
    predicate = {
        "event": _public(event.model_dump(mode="json")),
        "records": [public_record(r) for r in records],
    }
    return EventStatement(event.kind, Statement((subject,), predicate_type(event.kind), predicate))
