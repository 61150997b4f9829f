"""Appeal panels' rules: who may sit, the majority's ruling, what it does, the deadline (issue 16).

The acts are pure functions: each test builds the records in memory and checks the refusal whole
(its type and its sentence) or the Change whole. The panel's members are excluded when they took
part in the act appealed or belong to (or declared a conflict with) an organization concerned;
the ruling is the majority's once every member has voted; an overturned act is set aside, an
upheld one stands; a deadline passed is the framework's consequence from that very second.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

import pytest

from clearance.errors import Conflict, Forbidden, InvalidInput
from clearance.register import (
    Appeal,
    AppealedAct,
    Principal,
    Reason,
    Vote,
    appoint_panel,
    majority,
    miss_panel_deadline,
    settle_appeal,
    vote_on_appeal,
)
from clearance.register._events import SCHEDULER, Change
from tests import rules_data
from tests.framework_data import load, small
from tests.rules_data import ADMIN, DAY, NOW, SECOND

# the panel's deadline and the application's review clock of different lengths
PROCEDURE = {"appeal_panel_size": 3, "appeal_decision_days": 45, "decision_days": 70}
FRAMEWORK = load(small(procedure=PROCEDURE))
ESCALATE = load(small(procedure={**PROCEDURE, "appeal_on_missed": "escalate"}))
DIGEST = "d" * 64


def member(n: int, **kw: Any) -> Principal:
    args: dict[str, Any] = {
        "id": f"prn_m{n}",
        "organization_id": "org_authority",
        "name": f"Member {n}",
        "roles": ("appeal_panel",),
        "created_at": NOW,
    }
    args.update(kw)
    return Principal(**args)


M1, M2, M3, M4 = member(1), member(2), member(3), member(4)
APPLICATION = rules_data.application(
    framework_digest=DIGEST, filed_at=NOW - 100 * DAY, deadline=NOW - 10 * DAY,
    reviewer_id="prn_rev", state="decided", decision_id="dec_1", excluded_reviewers=("prn_zed",),
)  # fmt: skip
DECISION = rules_data.decision(
    outcome="denied", tier="halted", jurisdictions=(),
    reasons=(Reason(text="The evidence does not rule out c2."),), assessed_tier="internal",
    decided_by="prn_chief", decided_at=NOW - 10 * DAY, valid_until=NOW + 355 * DAY,
    appeal_deadline=NOW + 11 * DAY,
)  # fmt: skip
DIRECTIVE = rules_data.directive(
    grounds="c2 uplift in the field.", issued_at=NOW - 5 * DAY, hearing_date=NOW + 9 * DAY,
    sunset_at=NOW + 85 * DAY,
)  # fmt: skip
REQUEST = rules_data.access_request(
    filed_at=NOW - 20 * DAY, state="refused", reasons="Not needed.", decided_by="prn_rev",
    decided_at=NOW - 15 * DAY, excluded=("prn_zed",),
)  # fmt: skip
GRANT = rules_data.grant(
    use_cases=("fraud-analysis",), granted_at=NOW - 30 * DAY, state="revoked",
    revoked_by="prn_admin", revoked_at=NOW - 3 * DAY,
)  # fmt: skip
appeal = partial(
    rules_data.appeal, decision_id="dec_1", decide_by=NOW + SECOND, act="decision", act_id="dec_1",
    excluded=("prn_chief", "prn_rev"),
)  # fmt: skip


def act_appeal(act: str, act_id: str, **kw: Any) -> Appeal:
    return appeal(decision_id=None, act=act, act_id=act_id, organization_id="org_bank", **kw)


def vote(n: int, choice: str, at: dt.datetime = NOW - DAY) -> Vote:
    return Vote(member=f"prn_m{n}", vote=choice, text=f"Reasons of member {n}.", at=at)


PANEL = ("prn_m1", "prn_m2", "prn_m3")


def appoint(**kw: Any) -> Change:
    args: dict[str, Any] = {
        "appeal": appeal(),
        "admin": ADMIN,
        "members": (M3, M1, M2),
        "interested": ("org_dev", "org_bank"),
        "framework": FRAMEWORK,
        "now": NOW,
    }
    args.update(kw)
    return appoint_panel(**args)


def cast(**kw: Any) -> Change:
    args: dict[str, Any] = {
        "appeal": appeal(panel=PANEL),
        "member": M1,
        "vote": "overturned",
        "text": "Reasons of member 1.",
        "act": AppealedAct(decision=DECISION, application=APPLICATION),
        "framework": FRAMEWORK,
        "now": NOW,
    }
    args.update(kw)
    return vote_on_appeal(**args)


def settle(ruling: str, appealed: Appeal, act: AppealedAct) -> Change:
    return settle_appeal(
        appeal=appealed, ruling=ruling, text="The ruling.", act=act,  # type: ignore[arg-type]
        framework=FRAMEWORK, actor="prn_m1", now=NOW,
    )  # fmt: skip


# --- composing the panel ---------------------------------------------------------------------


def test_an_admin_appoints_a_panel_of_the_framework_s_size() -> None:
    change = appoint()
    assert change.records == (appeal(panel=PANEL),)
    [event] = change.events
    assert event.model_dump() == {
        "kind": "appeal.panel_appointed",
        "subject": "apl_1",
        "model_id": "mdl_1",
        "actor": ADMIN.id,
        "at": NOW,
        "data": {"panel": list(PANEL), "decide_by": (NOW + SECOND).isoformat()},
    }


def test_only_an_admin_appoints_a_panel() -> None:
    with pytest.raises(Forbidden) as error:
        appoint(admin=M4)
    assert str(error.value) == "this needs the admin role; Member 4 has appeal_panel"


def test_a_ruled_appeal_or_a_panel_that_started_voting_is_not_recomposed() -> None:
    for state in ("upheld", "overturned", "dismissed"):
        with pytest.raises(Conflict) as ruled:
            appoint(appeal=appeal(state=state))
        assert str(ruled.value) == "appeal apl_1 was already ruled on"
    with pytest.raises(Conflict) as voting:
        appoint(appeal=appeal(panel=PANEL, votes=(vote(1, "upheld"),)))
    assert str(voting.value) == "the panel of appeal apl_1 has started voting; it cannot change"


def test_a_panel_has_exactly_the_framework_s_number_of_different_members() -> None:
    for members, given in (((M1, M2), 2), ((M1, M2, M3, M4), 4), ((M1, M2, M2), 2)):
        with pytest.raises(InvalidInput) as error:
            appoint(members=members)
        assert str(error.value) == (
            f"members: the framework's appeal panels have 3 different member(s); {given} given"
        )
    # three different members named four times
    with pytest.raises(InvalidInput) as repeated:
        appoint(members=(M1, M2, M3, M3))
    assert str(repeated.value) == (
        "members: the framework's appeal panels have 3 different member(s); 3 given"
    )


def test_every_member_holds_the_appeal_panel_role() -> None:
    reviewer = member(3, name="Rita Reviewer", roles=("reviewer",))
    with pytest.raises(Forbidden) as error:
        appoint(members=(M1, M2, reviewer))
    assert str(error.value) == "this needs the appeal_panel role; Rita Reviewer has reviewer"


def test_who_took_part_in_the_act_appealed_may_not_sit() -> None:
    chief = member(9, id="prn_chief", name="Carl Chief")
    with pytest.raises(Forbidden) as error:
        appoint(members=(M1, M2, chief))
    assert str(error.value) == (
        "Carl Chief took part in the decision appealed, or sat on a panel that let its deadline "
        "pass, and cannot hear appeal apl_1"
    )
    refusal = act_appeal("access_refusal", "acr_1", excluded=("prn_chief",))
    with pytest.raises(Forbidden) as act:
        appoint(appeal=refusal, members=(chief, M1, M2))
    assert str(act.value) == (
        "Carl Chief took part in the access refusal appealed, or sat on a panel that let its "
        "deadline pass, and cannot hear appeal apl_1"
    )


def test_no_member_belongs_to_or_declared_a_conflict_with_an_organization_concerned() -> None:
    banker = member(3, organization_id="org_bank")
    with pytest.raises(Forbidden) as own:
        appoint(members=(M1, M2, banker))
    assert str(own.value) == "Member 3 may not act on appeal apl_1: it is their own organization's"
    conflicted = member(3, conflicts=("org_bank",))
    with pytest.raises(Forbidden) as conflict:
        appoint(members=(M1, M2, conflicted))
    assert str(conflict.value) == (
        "Member 3 declared a conflict of interest with the organization behind appeal apl_1"
    )
    # a conflict with an organization not concerned does not exclude
    other = member(3, conflicts=("org_other",))
    assert appoint(members=(M1, M2, other)).records[0].panel == PANEL  # type: ignore[attr-defined]


# --- the majority --------------------------------------------------------------------------------


def test_the_ruling_is_the_majority_s_once_every_member_has_voted() -> None:
    assert majority(appeal()) is None
    assert majority(appeal(panel=PANEL, votes=(vote(1, "overturned"), vote(2, "overturned")))) is (
        None
    )
    for votes, ruling in (
        (("overturned", "overturned", "upheld"), "overturned"),
        (("upheld", "overturned", "overturned"), "overturned"),
        (("overturned", "overturned", "overturned"), "overturned"),
        (("upheld", "overturned", "upheld"), "upheld"),
        (("upheld", "upheld", "upheld"), "upheld"),
    ):
        cast_votes = tuple(vote(n, v) for n, v in enumerate(votes, 1))
        assert majority(appeal(panel=PANEL, votes=cast_votes)) == ruling, votes


def test_a_tied_panel_sets_nothing_aside() -> None:
    # the framework's panels are odd, so a full panel never ties; were one to (a record from
    # before that rule), the act appealed stands: no majority overturned it
    tied = appeal(panel=("prn_m1", "prn_m2"), votes=(vote(1, "overturned"), vote(2, "upheld")))
    assert majority(tied) == "upheld"


def test_a_member_votes_once_and_a_vote_short_of_the_panel_rules_nothing() -> None:
    change = cast(appeal=appeal(panel=PANEL, votes=(vote(2, "upheld"),)))
    assert change.records == (
        appeal(panel=PANEL, votes=(vote(2, "upheld"), vote(1, "overturned", NOW))),
    )
    [event] = change.events
    assert event.model_dump() == {
        "kind": "appeal.vote",
        "subject": "apl_1",
        "model_id": "mdl_1",
        "actor": "prn_m1",
        "at": NOW,
        "data": {"vote": "overturned", "votes": 2, "panel": 3},
    }
    with pytest.raises(Conflict) as twice:
        cast(appeal=appeal(panel=PANEL, votes=(vote(1, "upheld"),)))
    assert str(twice.value) == "Member 1 has already voted on appeal apl_1"


def test_only_the_panel_of_an_appeal_not_yet_ruled_on_votes() -> None:
    with pytest.raises(Conflict) as ruled:
        cast(appeal=appeal(panel=PANEL, state="upheld"))
    assert str(ruled.value) == "appeal apl_1 was already ruled on (upheld)"
    with pytest.raises(Conflict) as no_panel:
        cast(appeal=appeal())
    assert str(no_panel.value) == "appeal apl_1 has no panel yet"
    with pytest.raises(Conflict) as outsider:
        cast(member=M4)
    assert str(outsider.value) == "Member 4 is not on the panel of appeal apl_1"


def test_the_last_vote_rules_with_the_majority_s_reasons_and_every_vote_recorded() -> None:
    before = (vote(2, "overturned"), vote(3, "upheld"))
    change = cast(appeal=appeal(panel=PANEL, votes=before))
    votes = (*before, vote(1, "overturned", NOW))
    ruled = appeal(
        panel=PANEL, votes=votes, state="overturned", ruled_by="prn_m1", ruled_at=NOW,
        ruling=(
            "prn_m2 (overturned): Reasons of member 2.\n\n"
            "prn_m1 (overturned): Reasons of member 1."
        ),
    )  # fmt: skip
    assert change.records[0] == ruled
    assert [e.kind for e in change.events] == ["appeal.vote", "appeal.ruled", "decision.set_aside"]
    assert change.events[1].model_dump() == {
        "kind": "appeal.ruled",
        "subject": "apl_1",
        "model_id": "mdl_1",
        "actor": "prn_m1",
        "at": NOW,
        "data": {
            "act": "decision",
            "act_id": "dec_1",
            "decision": "dec_1",
            "ruling": "overturned",
            "votes": [
                {"member": "prn_m2", "vote": "overturned"},
                {"member": "prn_m3", "vote": "upheld"},
                {"member": "prn_m1", "vote": "overturned"},
            ],
        },
    }
    # the minority's vote is outvoted: the decision stands
    upheld = cast(appeal=appeal(panel=PANEL, votes=(vote(2, "upheld"), vote(3, "upheld"))))
    assert upheld.records[0].state == "upheld"  # type: ignore[attr-defined]
    assert upheld.records[0].ruling == (  # type: ignore[attr-defined]
        "prn_m2 (upheld): Reasons of member 2.\n\nprn_m3 (upheld): Reasons of member 3."
    )
    assert upheld.records[1] == DECISION.model_copy(update={"final": True})


# --- what a ruling does ----------------------------------------------------------------------


def test_an_upheld_decision_becomes_final() -> None:
    change = settle(
        "upheld", appeal(decision_id="dec_1", act_id=None), AppealedAct(DECISION, APPLICATION)
    )
    assert change.records[1:] == (DECISION.model_copy(update={"final": True}),)
    assert change.events[0].data["act_id"] == "dec_1"
    assert change.events[1].model_dump() == {
        "kind": "decision.final",
        "subject": "dec_1",
        "model_id": "mdl_1",
        "actor": "prn_m1",
        "at": NOW,
        "data": {"appeal": "apl_1"},
    }


def test_an_overturned_decision_is_set_aside_and_reviewed_again_by_someone_else() -> None:
    change = settle("overturned", appeal(), AppealedAct(DECISION, APPLICATION))
    assert change.records[0] == appeal(
        state="overturned", ruling="The ruling.", ruled_by="prn_m1", ruled_at=NOW
    )
    assert change.records[1:] == (
        DECISION.model_copy(update={"final": True, "set_aside": True}),
        APPLICATION.model_copy(
            update={
                "state": "under_review", "decision_id": None, "reviewer_id": None,
                "deadline": NOW + 70 * DAY,
                "excluded_reviewers": ("prn_chief", "prn_rev", "prn_zed"),
            }
        ),
    )  # fmt: skip
    assert change.events[1].model_dump() == {
        "kind": "decision.set_aside",
        "subject": "dec_1",
        "model_id": "mdl_1",
        "actor": "prn_m1",
        "at": NOW,
        "data": {"appeal": "apl_1", "application": "app_1"},
    }
    # a deemed decision, with no reviewer assigned: nobody new is excluded
    deemed = DECISION.model_copy(update={"decided_by": None, "deemed": True})
    unassigned = APPLICATION.model_copy(update={"reviewer_id": None})
    reopened = settle("overturned", appeal(), AppealedAct(deemed, unassigned)).records[2]
    assert reopened.excluded_reviewers == ("prn_zed",)  # type: ignore[attr-defined]


def test_a_ruling_on_a_decision_needs_the_decision_and_its_application() -> None:
    for act in (AppealedAct(decision=DECISION), AppealedAct(application=APPLICATION)):
        with pytest.raises(ValueError) as error:
            settle("upheld", appeal(), act)
        assert str(error.value) == "appeal apl_1 needs its decision and application"


def test_an_overturned_directive_is_set_aside_and_an_upheld_one_stands() -> None:
    appealed = act_appeal("directive", "dir_1")
    change = settle("overturned", appealed, AppealedAct(directive=DIRECTIVE))
    assert change.records[1:] == (DIRECTIVE.model_copy(update={"state": "set_aside"}),)
    assert change.events[0].data["act_id"] == "dir_1"
    assert change.events[1].model_dump() == {
        "kind": "directive.set_aside",
        "subject": "dir_1",
        "model_id": "mdl_1",
        "actor": "prn_m1",
        "at": NOW,
        "data": {"appeal": "apl_1"},
    }
    upheld = settle("upheld", appealed, AppealedAct(directive=DIRECTIVE))
    assert (upheld.records[1:], len(upheld.events)) == ((), 1)
    # a directive no longer active (expired, superseded) has nothing to set aside
    for state in ("expired", "superseded"):
        gone = DIRECTIVE.model_copy(update={"state": state})
        later = settle("overturned", appealed, AppealedAct(directive=gone))
        assert (later.records[1:], len(later.events)) == ((), 1)


def test_an_overturned_access_refusal_reopens_the_request_for_someone_else() -> None:
    appealed = act_appeal("access_refusal", "acr_1")
    change = settle("overturned", appealed, AppealedAct(request=REQUEST))
    assert change.records[1:] == (
        REQUEST.model_copy(
            update={
                "state": "pending", "reasons": None, "decided_by": None, "decided_at": None,
                "excluded": ("prn_rev", "prn_zed"),
            }
        ),
    )  # fmt: skip
    assert change.events[1].model_dump() == {
        "kind": "access.reopened",
        "subject": "acr_1",
        "model_id": "mdl_1",
        "actor": "prn_m1",
        "at": NOW,
        "data": {"appeal": "apl_1"},
    }
    undecided = REQUEST.model_copy(update={"decided_by": None})
    reopened = settle("overturned", appealed, AppealedAct(request=undecided)).records[1]
    assert reopened.excluded == ("prn_zed",)  # type: ignore[attr-defined]
    granted = REQUEST.model_copy(update={"state": "granted"})
    for ruling, request in (("upheld", REQUEST), ("overturned", granted)):
        nothing = settle(ruling, appealed, AppealedAct(request=request))
        assert (nothing.records[1:], len(nothing.events)) == ((), 1)


def test_an_overturned_revocation_reinstates_the_grant() -> None:
    appealed = act_appeal("grant_revocation", "grt_1")
    change = settle("overturned", appealed, AppealedAct(grant=GRANT))
    assert change.records[1:] == (
        GRANT.model_copy(update={"state": "active", "revoked_by": None, "revoked_at": None}),
    )
    assert change.events[1].model_dump() == {
        "kind": "grant.reinstated",
        "subject": "grt_1",
        "model_id": "mdl_1",
        "actor": "prn_m1",
        "at": NOW,
        "data": {"appeal": "apl_1"},
    }
    expired = GRANT.model_copy(update={"state": "expired"})
    for ruling, grant in (("upheld", GRANT), ("overturned", expired)):
        nothing = settle(ruling, appealed, AppealedAct(grant=grant))
        assert (nothing.records[1:], len(nothing.events)) == ((), 1)


def test_an_overturned_act_needs_its_own_record_not_another_kind() -> None:
    for act, given in (
        ("directive", AppealedAct(grant=GRANT)),
        ("access_refusal", AppealedAct(directive=DIRECTIVE)),
        ("grant_revocation", AppealedAct(request=REQUEST)),
    ):
        with pytest.raises(ValueError) as error:
            settle("overturned", act_appeal(act, "x_1"), given)
        assert str(error.value) == f"appeal apl_1 needs its {act} record"


# --- the panel's deadline --------------------------------------------------------------------


def test_a_missed_deadline_upholds_the_appeal_from_that_very_second() -> None:
    due = act_appeal("directive", "dir_1", decide_by=NOW, panel=PANEL, votes=(vote(1, "upheld"),))
    change = miss_panel_deadline(due, AppealedAct(directive=DIRECTIVE), FRAMEWORK, NOW)
    text = (
        f"The panel did not rule by its deadline ({NOW.isoformat()}); under the framework's "
        "procedure (appeal_on_missed: uphold_appeal) the appeal succeeds and the act is set aside."
    )
    assert change.records == (
        due.model_copy(
            update={"state": "overturned", "ruling": text, "ruled_by": SCHEDULER, "ruled_at": NOW}
        ),
        DIRECTIVE.model_copy(update={"state": "set_aside"}),
    )
    assert [(e.kind, e.actor) for e in change.events] == [
        ("appeal.ruled", SCHEDULER),
        ("directive.set_aside", SCHEDULER),
    ]
    for not_now in (
        (due, NOW - SECOND),
        (due.model_copy(update={"state": "upheld"}), NOW + DAY),
    ):
        with pytest.raises(Conflict) as error:
            miss_panel_deadline(not_now[0], AppealedAct(directive=DIRECTIVE), FRAMEWORK, not_now[1])
        assert str(error.value) == "appeal apl_1 is not overdue now"


def test_a_missed_deadline_on_a_decision_reopens_the_application_on_the_framework_s_clock() -> None:
    due = appeal(decide_by=NOW, panel=PANEL)
    change = miss_panel_deadline(due, AppealedAct(DECISION, APPLICATION), FRAMEWORK, NOW)
    assert change.records[0].state == "overturned"  # type: ignore[attr-defined]
    assert change.records[2].deadline == NOW + 70 * DAY  # type: ignore[attr-defined]


def test_a_missed_deadline_escalates_to_a_new_panel_without_the_old_one() -> None:
    due = appeal(decide_by=NOW, panel=("prn_m3", "prn_m4", "prn_a"), votes=(vote(3, "upheld"),),
                 escalations=1)  # fmt: skip
    change = miss_panel_deadline(due, AppealedAct(DECISION, APPLICATION), ESCALATE, NOW)
    assert change.records == (
        due.model_copy(
            update={
                "panel": (), "votes": (), "escalations": 2, "decide_by": NOW + 45 * DAY,
                "excluded": ("prn_a", "prn_chief", "prn_m3", "prn_m4", "prn_rev"),
            }
        ),
    )  # fmt: skip
    [event] = change.events
    assert event.model_dump() == {
        "kind": "appeal.escalated",
        "subject": "apl_1",
        "model_id": "mdl_1",
        "actor": SCHEDULER,
        "at": NOW,
        "data": {
            "missed": NOW.isoformat(),
            "decide_by": (NOW + 45 * DAY).isoformat(),
            "discharged": ["prn_m3", "prn_m4", "prn_a"],
        },
    }
    with pytest.raises(Conflict) as early:
        miss_panel_deadline(due, AppealedAct(DECISION, APPLICATION), ESCALATE, NOW - SECOND)
    assert str(early.value) == "appeal apl_1 is not overdue now"
