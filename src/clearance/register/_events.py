"""Domain events: every state change of the register is one, written with the change."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from clearance.register._records import Instant, Record

EventKind = Literal[
    "framework.published",
    "organization.created",
    "principal.created",
    "principal.key_issued",
    "principal.keys_revoked",
    "model.registered",
    "application.filed",
    "application.assigned",
    "application.withdrawn",
    "information.requested",
    "information.answered",
    "decision.made",
    "decision.deemed",
    "decision.final",
    "decision.set_aside",
    "decision.lapsed",
    "appeal.filed",
    "appeal.panel_appointed",
    "appeal.ruled",
    "directive.issued",
    "directive.renewed",
    "directive.expired",
    "directive.superseded",
    "access.requested",
    "access.granted",
    "access.refused",
    "grant.issued",
    "grant.expired",
    "grant.revoked",
    "report.filed",
    "framework.effective",
    "directive.proposed",
    "directive.lapsed",
    "directive.revoked",
    "directive.set_aside",
    "hearing.opened",
    "hearing.submission",
    "hearing.closed",
    "hearing.lapsed",
    "appeal.vote",
    "appeal.escalated",
    "access.refusal_proposed",
    "access.reopened",
    "grant.modified",
    "grant.reinstated",
    "grant.expiring",
    "evidence.access_granted",
    "evidence.read",
    "obligation.fulfilment_filed",
    "obligation.fulfilment_accepted",
    "obligation.fulfilment_rejected",
    "obligation.breached",
    "obligation.ended",
    "application.authority_evidence",
]

SCHEDULER = "scheduler"
"""The actor named on events the clock applies by itself."""


class Event(Record):
    """Something that happened in the register, to one record, at one time, by one actor."""

    kind: EventKind
    subject: str
    model_id: str | None = None
    actor: str
    at: Instant
    data: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """What one act writes: the records in their new state and the events that say why."""

    records: tuple[Record, ...]
    events: tuple[Event, ...]
    removed: tuple[Record, ...] = field(default=())

    def __add__(self, other: Change) -> Change:
        return Change(
            self.records + other.records, self.events + other.events, self.removed + other.removed
        )
