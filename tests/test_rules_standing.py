"""A grant stands only while the act it came from stands (register/_standing.py), rule by rule."""

from __future__ import annotations

import pytest

from clearance.register import (
    Change,
    Event,
    Grant,
    Scope,
    ended_with,
    ending_models,
    issue_directive,
)
from clearance.register._events import SCHEDULER
from clearance.register._notices import notice_recipients
from clearance.store._statements import _records_for
from tests.framework_data import load, small
from tests.rules_data import ADMIN, DAY, NOW, application, directive, grant, model

# the bank's grant from a restriction to it, and the authority's testing grant from a filing
FROM_DIRECTIVE = grant(id="grt_dir", origin="dir_1", granted_by="prn_admin")
TESTING = grant(id="grt_tst", organization_id="org_authority", origin="app_1", purpose="testing")
FROM_REQUEST = grant(id="grt_acr", origin="acr_1")
LATER = NOW + DAY


def said(subject: str, kind: str = "directive.superseded", actor: str = "prn_chief") -> Event:
    return Event(kind=kind, subject=subject, model_id="mdl_1", actor=actor, at=LATER)


def test_a_superseded_directive_takes_its_grants_with_it_by_the_act_that_superseded_it() -> None:
    change = Change((directive(state="superseded"),), (said("dir_1"),))
    ended = ended_with(change, [FROM_DIRECTIVE, FROM_REQUEST])
    (record,) = ended.records
    assert record == FROM_DIRECTIVE.model_copy(
        update={"state": "revoked", "revoked_by": "prn_chief", "revoked_at": LATER}
    )
    (event,) = ended.events
    assert event == Event(
        kind="grant.revoked",
        subject="grt_dir",
        model_id="mdl_1",
        actor="prn_chief",
        at=LATER,
        data={"origin": "dir_1", "reason": "directive dir_1 is superseded"},
    )


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ("revoked", "directive dir_1 is revoked"),
        ("lapsed", "directive dir_1 is lapsed"),
        ("set_aside", "directive dir_1 is set aside"),
    ],
)
def test_a_directive_revoked_lapsed_or_set_aside_revokes_its_grants(
    state: str, reason: str
) -> None:
    change = Change((directive(state=state),), (said("dir_1", actor=SCHEDULER),))
    ended = ended_with(change, [FROM_DIRECTIVE])
    assert [(r.state, r.revoked_by) for r in ended.records] == [("revoked", SCHEDULER)]  # type: ignore[attr-defined]
    assert [(e.kind, e.data["reason"]) for e in ended.events] == [("grant.revoked", reason)]


def test_a_directive_that_reaches_its_sunset_expires_its_grants_rather_than_revoking_them() -> None:
    change = Change((directive(state="expired"),), (said("dir_1", "directive.expired", SCHEDULER),))
    ended = ended_with(change, [FROM_DIRECTIVE])
    assert ended.records == (FROM_DIRECTIVE.model_copy(update={"state": "expired"}),)
    (event,) = ended.events
    assert (event.kind, event.actor, event.at) == ("grant.expired", SCHEDULER, LATER)
    assert event.data == {"origin": "dir_1", "reason": "directive dir_1 is expired"}


@pytest.mark.parametrize("state", ["active", "proposed"])
def test_a_directive_in_force_or_proposed_ends_nothing(state: str) -> None:
    change = Change((directive(state=state),), (said("dir_1", "directive.issued"),))
    assert ended_with(change, [FROM_DIRECTIVE]) == Change((), ())


def test_grants_already_ended_and_grants_from_other_acts_are_left_as_they_are() -> None:
    change = Change((directive(state="superseded"),), (said("dir_1"),))
    revoked = FROM_DIRECTIVE.model_copy(update={"id": "grt_old", "state": "revoked"})
    expired = FROM_DIRECTIVE.model_copy(update={"id": "grt_exp", "state": "expired"})
    other = FROM_DIRECTIVE.model_copy(update={"id": "grt_dir2", "origin": "dir_2"})
    assert ended_with(change, [revoked, expired, other, FROM_REQUEST, TESTING]) == Change((), ())


