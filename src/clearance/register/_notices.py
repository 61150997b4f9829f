"""Who an act touches: the organizations that are told of each event (Standard Webhooks notices).

An organization hears of its own applications, information requests and decisions, of every
directive, hearing and risk report on its models, of its access requests and grants (issued,
revoked, reinstated, expiring), and of its appeals. A notice carries only that organization's own
access records, never another's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from clearance.register._events import Event
from clearance.register._records import AccessRequest, Appeal, Grant, Hearing, Record

_MODEL_OWNER = (
    "application",
    "information",
    "decision",
    "directive",
    "report",
    "model",
    "obligation",
)


def notice_recipients(
    event: Event, records: Sequence[Record], owner_of: Callable[[str], str]
) -> dict[str, list[Record]]:
    """Each organization the event touches, with the records of the act it may see.

    `records` are the records the event concerns; `owner_of` gives a model's developer.
    """
    prefix = event.kind.split(".", 1)[0]
    told: dict[str, list[Record]] = {}

    def tell(organization: str, shown: Sequence[Record]) -> None:
        told.setdefault(organization, []).extend(shown)

    if prefix in _MODEL_OWNER and event.model_id is not None:
        tell(owner_of(event.model_id), records)
    elif prefix == "hearing":
        for hearing in records:
            if isinstance(hearing, Hearing):
                for organization in hearing.organization_ids:
                    tell(organization, [hearing])
    elif prefix == "appeal":
        for appeal in records:
            if isinstance(appeal, Appeal):
                tell(appeal.organization_id, [appeal])
    elif prefix in ("access", "grant"):
        own = [r for r in records if isinstance(r, (AccessRequest, Grant))]
        for record in own:
            tell(record.organization_id, [record])
        named = event.data.get("organization")
        if not own and isinstance(named, str):
            tell(named, [])
    return told
