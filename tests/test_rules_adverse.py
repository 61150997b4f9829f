"""Adverse acts' rules: no halt, refusal or revocation without a hearing, unless urgent (issue 16).

The acts are pure functions: each test builds the records in memory and checks the refusal whole
(its type and its sentence) or the Change whole. An act that is not urgent is only proposed until
its hearing; an urgent one takes effect at once and its hearing follows. The hearing's outcome
confirms, modifies or revokes the act; a hearing whose date passes with no outcome takes the act
with it. An outcome that opens access is checked against the model's standing like any grant.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from clearance.errors import Conflict, Forbidden, InvalidInput
from clearance.register import (
    Directive,
    Grant,
    Hearing,
    HearingReason,
    close_hearing,
    miss_hearing,
)
from clearance.register._adverse import HeardAct, refuse_access, revoke_access
from clearance.register._events import SCHEDULER, Change, Event
from clearance.register._records import Limits, Scope
from clearance.register._status import ModelStatus
from tests import rules_data
from tests.framework_data import load, small
from tests.rules_data import ADMIN, BANK, DAY, NOW, REVIEWER, SECOND, access_request, grant, model

# the hearing's date and the directive's sunset of different lengths
FRAMEWORK = load(small(procedure={"hearing_within_days": 10, "directive": {"sunset_days": 60}}))
CHIEF = ADMIN.model_copy(update={"id": "prn_chief", "name": "Carl Chief"})
MODEL = model()
# approved: approved_partners in t1 (US, GB), public in t2 (every other country)
APPROVED = ModelStatus(
    model_id="mdl_1", name="frontier-1", organization_id="org_dev", status="approved",
    tier="public", tiers={"t1": "approved_partners", "t2": "public"},
)  # fmt: skip
HALTED = APPROVED.model_copy(update={"status": "halted", "tier": "halted"})
REQUEST = access_request(channels=("api",), jurisdictions=("GB",), filed_at=NOW - 5 * DAY)
GRANT = grant(
    channels=("api",), use_cases=("fraud-analysis",), jurisdictions=("GB",),
    limits=Limits(requests_per_minute=60), origin="acr_0", granted_at=NOW - 30 * DAY,
)  # fmt: skip
REASONS = (HearingReason(text="The misuse is established."),)
directive = partial(
    rules_data.directive, issued_by="prn_chief", issued_at=NOW - 5 * DAY,
    hearing_date=NOW + 5 * DAY, sunset_at=NOW + 55 * DAY, state="proposed", hearing_id="hrg_1",
)  # fmt: skip


def hearing(act: str = "directive", act_id: str = "dir_1", **kw: Any) -> Hearing:
    args: dict[str, Any] = {
        "act": act,
        "act_id": act_id,
        "organization_ids": ("org_bank",) if act != "directive" else ("org_dev",),
        "opened_by": "prn_chief",
        "opened_at": NOW - 5 * DAY,
        "hold_by": NOW + SECOND,
    }
    args.update(kw)
    return rules_data.hearing(**args)


def ids() -> Any:
    """Fresh ids by prefix, numbered in the order asked: dir_n1, grt_n2..."""
    made: list[str] = []

    def new_id(prefix: str) -> str:
        made.append(f"{prefix}_n{len(made) + 1}")
        return made[-1]

    return new_id


def close(outcome: str, act: HeardAct, heard: Hearing | None = None, **kw: Any) -> Change:
    args: dict[str, Any] = {
        "hearing": heard or hearing(),
        "closer": ADMIN,
        "outcome": outcome,
        "reasons": REASONS,
        "scope": None,
        "limits": None,
        "act": act,
        "framework": FRAMEWORK,
        "new_id": ids(),
        "now": NOW,
    }
    args.update(kw)
    return close_hearing(**args)


def closed_hearing(heard: Hearing, outcome: str, result: str | None = None, **kw: Any) -> Hearing:
    update = {
        "state": "closed", "outcome": outcome, "reasons": REASONS, "result_id": result,
        "closed_by": ADMIN.id, "closed_at": NOW, **kw,
    }  # fmt: skip
    return heard.model_copy(update=update)


def event(kind: str, subject: str, data: dict[str, Any], actor: str = ADMIN.id) -> Event:
    return Event(kind=kind, subject=subject, model_id="mdl_1", actor=actor, at=NOW, data=data)


def closed_event(heard: Hearing, outcome: str, result: str | None = None) -> Event:
    return event(
        "hearing.closed",
        "hrg_1",
        {
            "act": heard.act, "act_id": heard.act_id, "outcome": outcome, "submissions": 0,
            "result": result,
        },
    )  # fmt: skip


# --- ordering a directive ------------------------------------------------------------------------


order = partial(rules_data.order, model=MODEL, admin=CHIEF, framework=FRAMEWORK)


def test_a_directive_not_urgent_is_only_proposed_until_its_hearing() -> None:
    limits = Limits(requests_per_minute=5)
    scope = Scope(organizations=("org_bank",))
    change = order(False, "restrict", scope=scope, grant_ids=("grt_9",), limits=limits)
    proposed = Directive(
        id="dir_1", model_id="mdl_1", action="restrict", grounds="The model helps with intrusion.",
        scope=scope, issued_by="prn_chief", issued_at=NOW, hearing_date=NOW + 10 * DAY,
        sunset_at=NOW + 60 * DAY, state="proposed", urgent=False, hearing_id="hrg_1",
        limits=limits,
    )  # fmt: skip
    # no grant is issued to the organizations it names until the hearing confirms it
    assert change.records[0] == proposed
    assert [type(r) for r in change.records] == [Directive, Hearing]
    heard = change.records[1]
    assert (heard.act, heard.act_id, heard.organization_ids, heard.urgent) == (  # type: ignore[attr-defined]
        "directive",
        "dir_1",
        ("org_dev",),
        False,
    )
    assert change.events[0] == event(
        "directive.proposed",
        "dir_1",
        {"action": "restrict", "hearing": "hrg_1", "hold_by": (NOW + 10 * DAY).isoformat()},
        actor=CHIEF.id,
    )
    assert [e.kind for e in change.events] == ["directive.proposed", "hearing.opened"]


def test_an_urgent_directive_is_in_force_at_once_with_its_hearing_to_follow() -> None:
    limits = Limits(requests_per_minute=5)
    scope = Scope(organizations=("org_bank",))
    change = order(True, "restrict", scope=scope, grant_ids=("grt_9",), limits=limits)
    restriction = change.records[0]
    assert isinstance(restriction, Directive)
    assert (restriction.state, restriction.urgent, restriction.hearing_id, restriction.limits) == (
        "active",
        True,
        "hrg_1",
        limits,
    )
    assert [type(r) for r in change.records] == [Directive, Grant, Hearing]
    assert change.records[1].limits == limits  # type: ignore[attr-defined]
    assert change.records[2].urgent is True  # type: ignore[attr-defined]


def test_a_restoration_takes_effect_at_once_with_no_hearing() -> None:
    limits = Limits(requests_per_minute=5)
    halt = directive(state="active")
    change = order(
        False, "restore", scope=Scope(organizations=("org_bank",)), active=(halt,),
        grant_ids=("grt_9",), limits=limits,
    )  # fmt: skip
    restore = change.records[0]
    assert isinstance(restore, Directive)
    assert (restore.state, restore.limits, restore.urgent, restore.hearing_id) == (
        "active",
        limits,
        False,
        None,
    )
    assert not any(isinstance(r, Hearing) for r in change.records)
    # the grant it issues carries the limits too
    [grant] = [r for r in change.records if isinstance(r, Grant)]
    assert (grant.id, grant.organization_id, grant.limits) == ("grt_9", "org_bank", limits)
    assert halt.model_copy(update={"state": "superseded"}) in change.records


# --- refusing access and revoking a grant --------------------------------------------------------


def refuse(urgent: bool, **kw: Any) -> Change:
    args: dict[str, Any] = {
        "request": REQUEST,
        "model": MODEL,
        "decider": REVIEWER,
        "reasons": "Fraud analysis does not need this model.",
        "urgent": urgent,
        "hearing_id": "hrg_1",
        "framework": FRAMEWORK,
        "now": NOW,
    }
    args.update(kw)
    return refuse_access(**args)


def test_a_refusal_not_urgent_is_only_proposed_until_its_hearing() -> None:
    change = refuse(False)
    assert change.records[0] == REQUEST.model_copy(
        update={
            "state": "refusal_proposed", "reasons": "Fraud analysis does not need this model.",
            "decided_by": REVIEWER.id, "decided_at": NOW,
        }
    )  # fmt: skip
    assert change.records[1] == Hearing(
        id="hrg_1", act="access_refusal", act_id="acr_1", model_id="mdl_1",
        organization_ids=("org_bank",), grounds="Fraud analysis does not need this model.",
        urgent=False, opened_by=REVIEWER.id, opened_at=NOW, hold_by=NOW + 10 * DAY,
    )  # fmt: skip
    assert change.events[0] == event(
        "access.refusal_proposed",
        "acr_1",
        {"organization": "org_bank", "hearing": "hrg_1"},
        actor=REVIEWER.id,
    )
    assert [e.kind for e in change.events] == ["access.refusal_proposed", "hearing.opened"]


def test_an_urgent_refusal_takes_effect_at_once_and_its_hearing_follows() -> None:
    change = refuse(True)
    assert change.records[0].state == "refused"  # type: ignore[attr-defined]
    assert change.records[1].urgent is True  # type: ignore[attr-defined]
    assert [e.kind for e in change.events] == ["access.refused", "hearing.opened"]


def revoke(urgent: bool, **kw: Any) -> Change:
    args: dict[str, Any] = {
        "grant": GRANT,
        "admin": CHIEF,
        "grounds": "The bank broke its conditions.",
        "urgent": urgent,
        "hearing_id": "hrg_1",
        "hearing_open": False,
        "framework": FRAMEWORK,
        "now": NOW,
    }
    args.update(kw)
    return revoke_access(**args)


def test_a_revocation_not_urgent_leaves_the_grant_active_until_its_hearing() -> None:
    change = revoke(False)
    assert change.records == (
        Hearing(
            id="hrg_1", act="grant_revocation", act_id="grt_1", model_id="mdl_1",
            organization_ids=("org_bank",), grounds="The bank broke its conditions.",
            urgent=False, opened_by=CHIEF.id, opened_at=NOW, hold_by=NOW + 10 * DAY,
        ),
    )  # fmt: skip
    assert [e.kind for e in change.events] == ["hearing.opened"]


def test_an_urgent_revocation_ends_the_grant_at_once_and_its_hearing_follows() -> None:
    change = revoke(True)
    assert change.records[0] == GRANT.model_copy(
        update={"state": "revoked", "revoked_by": CHIEF.id, "revoked_at": NOW}
    )
    assert change.events[0] == Event(
        kind="grant.revoked", subject="grt_1", model_id="mdl_1", actor=CHIEF.id, at=NOW
    )
    assert change.records[1].urgent is True  # type: ignore[attr-defined]


def test_only_an_admin_revokes_an_active_grant_with_no_hearing_already_open() -> None:
    with pytest.raises(Forbidden) as role:
        revoke(True, admin=REVIEWER)
    assert str(role.value) == "this needs the admin role; Rita Reviewer has reviewer"
    for state in ("revoked", "expired"):
        with pytest.raises(Conflict) as gone:
            revoke(True, grant=GRANT.model_copy(update={"state": state}))
        assert str(gone.value) == f"grant grt_1 is {state}"
    with pytest.raises(Conflict) as open_:
        revoke(False, hearing_open=True)
    assert str(open_.value) == "a hearing on revoking grant grt_1 is already open"


# --- a hearing's outcome on a directive ----------------------------------------------------------


def test_no_outcome_is_given_that_the_hearing_refuses() -> None:
    with pytest.raises(Conflict, match="the date passed with no outcome, so the act lapses"):
        close("confirm", HeardAct(MODEL, directive=directive()), now=NOW + SECOND)
    with pytest.raises(Forbidden, match="this needs the admin role"):
        close("revoke", HeardAct(MODEL, directive=directive()), closer=REVIEWER)


def test_a_confirmed_directive_takes_effect_as_ordered_and_supersedes_those_in_force() -> None:
    old = directive(id="dir_0", action="restrict", scope=Scope(groups=("t1",)), state="active")
    limits = Limits(requests_per_minute=5)
    proposed = directive(action="restrict", scope=Scope(organizations=("org_bank",)), limits=limits)
    change = close("confirm", HeardAct(MODEL, directive=proposed, active=(old,)))
    heard = hearing()
    effective = proposed.model_copy(
        update={
            "state": "active", "issued_by": "prn_chief", "issued_at": NOW,
            "hearing_date": NOW + 10 * DAY, "sunset_at": NOW + 60 * DAY,
        }
    )  # fmt: skip
    assert change.records[:4] == (
        closed_hearing(heard, "confirm"),
        effective,
        old.model_copy(update={"state": "superseded"}),
        Grant(
            id="grt_n1", organization_id="org_bank", model_id="mdl_1", limits=limits,
            origin="dir_1", granted_by=ADMIN.id, granted_at=NOW, expires_at=NOW + 60 * DAY,
        ),
    )  # fmt: skip
    assert change.events[0] == closed_event(heard, "confirm")
    assert change.events[1].kind == "directive.issued"


def test_a_confirmed_urgent_directive_simply_stands() -> None:
    change = close("confirm", HeardAct(MODEL, directive=directive(state="active", urgent=True)))
    assert change.records == (closed_hearing(hearing(), "confirm"),)


def test_a_revoked_directive_is_withdrawn_or_undone() -> None:
    for state in ("proposed", "active"):
        before = directive(state=state)
        change = close("revoke", HeardAct(MODEL, directive=before))
        assert change.records == (
            closed_hearing(hearing(), "revoke"),
            before.model_copy(update={"state": "revoked"}),
        )
        assert change.events[1] == event(
            "directive.revoked", "dir_1", {"hearing": "hrg_1", "was": state}
        )


def test_a_modified_directive_becomes_a_restriction_to_the_new_scope() -> None:
    long = "g" * 20_000
    proposed = directive(grounds=long)
    scope = Scope(organizations=("org_bank",), jurisdictions=("DE",))
    limits = Limits(requests_per_minute=7)
    change = close("modify", HeardAct(MODEL, directive=proposed), scope=scope, limits=limits)
    heard = hearing()
    assert change.records[0] == closed_hearing(
        heard, "modify", "dir_n1", scope=scope, limits=limits
    )
    assert change.events[0] == closed_event(heard, "modify", "dir_n1")
    restriction = change.records[1]
    assert restriction == Directive(
        id="dir_n1", model_id="mdl_1", action="restrict",
        grounds=("Modified after hearing hrg_1: " + long)[:20_000], scope=scope,
        issued_by=ADMIN.id, issued_at=NOW, hearing_date=NOW + 10 * DAY, sunset_at=NOW + 60 * DAY,
        hearing_id="hrg_1", limits=limits,
    )  # fmt: skip
    assert change.records[2:] == (
        Grant(
            id="grt_n2", organization_id="org_bank", model_id="mdl_1", jurisdictions=("DE",),
            limits=limits, origin="dir_n1", granted_by=ADMIN.id, granted_at=NOW,
            expires_at=NOW + 60 * DAY,
        ),
        proposed.model_copy(update={"state": "superseded"}),
    )  # fmt: skip
    assert change.events[-1] == event("directive.superseded", "dir_1", {"by": "dir_n1"})


def test_a_modified_urgent_directive_is_superseded_as_any_directive_in_force() -> None:
    halt = directive(state="active", urgent=True)
    scope = Scope(groups=("t2",))
    change = close("modify", HeardAct(MODEL, directive=halt, active=(halt,)), scope=scope)
    assert change.records[2:] == (halt.model_copy(update={"state": "superseded"}),)
    assert [e.kind for e in change.events] == [
        "hearing.closed",
        "directive.issued",
        "directive.superseded",
    ]
    assert change.records[1].__dict__["grounds"] == (
        "Modified after hearing hrg_1: The model helps with intrusion."
    )


def test_a_modified_directive_needs_a_scope_limits_alone_will_not_do() -> None:
    with pytest.raises(InvalidInput) as error:
        close(
            "modify", HeardAct(MODEL, directive=directive()), scope=Scope(),
            limits=Limits(requests_per_minute=7),
        )  # fmt: skip
    assert str(error.value) == "scope: a modified directive needs the scope it is to have"


def test_a_hearing_cannot_act_on_a_directive_no_longer_proposed_or_in_force() -> None:
    for state in ("superseded", "lapsed", "revoked", "set_aside", "expired"):
        with pytest.raises(Conflict) as error:
            close("revoke", HeardAct(MODEL, directive=directive(state=state)))
        assert str(error.value) == f"directive dir_1 is {state}; the hearing cannot act on it"


def test_an_outcome_needs_the_record_of_the_act_heard() -> None:
    for act, act_id in (
        ("directive", "dir_1"),
        ("access_refusal", "acr_1"),
        ("grant_revocation", "grt_1"),
    ):
        with pytest.raises(ValueError) as error:
            close("revoke", HeardAct(MODEL), heard=hearing(act, act_id))
        assert str(error.value) == f"hearing hrg_1 needs its {act} record"
        with pytest.raises(ValueError) as missed:
            miss_hearing(hearing(act, act_id, hold_by=NOW), HeardAct(MODEL), NOW)
        assert str(missed.value) == f"hearing hrg_1 needs its {act} record"


# --- a hearing's outcome on a refusal of access --------------------------------------------------

PROPOSED = REQUEST.model_copy(
    update={
        "state": "refusal_proposed", "reasons": "Not needed.", "decided_by": REVIEWER.id,
        "decided_at": NOW - 2 * DAY,
    }
)  # fmt: skip
REFUSED = PROPOSED.model_copy(update={"state": "refused"})
OPEN: dict[str, Any] = {"status": APPROVED, "organization": BANK}


def test_a_confirmed_refusal_takes_effect_and_an_urgent_one_simply_stands() -> None:
    heard = hearing("access_refusal", "acr_1")
    change = close("confirm", HeardAct(MODEL, request=PROPOSED), heard)
    assert change.records == (
        closed_hearing(heard, "confirm"),
        PROPOSED.model_copy(update={"state": "refused", "decided_at": NOW}),
    )
    assert change.events[1] == event(
        "access.refused", "acr_1", {"organization": "org_bank", "hearing": "hrg_1"}
    )
    stands = close("confirm", HeardAct(MODEL, request=REFUSED), heard)
    assert stands.records == (closed_hearing(heard, "confirm"),)


def test_a_revoked_refusal_reopens_the_request() -> None:
    heard = hearing("access_refusal", "acr_1")
    for before in (PROPOSED, REFUSED):
        change = close("revoke", HeardAct(MODEL, request=before), heard)
        assert change.records == (
            closed_hearing(heard, "revoke"),
            before.model_copy(
                update={"state": "pending", "reasons": None, "decided_by": None, "decided_at": None}
            ),
        )
        assert change.events[1] == event(
            "access.reopened", "acr_1", {"hearing": "hrg_1", "organization": "org_bank"}
        )


def test_a_modified_refusal_becomes_a_grant_within_the_new_scope() -> None:
    heard = hearing("access_refusal", "acr_1")
    scope, limits = Scope(jurisdictions=("DE",)), Limits(requests_per_minute=7)
    change = close(
        "modify", HeardAct(MODEL, request=PROPOSED, **OPEN), heard, scope=scope, limits=limits
    )
    grant = Grant(
        id="grt_n1", organization_id="org_bank", model_id="mdl_1", channels=("api",),
        use_cases=("fraud-analysis",), jurisdictions=("DE",), limits=limits, origin="acr_1",
        granted_by=ADMIN.id, granted_at=NOW,
    )  # fmt: skip
    assert change.records == (
        closed_hearing(heard, "modify", "grt_n1", scope=scope, limits=limits),
        PROPOSED.model_copy(
            update={
                "state": "granted", "decided_by": ADMIN.id, "decided_at": NOW,
                "grant_id": "grt_n1",
            }
        ),
        grant,
    )  # fmt: skip
    assert change.events[1:] == (
        event("access.granted", "acr_1", {"grant": "grt_n1", "hearing": "hrg_1"}),
        event("grant.issued", "grt_n1", {"origin": "acr_1", "hearing": "hrg_1"}),
    )
    # limits alone: the request's own channels and countries, within the new limits
    only_limits = close(
        "modify", HeardAct(MODEL, request=REFUSED, **OPEN), heard, limits=limits
    ).records[2]
    assert (only_limits.channels, only_limits.jurisdictions, only_limits.limits) == (  # type: ignore[attr-defined]
        ("api",),
        ("GB",),
        limits,
    )
    no_limits = close(
        "modify", HeardAct(MODEL, request=REFUSED, **OPEN), heard, scope=Scope(channels=("api",))
    ).records[2]
    assert no_limits.limits == Limits()  # type: ignore[attr-defined]


def test_a_modified_refusal_opens_nothing_the_model_does_not_offer_or_its_decision_forbids() -> (
    None
):
    heard = hearing("access_refusal", "acr_1")
    with pytest.raises(InvalidInput) as channel:
        close(
            "modify", HeardAct(MODEL, request=PROPOSED, **OPEN), heard,
            scope=Scope(channels=("app", "api", "batch")),
        )  # fmt: skip
    assert str(channel.value) == "scope.channels: model frontier-1 is not offered on app, batch"
    app_only = REQUEST.model_copy(update={"channels": ("app",), "state": "refused"})
    with pytest.raises(InvalidInput, match="not offered on app"):
        close(
            "modify", HeardAct(MODEL, request=app_only, **OPEN), heard,
            limits=Limits(requests_per_minute=7),
        )  # fmt: skip
    with pytest.raises(Conflict) as halted:
        close(
            "modify", HeardAct(MODEL, request=PROPOSED, status=HALTED, organization=BANK),
            heard, scope=Scope(jurisdictions=("DE",)),
        )  # fmt: skip
    assert str(halted.value) == "model frontier-1 is halted by a directive; no grant can open it"
    # the request's own countries are checked when the scope names none: GB is t1, a cell a
    # grant can open; a bank in a country outside the table is refused
    outside = APPROVED.model_copy(update={"tiers": {"t2": "public"}})
    german = BANK.model_copy(update={"jurisdiction": "DE"})
    with pytest.raises(Conflict, match=r"GB \(group t1\) is not in the decision's table"):
        close(
            "modify", HeardAct(MODEL, request=PROPOSED, status=outside, organization=german),
            heard, limits=Limits(requests_per_minute=7),
        )  # fmt: skip
    for missing in ({"status": APPROVED}, {"organization": BANK}):
        with pytest.raises(ValueError) as error:
            close(
                "modify", HeardAct(MODEL, request=PROPOSED, **missing), heard,
                scope=Scope(jurisdictions=("DE",)),
            )  # fmt: skip
        assert str(error.value) == (
            "an outcome that opens access needs the model's status and organization"
        )


def test_a_hearing_cannot_act_on_a_request_no_longer_refused() -> None:
    heard = hearing("access_refusal", "acr_1")
    for state in ("pending", "granted"):
        with pytest.raises(Conflict) as error:
            close(
                "confirm",
                HeardAct(MODEL, request=REQUEST.model_copy(update={"state": state})),
                heard,
            )
        assert str(error.value) == f"access request acr_1 is {state}; nothing to act on"


# --- a hearing's outcome on a revocation ---------------------------------------------------------

REVOKED = GRANT.model_copy(
    update={"state": "revoked", "revoked_by": "prn_chief", "revoked_at": NOW - 5 * DAY}
)


def test_a_confirmed_revocation_ends_the_grant_and_an_urgent_one_simply_stands() -> None:
    heard = hearing("grant_revocation", "grt_1")
    change = close("confirm", HeardAct(MODEL, grant=GRANT), heard)
    # revoked by whoever ordered it, on the closer's word
    assert change.records == (
        closed_hearing(heard, "confirm"),
        GRANT.model_copy(update={"state": "revoked", "revoked_by": "prn_chief", "revoked_at": NOW}),
    )
    assert change.events[1] == Event(
        kind="grant.revoked", subject="grt_1", model_id="mdl_1", actor=ADMIN.id, at=NOW
    )
    stands = close("confirm", HeardAct(MODEL, grant=REVOKED), heard)
    assert stands.records == (closed_hearing(heard, "confirm"),)


def test_a_revoked_revocation_reinstates_the_grant_or_leaves_it_active() -> None:
    heard = hearing("grant_revocation", "grt_1")
    change = close("revoke", HeardAct(MODEL, grant=REVOKED), heard)
    assert change.records == (
        closed_hearing(heard, "revoke"),
        GRANT.model_copy(update={"revoked_by": None, "revoked_at": None}),
    )
    assert change.events[1] == event("grant.reinstated", "grt_1", {"hearing": "hrg_1"})
    untouched = close("revoke", HeardAct(MODEL, grant=GRANT), heard)
    assert untouched.records == (closed_hearing(heard, "revoke"),)


def test_a_modified_revocation_continues_the_grant_within_the_new_scope() -> None:
    heard = hearing("grant_revocation", "grt_1")
    scope, limits = Scope(jurisdictions=("DE",)), Limits(requests_per_minute=7)
    change = close(
        "modify", HeardAct(MODEL, grant=REVOKED, **OPEN), heard, scope=scope, limits=limits
    )
    # the grant keeps its id: the outcome made no new record
    assert change.records == (
        closed_hearing(heard, "modify", scope=scope, limits=limits),
        GRANT.model_copy(update={"jurisdictions": ("DE",), "limits": limits}),
    )
    assert change.events[1] == event(
        "grant.modified", "grt_1", {"hearing": "hrg_1", "reinstated": True}
    )
    narrowed = close("modify", HeardAct(MODEL, grant=GRANT), heard, scope=Scope(channels=("api",)))
    assert narrowed.records[1] == GRANT
    assert narrowed.events[1].data == {"hearing": "hrg_1", "reinstated": False}


def test_a_modified_revocation_opens_no_country_or_channel_the_model_does_not() -> None:
    """Regression: a modified revocation could continue a grant on a channel the model is not
    offered on (the refusal's outcome and the access request both refuse it)."""
    heard = hearing("grant_revocation", "grt_1")
    with pytest.raises(InvalidInput) as channel:
        close("modify", HeardAct(MODEL, grant=REVOKED), heard, scope=Scope(channels=("app",)))
    assert str(channel.value) == "scope.channels: model frontier-1 is not offered on app"
    both = MODEL.model_copy(update={"channels": ("api", "app")})
    wide = REVOKED.model_copy(update={"channels": ("api", "app")})
    narrowed = close("modify", HeardAct(both, grant=wide), heard, scope=Scope(channels=("app",)))
    assert narrowed.records[1].channels == ("app",)  # type: ignore[attr-defined]
    with pytest.raises(Conflict) as halted:
        close(
            "modify", HeardAct(MODEL, grant=REVOKED, status=HALTED, organization=BANK), heard,
            scope=Scope(jurisdictions=("DE",)),
        )  # fmt: skip
    assert str(halted.value) == "model frontier-1 is halted by a directive; no grant can open it"


def test_a_hearing_cannot_act_on_an_expired_grant() -> None:
    heard = hearing("grant_revocation", "grt_1")
    with pytest.raises(Conflict) as error:
        close("revoke", HeardAct(MODEL, grant=GRANT.model_copy(update={"state": "expired"})), heard)
    assert str(error.value) == "grant grt_1 is expired; the hearing cannot act on it"


# --- a hearing whose date passes -----------------------------------------------------------------


def test_a_missed_hearing_takes_the_directive_with_it() -> None:
    due = hearing(hold_by=NOW)
    for state in ("proposed", "active"):
        before = directive(state=state)
        change = miss_hearing(due, HeardAct(MODEL, directive=before), NOW)
        assert change.records == (
            due.model_copy(update={"state": "lapsed"}),
            before.model_copy(update={"state": "lapsed"}),
        )
        assert change.events[1] == event(
            "directive.lapsed",
            "dir_1",
            {"hearing": "hrg_1", "hold_by": NOW.isoformat(), "was": state},
            actor=SCHEDULER,
        )
    gone = miss_hearing(due, HeardAct(MODEL, directive=directive(state="superseded")), NOW)
    assert gone.records == (due.model_copy(update={"state": "lapsed"}),)
    with pytest.raises(Conflict, match="hearing hrg_1 does not lapse now"):
        miss_hearing(due, HeardAct(MODEL, directive=directive()), NOW - SECOND)


def test_a_missed_hearing_reopens_the_refused_request() -> None:
    due = hearing("access_refusal", "acr_1", hold_by=NOW)
    for before in (PROPOSED, REFUSED):
        change = miss_hearing(due, HeardAct(MODEL, request=before), NOW)
        assert change.records[1] == before.model_copy(
            update={"state": "pending", "reasons": None, "decided_by": None, "decided_at": None}
        )
        assert change.events[1] == event(
            "access.reopened",
            "acr_1",
            {"hearing": "hrg_1", "hold_by": NOW.isoformat(), "organization": "org_bank"},
            actor=SCHEDULER,
        )
    granted = REQUEST.model_copy(update={"state": "granted"})
    assert len(miss_hearing(due, HeardAct(MODEL, request=granted), NOW).records) == 1


def test_a_missed_hearing_reinstates_the_revoked_grant() -> None:
    due = hearing("grant_revocation", "grt_1", hold_by=NOW)
    change = miss_hearing(due, HeardAct(MODEL, grant=REVOKED), NOW)
    assert change.records[1] == GRANT.model_copy(update={"revoked_by": None, "revoked_at": None})
    assert change.events[1] == event(
        "grant.reinstated", "grt_1", {"hearing": "hrg_1", "hold_by": NOW.isoformat()}, SCHEDULER
    )
    # a revocation that was not urgent never took effect: the grant stays as it is
    assert miss_hearing(due, HeardAct(MODEL, grant=GRANT), NOW).records == (
        due.model_copy(update={"state": "lapsed"}),
    )