def test_each_grant_of_the_directive_ends_in_the_order_of_its_id() -> None:
    second = FROM_DIRECTIVE.model_copy(update={"id": "grt_a", "organization_id": "org_gov"})
    change = Change((directive(state="superseded"),), (said("dir_1"),))
    ended = ended_with(change, [FROM_DIRECTIVE, second])
    assert [r.id for r in ended.records] == ["grt_a", "grt_dir"]  # type: ignore[attr-defined]
    assert [e.subject for e in ended.events] == ["grt_a", "grt_dir"]


@pytest.mark.parametrize("state", ["decided", "withdrawn"])
def test_a_decided_or_withdrawn_application_ends_the_authoritys_testing_grant(state: str) -> None:
    # the review it was for is over: the grant expires (nobody revoked it)
    change = Change(
        (application(state=state, testing_grant_id="grt_tst"),),
        (said("dec_1", "decision.made", "prn_rev"),),
    )
    ended = ended_with(change, [TESTING])
    assert ended.records == (TESTING.model_copy(update={"state": "expired"}),)
    (event,) = ended.events
    assert (event.kind, event.subject, event.actor, event.at) == (
        "grant.expired",
        "grt_tst",
        "prn_rev",
        LATER,
    )
    assert event.data == {"origin": "app_1", "reason": f"application app_1 is {state}"}


@pytest.mark.parametrize("state", ["filed", "under_review", "information_requested"])
def test_an_application_under_review_keeps_its_testing_grant(state: str) -> None:
    change = Change(
        (application(state=state, testing_grant_id="grt_tst"),),
        (said("app_1", "application.filed"),),
    )
    assert ended_with(change, [TESTING]) == Change((), ())


EXPIRED = TESTING.model_copy(update={"state": "expired", "expires_at": LATER + DAY})
REOPENED = application(state="under_review", testing_grant_id="grt_tst")
SET_ASIDE = said("dec_1", "decision.set_aside", "panel")


def test_a_decision_set_aside_gives_the_reopened_review_its_testing_grant_again() -> None:
    ended = ended_with(Change((REOPENED,), (SET_ASIDE,)), [EXPIRED])
    assert ended.records == (EXPIRED.model_copy(update={"state": "active"}),)
    (event,) = ended.events
    assert (event.kind, event.subject, event.actor, event.at) == (
        "grant.reinstated",
        "grt_tst",
        "panel",
        LATER,
    )
    assert event.data == {"origin": "app_1", "reason": "application app_1 is under review again"}
    # with no expiry (the access the framework requires is still owed) too
    open_ended = EXPIRED.model_copy(update={"expires_at": None})
    assert ended_with(Change((REOPENED,), (SET_ASIDE,)), [open_ended]).records[0].state == "active"  # type: ignore[attr-defined]


def test_a_testing_grant_comes_back_only_within_its_days_and_only_its_own() -> None:
    reopening = Change((REOPENED,), (SET_ASIDE,))
    run_out = EXPIRED.model_copy(update={"expires_at": LATER})
    assert ended_with(reopening, [run_out]) == Change((), ())
    # another grant of the application's, an access grant, or one revoked by someone: untouched
    other = EXPIRED.model_copy(update={"id": "grt_other"})
    access = EXPIRED.model_copy(update={"purpose": "access"})
    revoked = EXPIRED.model_copy(update={"state": "revoked"})
    assert ended_with(reopening, [other, access, revoked]) == Change((), ())
    # an application the change does not write (only looked up) reopens nothing, nor a change
    # that says nothing of when
    elsewhere = Change((), (SET_ASIDE,))
    assert ended_with(elsewhere, [EXPIRED], {"app_1": REOPENED}) == Change((), ())
    assert ended_with(Change((REOPENED,), ()), [EXPIRED]) == Change((), ())


