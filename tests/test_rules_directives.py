"""Directives' rules: who may issue them, what each action may name, renewal and sunset (issue 16).

The acts are pure functions: each test builds the records in memory, calls the act and checks the
refusal whole (its type and what its sentence names) or the Change whole (the records in their
new state and the events that say why). Boundaries: a renewal exactly at its earliest date and a
second before, a sunset exactly reached and a second before, the last renewal the framework allows.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from clearance.errors import Conflict, Forbidden, InvalidInput
from clearance.policy import Decider, build_snapshot, compile_content
from clearance.register import (
    expire_directive,
    issue_directive,
    model_status,
    renew_directive,
)
from clearance.register._events import SCHEDULER, Change
from clearance.register._records import (
    Directive,
    Grant,
    Hearing,
    Limits,
    Organization,
    Renewal,
    Scope,
)
from tests import rules_data
from tests.framework_data import load, small
from tests.rules_data import ADMIN, DAY, NOW, REVIEWER, SECOND, model

# every clock of the procedure a different length, so that one read in place of another shows
FRAMEWORK = load(
    small(
        procedure={
            "hearing_within_days": 10,
            "appeal_window_days": 21,
            "directive": {"sunset_days": 60, "renewal_min_interval_days": 20, "max_renewals": 2},
        }
    )
)
MODEL = model(channels=("api", "app"))
directive = partial(
    rules_data.directive, id="dir_old", issued_at=NOW - 40 * DAY, hearing_date=NOW - 30 * DAY
)


def issue(**kw: Any) -> Change:
    args: dict[str, Any] = {
        "new_id": "dir_new",
        "model": MODEL,
        "admin": ADMIN,
        "action": "halt",
        "grounds": "Serious misuse reported.",
        "scope": Scope(),
        "active": (),
        "framework": FRAMEWORK,
        "grant_ids": (),
        "now": NOW,
    }
    args.update(kw)
    return issue_directive(**args)


# --- issuing -------------------------------------------------------------------------------------


def test_a_halt_is_one_directive_with_its_hearing_date_and_sunset_from_the_framework() -> None:
    change = issue()
    assert change.records == (
        Directive(
            id="dir_new", model_id=MODEL.id, action="halt", grounds="Serious misuse reported.",
            scope=Scope(), issued_by=ADMIN.id, issued_at=NOW, hearing_date=NOW + 10 * DAY,
            sunset_at=NOW + 60 * DAY,
        ),
    )  # fmt: skip
    assert change.removed == ()
    [event] = change.events
    assert event.model_dump() == {
        "kind": "directive.issued",
        "subject": "dir_new",
        "model_id": MODEL.id,
        "actor": ADMIN.id,
        "at": NOW,
        "data": {
            "action": "halt",
            "organizations": 0,
            "sunset_at": (NOW + 60 * DAY).isoformat(),
        },
    }


def test_only_an_administrator_issues_renews_a_directive() -> None:
    with pytest.raises(Forbidden) as issuing:
        issue(admin=REVIEWER)
    assert str(issuing.value) == "this needs the admin role; Rita Reviewer has reviewer"
    with pytest.raises(Forbidden, match="needs the admin role; Rita Reviewer"):
        renew_directive(directive(), REVIEWER, "New grounds.", FRAMEWORK, NOW)


def test_a_halt_applies_to_everyone_and_names_no_scope() -> None:
    for scope in (
        Scope(organizations=("org_p",)),
        Scope(groups=("t1",)),
        Scope(channels=("app",)),
        Scope(tiers=("internal",)),
        Scope(jurisdictions=("US",)),
    ):
        with pytest.raises(InvalidInput) as error:
            issue(action="halt", scope=scope, grant_ids=("grt_1",))
        assert str(error.value) == (
            "scope: a halt applies to everyone; use restrict to limit a model"
        )


def test_a_restriction_must_name_whom_it_still_serves() -> None:
    with pytest.raises(InvalidInput) as error:
        issue(action="restrict", scope=Scope())
    assert str(error.value) == (
        "scope: a restriction must name organizations, jurisdictions, groups, channels or tiers"
    )


def test_unknown_groups_and_channels_are_named_with_the_valid_ones() -> None:
    with pytest.raises(InvalidInput) as group:
        issue(action="restrict", scope=Scope(groups=("t1", "mars")))
    assert str(group.value) == "groups: unknown jurisdiction group 'mars'; valid: t1, t2"
    with pytest.raises(InvalidInput) as channel:
        issue(action="restrict", scope=Scope(channels=("fax",)))
    assert str(channel.value) == "channels: unknown channel 'fax'; valid: api, app"
    with pytest.raises(InvalidInput, match="unknown channel 'fax'"):
        issue(action="restore", scope=Scope(channels=("fax",)), active=(directive(),))


def test_a_restore_needs_a_directive_in_force_to_restore_from() -> None:
    with pytest.raises(Conflict) as error:
        issue(action="restore")
    assert str(error.value) == "model frontier-1 has no active directive to restore from"
    # a restriction or halt needs none
    assert issue(action="restrict", scope=Scope(groups=("t1",))).records[0].action == "restrict"


def test_a_new_directive_supersedes_every_one_in_force() -> None:
    halt = directive(id="dir_a")
    restriction = directive(id="dir_b", action="restrict", scope=Scope(groups=("t1",)))
    change = issue(action="restore", active=(halt, restriction))
    new, *old = change.records
    assert isinstance(new, Directive) and new.action == "restore" and new.state == "active"
    assert old == [
        halt.model_copy(update={"state": "superseded"}),
        restriction.model_copy(update={"state": "superseded"}),
    ]
    assert [(e.kind, e.subject, e.actor, e.at, e.data) for e in change.events] == [
        (
            "directive.issued",
            "dir_new",
            ADMIN.id,
            NOW,
            {"action": "restore", "organizations": 0, "sunset_at": (NOW + 60 * DAY).isoformat()},
        ),
        ("directive.superseded", "dir_a", ADMIN.id, NOW, {"by": "dir_new"}),
        ("directive.superseded", "dir_b", ADMIN.id, NOW, {"by": "dir_new"}),
    ]
    assert all(e.model_id == MODEL.id for e in change.events)


def test_a_restriction_naming_organizations_grants_each_one_within_its_scope() -> None:
    """One act: each organization named gets a grant no wider than the directive, ending with it."""
    scope = Scope(
        organizations=("org_zeta", "org_alpha"), jurisdictions=("US",), channels=("api",),
        groups=("t1",),
    )  # fmt: skip
    limits = Limits(requests_per_minute=30)
    change = issue(
        action="restrict", scope=scope, grant_ids=("grt_1", "grt_2", "grt_spare"), limits=limits
    )
    directive_, *grants = change.records
    assert isinstance(directive_, Directive) and directive_.scope == scope
    common: dict[str, Any] = {
        "model_id": MODEL.id, "channels": ("api",), "jurisdictions": ("US",), "limits": limits,
        "expires_at": NOW + 60 * DAY, "origin": "dir_new", "granted_by": ADMIN.id,
        "granted_at": NOW,
    }  # fmt: skip
    # organizations in sorted order, one grant id each
    assert grants == [
        Grant(id="grt_1", organization_id="org_alpha", **common),
        Grant(id="grt_2", organization_id="org_zeta", **common),
    ]
    assert grants[0].use_cases == () and grants[0].state == "active"
    issued = change.events[-1]
    assert (issued.kind, issued.subject, issued.model_id, issued.actor, issued.at) == (
        "grant.issued", "dir_new", MODEL.id, ADMIN.id, NOW,
    )  # fmt: skip
    assert issued.data == {"grants": 2, "origin": "dir_new"}
    assert change.events[0].data["organizations"] == 2
    # no limits given: the grants carry none
    plain = issue(action="restrict", scope=scope, grant_ids=("grt_1", "grt_2"))
    assert [g.limits for g in plain.records[1:]] == [Limits(), Limits()]  # type: ignore[attr-defined]


def test_a_restore_to_named_organizations_grants_each_of_them_too() -> None:
    change = issue(
        action="restore", scope=Scope(organizations=("org_p",)), active=(directive(),),
        grant_ids=("grt_1",),
    )  # fmt: skip
    assert [type(r).__name__ for r in change.records] == ["Directive", "Directive", "Grant"]
    grant = change.records[2]
    assert isinstance(grant, Grant) and grant.organization_id == "org_p"
    assert [e.kind for e in change.events] == [
        "directive.issued",
        "directive.superseded",
        "grant.issued",
    ]


def test_a_restriction_naming_no_organization_grants_nothing() -> None:
    change = issue(action="restrict", scope=Scope(groups=("t1",)), grant_ids=("grt_1",))
    assert len(change.records) == 1
    assert [e.kind for e in change.events] == ["directive.issued"]


def test_every_organization_named_needs_a_grant_id() -> None:
    with pytest.raises(ValueError, match=r"^one grant id is needed per organization$"):
        issue(action="restrict", scope=Scope(organizations=("org_a", "org_b")), grant_ids=("g",))
    exact = issue(action="restrict", scope=Scope(organizations=("org_a",)), grant_ids=("g",))
    assert len(exact.records) == 2


# --- renewing ------------------------------------------------------------------------------------


def test_a_renewal_with_new_grounds_sets_a_new_sunset_from_now() -> None:
    old = directive()
    change = renew_directive(old, ADMIN, "Misuse continues.", FRAMEWORK, NOW)
    renewal = Renewal(
        grounds="Misuse continues.", renewed_by=ADMIN.id, renewed_at=NOW, sunset_at=NOW + 60 * DAY
    )
    assert change.records == (
        old.model_copy(update={"renewals": (renewal,), "sunset_at": NOW + 60 * DAY}),
    )
    [event] = change.events
    assert event.model_dump() == {
        "kind": "directive.renewed",
        "subject": old.id,
        "model_id": MODEL.id,
        "actor": ADMIN.id,
        "at": NOW,
        "data": {"sunset_at": (NOW + 60 * DAY).isoformat(), "renewal": 1},
    }


def test_only_an_active_directive_renews() -> None:
    for state in ("expired", "superseded", "proposed", "lapsed", "revoked", "set_aside"):
        with pytest.raises(Conflict) as error:
            renew_directive(directive(state=state), ADMIN, "New grounds.", FRAMEWORK, NOW)
        assert str(error.value) == f"directive dir_old is {state}; only an active one renews"


def test_a_renewal_needs_grounds_not_already_given() -> None:
    first = Renewal(
        grounds="Second report.", renewed_by=ADMIN.id, renewed_at=NOW - 25 * DAY,
        sunset_at=NOW + 35 * DAY,
    )  # fmt: skip
    old = directive(renewals=(first,))
    for grounds in ("The model helps with intrusion.", "  Second report. "):
        with pytest.raises(Conflict) as error:
            renew_directive(old, ADMIN, grounds, FRAMEWORK, NOW)
        assert str(error.value) == "a renewal needs new grounds, not the ones already given"
    # the original grounds given with spaces around them are the same grounds
    spaced = directive(grounds="  Spaced grounds.  ")
    with pytest.raises(Conflict, match="needs new grounds"):
        renew_directive(spaced, ADMIN, "Spaced grounds.", FRAMEWORK, NOW)
    renewed = renew_directive(old, ADMIN, "A third report.", FRAMEWORK, NOW)
    assert renewed.events[0].data["renewal"] == 2


def test_a_directive_renews_at_most_as_often_as_the_framework_allows() -> None:
    renewals = tuple(
        Renewal(
            grounds=f"Report {n}.",
            renewed_by=ADMIN.id,
            renewed_at=NOW - (70 - 30 * n) * DAY,
            sunset_at=NOW + DAY,
        )
        for n in range(2)
    )
    with pytest.raises(Conflict) as error:
        renew_directive(directive(renewals=renewals), ADMIN, "Report 3.", FRAMEWORK, NOW)
    assert str(error.value) == (
        "directive dir_old was renewed 2 times, the most the framework allows"
    )
    # one renewal fewer: the last one the framework allows
    change = renew_directive(directive(renewals=renewals[:1]), ADMIN, "Report 3.", FRAMEWORK, NOW)
    assert len(change.records[0].renewals) == 2  # type: ignore[attr-defined]


def test_a_renewal_waits_the_minimum_interval_after_the_issue() -> None:
    old = directive(issued_at=NOW - 20 * DAY)
    renewed = renew_directive(old, ADMIN, "New grounds.", FRAMEWORK, NOW)
    assert renewed.records[0].sunset_at == NOW + 60 * DAY  # type: ignore[attr-defined]
    early = directive(issued_at=NOW - 20 * DAY + SECOND)
    with pytest.raises(Conflict) as error:
        renew_directive(early, ADMIN, "New grounds.", FRAMEWORK, NOW)
    assert str(error.value) == (
        "directive dir_old can be renewed from 2026-09-01 (20 days after the last act)"
    )


def test_a_renewal_waits_the_minimum_interval_after_the_last_renewal() -> None:
    """The interval runs from the latest renewal, not from the issue or an earlier renewal."""
    renewals = (
        Renewal(grounds="First.", renewed_by=ADMIN.id, renewed_at=NOW - 39 * DAY, sunset_at=NOW),
        Renewal(
            grounds="Second.",
            renewed_by=ADMIN.id,
            renewed_at=NOW - 19 * DAY,
            sunset_at=NOW + 41 * DAY,
        ),
    )
    old = directive(issued_at=NOW - 80 * DAY, renewals=renewals)
    frame = load(
        small(procedure={"directive": {"renewal_min_interval_days": 20, "max_renewals": 3}})
    )
    with pytest.raises(Conflict) as error:
        renew_directive(old, ADMIN, "Third.", frame, NOW)
    assert str(error.value) == (
        "directive dir_old can be renewed from 2026-09-02 (20 days after the last act)"
    )
    change = renew_directive(old, ADMIN, "Third.", frame, NOW + DAY)
    assert change.events[0].data == {"sunset_at": (NOW + 91 * DAY).isoformat(), "renewal": 3}


def test_a_renewed_restriction_keeps_the_organizations_it_names_to_its_new_sunset() -> None:
    """Regression: the grants a restriction issued expired at its first sunset though it was
    renewed, so the organizations it names lost access while it still stood."""
    issued = issue(
        action="restrict", scope=Scope(organizations=("org_a", "org_b")),
        grant_ids=("grt_a", "grt_b"), now=NOW - 20 * DAY,
    )  # fmt: skip
    restriction, grant_a, grant_b = issued.records
    assert isinstance(restriction, Directive) and isinstance(grant_a, Grant)
    assert grant_a.expires_at == restriction.sunset_at == NOW + 40 * DAY
    revoked = grant_b.model_copy(update={"state": "revoked"})
    other = grant_a.model_copy(update={"id": "grt_other", "origin": "acr_1"})
    change = renew_directive(
        restriction, ADMIN, "Still needed.", FRAMEWORK, NOW, grants=(other, revoked, grant_a)
    )
    assert change.records[1:] == (grant_a.model_copy(update={"expires_at": NOW + 60 * DAY}),)
    assert [e.model_dump() for e in change.events[1:]] == [
        {
            "kind": "grant.modified",
            "subject": "grt_a",
            "model_id": MODEL.id,
            "actor": ADMIN.id,
            "at": NOW,
            "data": {"directive": restriction.id, "expires_at": (NOW + 60 * DAY).isoformat()},
        }
    ]


# --- expiring ------------------------------------------------------------------------------------


def test_a_directive_expires_exactly_at_its_sunset_and_not_a_second_before() -> None:
    old = directive(sunset_at=NOW)
    change = expire_directive(old, NOW)
    assert change.records == (old.model_copy(update={"state": "expired"}),)
    [event] = change.events
    assert event.model_dump() == {
        "kind": "directive.expired",
        "subject": old.id,
        "model_id": MODEL.id,
        "actor": SCHEDULER,
        "at": NOW,
        "data": {"sunset_at": NOW.isoformat()},
    }
    with pytest.raises(Conflict) as error:
        expire_directive(old, NOW - SECOND)
    assert str(error.value) == "directive dir_old does not expire now"


def test_a_directive_no_longer_in_force_does_not_expire() -> None:
    for state in ("superseded", "expired", "revoked", "proposed"):
        with pytest.raises(Conflict, match="directive dir_old does not expire now"):
            expire_directive(directive(sunset_at=NOW - DAY, state=state), NOW)


# --- in effect at once only when urgent (the order around issue_directive) ----------------------


order = partial(
    rules_data.order, new_id="dir_new", model=MODEL, admin=ADMIN, framework=FRAMEWORK,
    grounds="Serious misuse reported.",
)  # fmt: skip


def test_a_halt_without_urgent_is_only_proposed_until_its_hearing() -> None:
    restriction = directive(action="restrict", scope=Scope(groups=("t1",)))
    change = order(urgent=False, active=(restriction,))
    proposed, hearing = change.records
    assert isinstance(proposed, Directive) and isinstance(hearing, Hearing)
    assert (proposed.state, proposed.urgent, proposed.hearing_id) == ("proposed", False, "hrg_1")
    # nothing in force is superseded yet: the restriction keeps serving until the hearing
    assert [e.kind for e in change.events] == ["directive.proposed", "hearing.opened"]
    assert change.events[0].data == {
        "action": "halt",
        "hearing": "hrg_1",
        "hold_by": (NOW + 10 * DAY).isoformat(),
    }
    assert (hearing.urgent, hearing.hold_by, hearing.organization_ids) == (
        False,
        NOW + 10 * DAY,
        (MODEL.organization_id,),
    )
    status = model_status(MODEL, (), (proposed,), (), NOW)
    assert (status.status, status.directive_id) == ("unreviewed", None)


def test_an_urgent_halt_is_in_force_at_once_and_its_hearing_follows() -> None:
    restriction = directive(action="restrict", scope=Scope(groups=("t1",)))
    change = order(urgent=True, active=(restriction,))
    halt = change.records[0]
    assert isinstance(halt, Directive)
    assert (halt.state, halt.urgent, halt.hearing_id) == ("active", True, "hrg_1")
    assert change.records[1] == restriction.model_copy(update={"state": "superseded"})
    assert [e.kind for e in change.events] == [
        "directive.issued",
        "directive.superseded",
        "hearing.opened",
    ]
    assert change.events[-1].data["timing"] == "after the act"
    status = model_status(MODEL, (), (halt,), (), NOW)
    assert (status.status, status.tier, status.directive_id) == ("halted", "halted", "dir_new")


def test_a_restoration_is_never_urgent() -> None:
    with pytest.raises(InvalidInput) as error:
        order(urgent=True, action="restore", active=(directive(),))
    assert str(error.value) == "urgent: a restoration is not adverse; it takes effect at once"


# --- a narrower restriction narrows --------------------------------------------------------------


def test_a_narrower_restriction_ends_the_access_of_the_organizations_it_leaves_out() -> None:
    """Regression (fail-open): the superseded restriction's grants stay active until its sunset,
    and the gateway admitted their holders though the directive in force no longer names them."""
    organizations = [
        Organization(id=o, name=o, kind=k, jurisdiction="US", created_at=NOW)
        for o, k in (("org_dev", "developer"), ("org_a", "partner"), ("org_b", "partner"))
    ]
    both = issue(
        action="restrict", scope=Scope(organizations=("org_a", "org_b")), grant_ids=("g1", "g2")
    )
    later = NOW + DAY
    narrower = issue(
        new_id="dir_2", action="restrict", scope=Scope(organizations=("org_a",)),
        active=(both.records[0],), grant_ids=("g3",), now=later,
    )  # fmt: skip
    directives = [r for r in narrower.records if isinstance(r, Directive)]
    grants = [r for r in (*both.records, *narrower.records) if isinstance(r, Grant)]
    status = model_status(MODEL, (), directives, (), later)
    assert status.restricted_to == Scope(organizations=("org_a",))
    content = compile_content(
        framework=FRAMEWORK, organizations=organizations, principals=[], models=[MODEL],
        statuses=[status], grants=grants, now=later,
    )  # fmt: skip
    decider = Decider()
    decider.swap(build_snapshot(content, version=1, issued_at=later, expires_at=later + DAY))
    assert decider.decide_uncached("org_a", MODEL.name, "", later.timestamp()).allowed
    assert not decider.decide_uncached("org_b", MODEL.name, "", later.timestamp()).allowed
