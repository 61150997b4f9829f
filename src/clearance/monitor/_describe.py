"""A logged statement in words ("a directive (halt) on model X"), and as a JSON line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clearance.ledger import LeafRecord, Statement

_NOUNS = {
    "framework.published": "a framework publication",
    "organization.created": "a new organization",
    "principal.created": "a new principal",
    "principal.key_issued": "a principal's new API key",
    "principal.keys_revoked": "a principal's API keys revoked",
    "model.registered": "a model registration",
    "application.filed": "a release application",
    "application.assigned": "a reviewer assignment",
    "application.withdrawn": "a withdrawn application",
    "information.requested": "a request for information",
    "information.answered": "an answer to a request for information",
    "decision.made": "a decision",
    "decision.deemed": "a deemed decision",
    "decision.final": "a decision becoming final",
    "decision.set_aside": "a decision set aside",
    "decision.lapsed": "a lapsed approval",
    "appeal.filed": "an appeal",
    "appeal.panel_appointed": "an appeal panel",
    "appeal.ruled": "an appeal ruling",
    "directive.issued": "a directive",
    "directive.renewed": "a directive renewal",
    "directive.expired": "a directive expiring",
    "directive.superseded": "a directive superseded",
    "access.requested": "an access request",
    "access.granted": "access granted",
    "access.refused": "access refused",
    "grant.issued": "a grant",
    "grant.expired": "a grant expiring",
    "grant.revoked": "a grant revoked",
    "report.filed": "a risk report",
    "key.rotated": "a rotation of the log's signing key",
}


@dataclass(frozen=True)
class Observed:
    """One verified log entry: where it is, its leaf, and (when read) its statement."""

    index: int
    leaf: LeafRecord
    statement: Statement | None

    @property
    def at(self) -> str:
        """The time the leaf records (RFC 3339), or ''."""
        value = self.leaf.extras.get("at")
        return value if isinstance(value, str) else ""

    @property
    def subject(self) -> str:
        """The statement's subject name (`model:<name>`, `organization:<id>`...), or ''."""
        return self.statement.subjects[0].name if self.statement is not None else ""

    @property
    def model(self) -> str | None:
        """The model's name when the statement is about a model configuration."""
        return self.subject.removeprefix("model:") if self.subject.startswith("model:") else None

    def words(self) -> str:
        """The entry as one line a person reads."""
        noun = _NOUNS.get(self.leaf.kind, f"a {self.leaf.kind} statement")
        event = _event(self.statement)
        data: Mapping[str, Any] = event.get("data") or {}
        details = []
        if self.leaf.kind == "directive.issued" and data.get("action"):
            noun += f" ({data['action']})"
        if self.leaf.kind == "decision.made" and data.get("outcome"):
            noun += f" ({data['outcome']}{', ' + str(data['tier']) if data.get('tier') else ''})"
        target = self._target(event)
        if data.get("sunset_at"):
            details.append(f"sunset {data['sunset_at']}")
        if data.get("expires_at"):
            details.append(f"expires {data['expires_at']}")
        tail = f" ({'; '.join(details)})" if details else ""
        return f"[{self.index}] {self.at} {noun}{target}{tail}".replace("  ", " ")

    def _target(self, event: Mapping[str, Any]) -> str:
        model = self.model
        organization = _organization(self.statement)
        if self.leaf.kind in ("grant.issued", "access.granted") and organization:
            return f" to organization {organization}" + (f" on model {model}" if model else "")
        if model:
            return f" on model {model}"
        if self.subject:
            return f" about {self.subject}"
        return f" about {event.get('subject', self.leaf.subject_sha256[:12])}"

    def to_json(self) -> dict[str, Any]:
        """The entry as a JSON object (one line of `--json` output)."""
        return {
            "index": self.index,
            "kind": self.leaf.kind,
            "at": self.at,
            "subject": self.subject,
            "subject_sha256": self.leaf.subject_sha256,
            "model": self.model,
            "envelope_sha256": self.leaf.envelope_sha256,
            "summary": self.words(),
            "predicate_type": self.statement.predicate_type if self.statement else None,
            "predicate": _plain(self.statement.predicate) if self.statement else None,
        }


def _event(statement: Statement | None) -> Mapping[str, Any]:
    if statement is None:
        return {}
    event = statement.predicate.get("event")
    return event if isinstance(event, Mapping) else {}


def _organization(statement: Statement | None) -> str | None:
    if statement is None:
        return None
    for record in statement.predicate.get("records") or ():
        if isinstance(record, Mapping) and isinstance(record.get("organization_id"), str):
            return str(record["organization_id"])
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