def test_a_grant_brought_back_stays_ended_when_its_act_no_longer_stands() -> None:
    # a hearing withdraws the revocation of a restriction's grant, after a restore superseded
    # the restriction: the grant comes back active in the change, and ends again with it
    back = FROM_DIRECTIVE.model_copy(update={"state": "active"})
    heard = said("hrg_1", "hearing.closed", "prn_chief")
    change = Change((back,), (heard,))
    superseded = directive(state="superseded")
    ended = ended_with(change, [back], {"dir_1": superseded})
    assert ended.records == (
        back.model_copy(
            update={"state": "revoked", "revoked_by": "prn_chief", "revoked_at": LATER}
        ),
    )
    assert ended.events[0].data == {"origin": "dir_1", "reason": "directive dir_1 is superseded"}
    # while the restriction stands, it stands too
    assert ended_with(change, [back], {"dir_1": directive(state="active")}) == Change((), ())
    assert ending_models(change) == {"mdl_1"}


def test_the_act_of_the_origin_itself_names_who_and_when_not_another_in_the_change() -> None:
    # a halt that supersedes the restriction: the superseding event is about the old directive
    issued = Event(
        kind="directive.issued", subject="dir_2", model_id="mdl_1", actor="prn_x", at=NOW
    )
    change = Change(
        (directive(id="dir_2", state="active"), directive(state="superseded")),
        (issued, said("dir_1")),
    )
    # the new directive's own grant (listed first) stands; the old one's ends
    issued_grant = FROM_DIRECTIVE.model_copy(update={"id": "grt_a", "origin": "dir_2"})
    (event,) = ended_with(change, [issued_grant, FROM_DIRECTIVE]).events
    assert (event.subject, event.actor, event.at) == ("grt_dir", "prn_chief", LATER)
    assert ending_models(change) == {"mdl_1"}


def test_with_no_event_about_the_origin_the_changes_first_event_names_who_and_when() -> None:
    first = Event(kind="hearing.lapsed", subject="hrg_1", model_id="mdl_1", actor="x", at=LATER)
    second = Event(kind="hearing.lapsed", subject="hrg_2", model_id="mdl_1", actor="y", at=NOW)
    change = Change((directive(state="lapsed"),), (first, second))
    (record,) = ended_with(change, [FROM_DIRECTIVE]).records
    assert (record.revoked_by, record.revoked_at) == ("x", LATER)  # type: ignore[attr-defined]


def test_a_change_that_ends_an_act_without_any_event_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="the change that ends dir_1 has no event saying so"):
        ended_with(Change((directive(state="revoked"),), ()), [FROM_DIRECTIVE])


def test_the_models_looked_at_are_those_of_the_acts_and_grants_the_change_writes() -> None:
    change = Change(
        (
            directive(state="superseded", model_id="mdl_2"),
            directive(id="dir_3", state="active", model_id="mdl_3"),
            application(id="app_4", model_id="mdl_4", state="under_review"),
            grant(model_id="mdl_5"),
            grant(id="grt_6", model_id="mdl_6", state="revoked"),
        ),
        (said("dir_1"),),
    )
    assert ending_models(change) == {"mdl_2", "mdl_3", "mdl_4", "mdl_5"}


def test_a_restores_statement_carries_the_grants_it_issued_not_those_it_ended() -> None:
    restrict = directive(action="restrict", scope=Scope(organizations=("org_bank", "org_gov")))
    old = [
        FROM_DIRECTIVE,
        FROM_DIRECTIVE.model_copy(update={"id": "grt_gov", "organization_id": "org_gov"}),
    ]
    change = issue_directive(
        new_id="dir_2", model=model(), admin=ADMIN, action="restore", grounds="Examined.",
        scope=Scope(organizations=("org_bank",)), active=(restrict,), framework=load(small()),
        grant_ids=("grt_new",), now=NOW,
    )  # fmt: skip
    change = change + ended_with(change, old)  # as the store writes it
    (issued,) = [e for e in change.events if e.kind == "grant.issued"]
    carried = _records_for(issued, change)
    assert [(r.id, r.state) for r in carried if isinstance(r, Grant)] == [("grt_new", "active")]
    told = notice_recipients(issued, carried, lambda _: "org_dev")
    assert "org_gov" not in told
    (revoked,) = [e for e in change.events if e.kind == "grant.revoked" and e.subject == "grt_gov"]
    assert [r.id for r in _records_for(revoked, change)] == ["grt_gov"]  # type: ignore[attr-defined]
