"""Domain events and changes: every state change of the register is an event, written with it.

An event names one record, one time and one actor, of a known kind, with a time zone; nothing
else may be added to it. Two acts' changes add up in order: the records, the events and the
records removed of the first, then those of the second.
"""

from __future__ import annotations

import datetime as dt
import typing

import pytest
from pydantic import ValidationError

from clearance.register._events import SCHEDULER, Change, Event, EventKind
from clearance.register._records import Grant
from tests import rules_data
from tests.rules_data import NOW


def grant(id: str) -> Grant:
    return rules_data.grant(id=id)


def event(subject: str, kind: str = "grant.issued") -> Event:
    return Event(kind=kind, subject=subject, actor="prn_rev", at=NOW)


def test_an_event_names_its_subject_time_and_actor_and_defaults_to_no_model_and_no_data() -> None:
    issued = event("grt_1")
    assert (issued.model_id, issued.data) == (None, {})
    assert event("grt_2").data is not issued.data


def test_an_event_is_of_a_known_kind() -> None:
    kinds = typing.get_args(EventKind)
    assert len(kinds) == len(set(kinds))
    assert {"decision.deemed", "directive.issued", "grant.revoked", "evidence.read"} <= set(kinds)
    with pytest.raises(ValidationError):
        event("grt_1", kind="grant.forgiven")


def test_an_event_carries_a_time_zone_and_is_kept_in_utc() -> None:
    with pytest.raises(ValidationError):
        Event(kind="grant.issued", subject="grt_1", actor="prn_rev", at=NOW.replace(tzinfo=None))
    paris = dt.timezone(dt.timedelta(hours=2))
    assert Event(kind="grant.issued", subject="g", actor="a", at=NOW.astimezone(paris)).at == NOW


def test_an_event_takes_no_unknown_field_and_cannot_be_changed() -> None:
    with pytest.raises(ValidationError):
        Event(kind="grant.issued", subject="g", actor="a", at=NOW, secret="x")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        event("grt_1").actor = "prn_admin"  # type: ignore[misc]


def test_the_clock_acts_as_the_scheduler() -> None:
    assert SCHEDULER == "scheduler"


def test_a_change_removes_nothing_unless_it_says_so() -> None:
    assert Change((grant("grt_1"),), (event("grt_1"),)).removed == ()


def test_two_changes_add_up_in_order() -> None:
    first = Change((grant("grt_1"),), (event("grt_1"),), (grant("grt_0"),))
    second = Change((grant("grt_2"),), (event("grt_2"), event("grt_3")), (grant("grt_9"),))
    assert first + second == Change(
        (grant("grt_1"), grant("grt_2")),
        (event("grt_1"), event("grt_2"), event("grt_3")),
        (grant("grt_0"), grant("grt_9")),
    )
    assert (second + first).events == (event("grt_2"), event("grt_3"), event("grt_1"))
