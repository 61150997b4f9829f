"""Appeals' rules: who may appeal what, within the window, once; lapse and finality (issue 16).

The acts are pure functions: each test builds the records in memory and checks the refusal whole
(its type and what its sentence names) or the Change whole. Boundaries: an appeal filed a second
before its window closes and at the moment it closes; a decision that lapses or becomes final at
that very second and not a second before.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from clearance.errors import Conflict, Forbidden
from clearance.register import (
    Appeal,
    Principal,
    Reason,
    close_appeal_window,
    file_act_appeal,
    file_appeal,
    lapse_decision,
)
from clearance.register._events import SCHEDULER, Change
from tests import rules_data
from tests.framework_data import load, small
from tests.rules_data import DAY, DEVELOPER, NOW, SECOND, application

# the window and the panel's deadline of different lengths, so that one read for the other shows
FRAMEWORK = load(small(procedure={"appeal_window_days": 21, "appeal_decision_days": 45}))
DIGEST = "c" * 64
APPLICATION = application(
    framework_digest=DIGEST, filed_at=NOW - 100 * DAY, deadline=NOW - 10 * DAY,
    reviewer_id="prn_rev", state="decided",
)  # fmt: skip
decision = partial(
    rules_data.decision, application_id=APPLICATION.id, outcome="denied", tier="halted",
    jurisdictions=(), reasons=(Reason(text="The evidence does not rule out c2."),),
    assessed_tier="internal", decided_by="prn_chief", decided_at=NOW - 10 * DAY,
    valid_until=NOW + 355 * DAY, appeal_deadline=NOW + SECOND,
)  # fmt: skip


def appeal(**kw: Any) -> Change:
    args: dict[str, Any] = {
        "new_id": "apl_1",
        "decision": decision(),
        "application": APPLICATION,
        "principal": DEVELOPER,
        "grounds": "The authority misread the confidence interval.",
        "framework": FRAMEWORK,
        "pending": False,
        "now": NOW,
        "framework_digest": DIGEST,
    }
    args.update(kw)
    return file_appeal(**args)


def act_appeal(**kw: Any) -> Change:
    args: dict[str, Any] = {
        "new_id": "apl_2",
        "act": "directive",
        "act_id": "dir_1",
        "model_id": "mdl_1",
        "organization_id": "org_dev",
        "principal": DEVELOPER,
        "grounds": "The halt has no grounds in the evidence.",
        "framework": FRAMEWORK,
        "framework_digest": DIGEST,
        "participants": ("prn_admin", "prn_chief", "prn_admin"),
        "window_opened_at": NOW - 21 * DAY + SECOND,
        "not_appealable": None,
        "pending": False,
        "now": NOW,
    }
    args.update(kw)
    return file_act_appeal(**args)


# --- appealing a decision ------------------------------------------------------------------------


def test_the_applicant_appeals_a_decision_and_those_who_made_it_may_not_hear_it() -> None:
    change = appeal()
    assert change.records == (
        Appeal(
            id="apl_1", decision_id="dec_1", model_id="mdl_1", organization_id="org_dev",
            grounds="The authority misread the confidence interval.", filed_by=DEVELOPER.id,
            filed_at=NOW, decide_by=NOW + 45 * DAY, act="decision", act_id="dec_1",
            framework_digest=DIGEST, excluded=("prn_chief", "prn_rev"),
        ),
    )  # fmt: skip
    [event] = change.events
    assert event.model_dump() == {
        "kind": "appeal.filed",
        "subject": "apl_1",
        "model_id": "mdl_1",
        "actor": DEVELOPER.id,
        "at": NOW,
        "data": {
            "act": "decision",
            "decision": "dec_1",
            "decide_by": (NOW + 45 * DAY).isoformat(),
        },
    }
    assert appeal(framework_digest=None).records[0].framework_digest is None  # type: ignore[attr-defined]


def test_a_deemed_decision_excludes_only_the_reviewer_if_there_was_one() -> None:
    deemed = decision(decided_by=None, deemed=True)
    assert appeal(decision=deemed).records[0].excluded == ("prn_rev",)  # type: ignore[attr-defined]
    unassigned = APPLICATION.model_copy(update={"reviewer_id": None})
    assert appeal(decision=deemed, application=unassigned).records[0].excluded == ()  # type: ignore[attr-defined]


def test_only_a_developer_of_the_applicant_appeals_a_decision() -> None:
    partner = DEVELOPER.model_copy(update={"roles": ("partner",)})
    with pytest.raises(Forbidden) as role:
        appeal(principal=partner)
    assert str(role.value) == "this needs the developer role; Dana Dev has partner"
    rival = DEVELOPER.model_copy(update={"organization_id": "org_rival"})
    with pytest.raises(Forbidden) as member:
        appeal(principal=rival)
    assert str(member.value) == "only the organization that owns decision dec_1 may do this"


def test_an_appeal_out_of_time_is_refused_at_the_moment_the_window_closes() -> None:
    with pytest.raises(Conflict) as error:
        appeal(now=NOW + SECOND)
    assert str(error.value) == (
        "the appeal window for decision dec_1 closed on 2026-09-01 12:00:01+00:00"
    )
    with pytest.raises(Conflict, match="closed on"):
        appeal(now=NOW + DAY)


def test_a_final_decision_is_no_longer_appealed() -> None:
    with pytest.raises(Conflict) as error:
        appeal(decision=decision(final=True))
    assert str(error.value) == "decision dec_1 is final; it can no longer be appealed"


def test_a_decision_has_one_appeal_pending_at_a_time() -> None:
    with pytest.raises(Conflict) as error:
        appeal(pending=True)
    assert str(error.value) == "decision dec_1 already has an appeal pending"


# --- appealing a directive, a refusal or a revocation --------------------------------------------


def test_the_affected_organization_appeals_an_act_and_its_participants_may_not_hear_it() -> None:
    change = act_appeal()
    assert change.records == (
        Appeal(
            id="apl_2", model_id="mdl_1", organization_id="org_dev",
            grounds="The halt has no grounds in the evidence.", filed_by=DEVELOPER.id,
            filed_at=NOW, decide_by=NOW + 45 * DAY, act="directive", act_id="dir_1",
            framework_digest=DIGEST, excluded=("prn_admin", "prn_chief"),
        ),
    )  # fmt: skip
    assert change.records[0].decision_id is None  # type: ignore[attr-defined]
    [event] = change.events
    assert event.model_dump() == {
        "kind": "appeal.filed",
        "subject": "apl_2",
        "model_id": "mdl_1",
        "actor": DEVELOPER.id,
        "at": NOW,
        "data": {"act": "directive", "act_id": "dir_1", "decide_by": (NOW + 45 * DAY).isoformat()},
    }


def test_any_member_of_the_affected_organization_appeals_an_act_and_nobody_else() -> None:
    partner = Principal(
        id="prn_p", organization_id="org_bank", name="Pat Partner", roles=("partner",),
        created_at=NOW,
    )  # fmt: skip
    refusal = act_appeal(
        act="access_refusal", act_id="acr_1", organization_id="org_bank", principal=partner
    )
    assert refusal.records[0].act == "access_refusal"  # type: ignore[attr-defined]
    with pytest.raises(Forbidden) as error:
        act_appeal(act="access_refusal", act_id="acr_1", organization_id="org_bank")
    assert str(error.value) == (
        "only the organization that owns the access refusal acr_1 may do this"
    )


def test_an_act_that_cannot_be_appealed_now_says_why() -> None:
    with pytest.raises(Conflict) as error:
        act_appeal(not_appealable="the directive dir_1 is proposed; appeal after its hearing")
    assert str(error.value) == "the directive dir_1 is proposed; appeal after its hearing"


def test_an_act_appeal_out_of_time_is_refused_at_the_moment_the_window_closes() -> None:
    opened = NOW - 21 * DAY
    with pytest.raises(Conflict) as error:
        act_appeal(act="grant_revocation", act_id="grt_1", window_opened_at=opened)
    assert str(error.value) == (
        f"the appeal window for the grant revocation grt_1 closed on {NOW.isoformat()}"
    )
    # a second before it closes
    assert act_appeal(window_opened_at=opened, now=NOW - SECOND).records[0].filed_at == (  # type: ignore[attr-defined]
        NOW - SECOND
    )


def test_an_act_has_one_appeal_pending_at_a_time() -> None:
    with pytest.raises(Conflict) as error:
        act_appeal(act="access_refusal", act_id="acr_1", pending=True)
    assert str(error.value) == "the access refusal acr_1 already has an appeal pending"


# --- the clock: lapse and finality ---------------------------------------------------------------


def test_an_approval_lapses_exactly_at_the_end_of_its_validity() -> None:
    approved = decision(outcome="approved", tier="public", valid_until=NOW)
    change = lapse_decision(approved, NOW)
    assert change.records == (approved.model_copy(update={"lapsed": True}),)
    [event] = change.events
    assert event.model_dump() == {
        "kind": "decision.lapsed",
        "subject": "dec_1",
        "model_id": "mdl_1",
        "actor": SCHEDULER,
        "at": NOW,
        "data": {"valid_until": NOW.isoformat()},
    }
    for not_now in (
        (approved, NOW - SECOND),
        (approved.model_copy(update={"lapsed": True}), NOW),
        (decision(valid_until=NOW), NOW),  # a denial has nothing to lapse
    ):
        with pytest.raises(Conflict) as error:
            lapse_decision(*not_now)
        assert str(error.value) == "decision dec_1 does not lapse now"


def test_a_decision_becomes_final_when_its_window_closes_with_no_appeal_pending() -> None:
    closing = decision(appeal_deadline=NOW)
    change = close_appeal_window(closing, False, NOW)
    assert change.records == (closing.model_copy(update={"final": True}),)
    [event] = change.events
    assert event.model_dump() == {
        "kind": "decision.final",
        "subject": "dec_1",
        "model_id": "mdl_1",
        "actor": SCHEDULER,
        "at": NOW,
        "data": {"reason": "appeal window closed"},
    }
    for not_now in (
        (closing, False, NOW - SECOND),
        (closing, True, NOW),
        (closing.model_copy(update={"final": True}), False, NOW),
    ):
        with pytest.raises(Conflict) as error:
            close_appeal_window(*not_now)
        assert str(error.value) == "decision dec_1 cannot become final now"
