"""Obligations' rules: conditions settled against the framework, fulfilment, breach (issue 16).

The acts are pure functions: each test builds the records in memory and checks the refusal whole
(its type and what its sentence names) or the Change whole. Boundaries: an obligation breached
exactly at its due date and not a second before; a breach with `cap_tier` against one with `halt`,
beside a restriction or a halt already in force; a weakened condition by each of its terms.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from clearance.errors import Conflict, Forbidden, InvalidInput
from clearance.register import (
    ConditionDeparture,
    Consequence,
    Directive,
    Fulfilment,
    Hearing,
    Obligation,
    Reason,
    Scope,
)
from clearance.register._clock import Due
from clearance.register._events import SCHEDULER, Change
from clearance.register._obligations import (
    Condition,
    Settled,
    breach_obligation,
    end_obligations,
    file_fulfilment,
    impose,
    obligation_due,
    required_conditions,
    review_fulfilment,
    settle_conditions,
)
from tests import rules_data
from tests.framework_data import load, small
from tests.rules_data import DAY, DEVELOPER, NOW, REVIEWER, SECOND

DIGEST = "b" * 64
RULES: list[dict[str, Any]] = [
    {
        "id": "rt-general",
        "description": "general jailbreak",
        "match": {"category": "jailbreak", "scope": "general"},
        "conditions": [
            {
                "text": "Fix the general jailbreak.",
                "due_days": 30,
                "evidence": "red-team results for the fix",
                "on_breach": {"action": "halt"},
            },
            "Report misuse monthly.",
        ],
    },
    {
        "id": "rt-narrow",
        "description": "narrow jailbreak",
        "match": {"category": "jailbreak", "scope": "narrow"},
        "conditions": [
            {
                "text": "Patch the narrow jailbreak.",
                "due_days": 60,
                "on_breach": {"action": "cap_tier", "tier": "internal"},
            },
            "Report misuse monthly.",
        ],
    },
    {
        "id": "rt-cap",
        "description": "a cap only",
        "match": {"category": "cyber"},
        "max_tier": "approved_partners",
    },
]
FRAMEWORK = load(
    small(
        finding_rules=RULES, procedure={"hearing_within_days": 10, "directive": {"sunset_days": 60}}
    )
)
# findings out of order, one of a rule the framework does not have, one rule with no conditions
ASSESSMENT: dict[str, Any] = {
    "findings": [
        {"rule": "rt-narrow"},
        {"rule": "rt-gone"},
        {"rule": "rt-cap"},
        {"rule": "rt-general"},
    ]
}
DECISION = rules_data.decision(
    id="dec_42", outcome="approved_with_conditions", tier="public_safeguarded",
    reasons=(Reason(text="Conditions."),), assessed_tier="public_safeguarded",
    decided_by=REVIEWER.id, decided_at=NOW, valid_until=NOW + 365 * DAY,
    appeal_deadline=NOW + 30 * DAY,
)  # fmt: skip
HALT = Consequence(action="halt")
CAP_INTERNAL = Consequence(action="cap_tier", tier="internal")
CAP_PARTNERS = Consequence(action="cap_tier", tier="approved_partners")


def obligation(**kw: Any) -> Obligation:
    args: dict[str, Any] = {
        "id": "obl_42_1",
        "decision_id": DECISION.id,
        "model_id": "mdl_1",
        "organization_id": "org_dev",
        "text": "Fix the general jailbreak.",
        "rule": "rt-general",
        "due_at": NOW,
        "evidence": "red-team results for the fix",
        "on_breach": HALT,
        "created_at": NOW - 30 * DAY,
    }
    args.update(kw)
    return Obligation(**args)


def fulfilment(**kw: Any) -> Fulfilment:
    args: dict[str, Any] = {
        "id": "ful_1",
        "text": "Fixed; see the results.",
        "evidence": (DIGEST,),
        "filed_by": DEVELOPER.id,
        "filed_at": NOW - 2 * DAY,
    }
    args.update(kw)
    return Fulfilment(**args)


directive = partial(
    rules_data.directive, id="dir_old", action="restrict", grounds="Restricted.",
    scope=Scope(groups=("t1",), tiers=("public_safeguarded",)), issued_at=NOW - 5 * DAY,
    hearing_date=NOW + 5 * DAY, sunset_at=NOW + 50 * DAY,
)  # fmt: skip


def settle(*given: str | Condition) -> tuple[tuple[Settled, ...], tuple[ConditionDeparture, ...]]:
    return settle_conditions(given, ASSESSMENT, FRAMEWORK)


def breach(**kw: Any) -> Change:
    args: dict[str, Any] = {
        "obligation": obligation(),
        "standing": True,
        "active": (),
        "framework": FRAMEWORK,
        "directive_id": "dir_breach",
        "hearing_id": "hrg_breach",
        "now": NOW,
    }
    args.update(kw)
    return breach_obligation(**args)


# --- what the findings require -------------------------------------------------------------------


def test_each_finding_requires_its_rules_conditions_with_their_terms() -> None:
    required = required_conditions(ASSESSMENT, FRAMEWORK)
    assert list(required) == [
        "Fix the general jailbreak.",
        "Report misuse monthly.",
        "Patch the narrow jailbreak.",
    ]
    rule, terms = required["Fix the general jailbreak."]
    assert (rule, terms.due_days, terms.evidence) == (
        "rt-general",
        30,
        "red-team results for the fix",
    )
    assert terms.on_breach is not None and terms.on_breach.action == "halt"
    # a text two rules require is the first rule's (by rule id), whatever order the findings came
    assert required["Report misuse monthly."][0] == "rt-general"
    assert required["Patch the narrow jailbreak."][0] == "rt-narrow"
    assert required_conditions({}, FRAMEWORK) == {}


# --- settling the decision's conditions ---------------------------------------------------------


def test_a_required_condition_stated_as_text_takes_the_rules_terms() -> None:
    settled, departures = settle(
        "Fix the general jailbreak.", "Report misuse monthly.", "Patch the narrow jailbreak."
    )
    assert settled == (
        Settled(
            "Fix the general jailbreak.", "rt-general", 30, "red-team results for the fix", HALT
        ),
        Settled("Report misuse monthly.", "rt-general", None, "", None),
        Settled("Patch the narrow jailbreak.", "rt-narrow", 60, "", CAP_INTERNAL),
    )
    assert departures == ()


def test_a_condition_the_reviewer_adds_keeps_its_own_terms() -> None:
    added = Condition(
        text="Publish a model card.", due_days=14, evidence="the card", on_breach=CAP_PARTNERS
    )
    required = (
        "Fix the general jailbreak.",
        "Report misuse monthly.",
        "Patch the narrow jailbreak.",
    )
    settled, departures = settle(*required, added, "Keep logs.")
    assert settled[3:] == (
        Settled("Publish a model card.", None, 14, "the card", CAP_PARTNERS),
        Settled("Keep logs.", None, None, "", None),
    )
    assert departures == ()


def test_a_required_condition_left_out_is_a_departure_named_dropped() -> None:
    settled, departures = settle("Report misuse monthly.")
    assert [s.text for s in settled] == ["Report misuse monthly."]
    assert departures == (
        ConditionDeparture(
            rule="rt-general", text="Fix the general jailbreak.", change="dropped",
            detail="not among the decision's conditions",
        ),
        ConditionDeparture(
            rule="rt-narrow", text="Patch the narrow jailbreak.", change="dropped",
            detail="not among the decision's conditions",
        ),
    )  # fmt: skip


def test_a_reworded_condition_names_its_rule_and_is_a_departure() -> None:
    reworded = Condition(text="Fix the jailbreak we found.", rule="rt-general")
    settled, departures = settle(reworded, "Report misuse monthly.", "Patch the narrow jailbreak.")
    # it keeps the rule's terms for everything it does not state
    assert settled[0] == Settled(
        "Fix the jailbreak we found.", "rt-general", 30, "red-team results for the fix", HALT
    )
    assert departures == (
        ConditionDeparture(
            rule="rt-general", text="Fix the general jailbreak.", change="weakened",
            detail="reworded (the rule requires: Fix the general jailbreak.)",
        ),
    )  # fmt: skip


def test_a_rule_named_by_a_condition_must_require_one_not_yet_stated() -> None:
    with pytest.raises(InvalidInput) as stated:
        settle(
            "Fix the general jailbreak.", "Report misuse monthly.",
            Condition(text="Another fix.", rule="rt-general"),
        )  # fmt: skip
    assert str(stated.value) == (
        "conditions[2].rule: every condition rule 'rt-general' requires is already stated"
    )
    with pytest.raises(InvalidInput) as none:
        settle(Condition(text="Something.", rule="rt-cap"))
    assert str(none.value) == (
        "conditions[0].rule: 'rt-cap' requires no condition in this application's assessment"
    )
    # a rule's second condition, reworded, after its first was stated
    settled, _ = settle(
        "Fix the general jailbreak.", Condition(text="Report each month.", rule="rt-general")
    )
    assert settled[1].text == "Report each month." and settled[1].rule == "rt-general"


def test_a_condition_weakened_by_each_of_its_terms_is_a_departure_each() -> None:
    given = Condition(
        text="Fix the general jailbreak.", due_days=31, evidence="a note", on_breach=CAP_PARTNERS
    )
    settled, departures = settle(given, "Report misuse monthly.", "Patch the narrow jailbreak.")
    assert settled[0] == Settled(
        "Fix the general jailbreak.", "rt-general", 31, "a note", CAP_PARTNERS
    )
    assert [d.detail for d in departures] == [
        "due in 31 days (the rule requires 30)",
        "breach brings a tier cap at approved_partners (the rule requires a halt)",
    ]
    assert {(d.rule, d.text, d.change) for d in departures} == {
        ("rt-general", "Fix the general jailbreak.", "weakened")
    }


def test_a_condition_made_continuing_or_without_consequence_is_weakened() -> None:
    given = Condition(text="Patch the narrow jailbreak.", due_days=None, on_breach=None)
    settled, departures = settle("Fix the general jailbreak.", "Report misuse monthly.", given)
    assert settled[2] == Settled("Patch the narrow jailbreak.", "rt-narrow", None, "", None)
    assert [d.detail for d in departures] == [
        "made continuing (the rule requires it within 60 days)",
        "breach brings no consequence (the rule requires a tier cap at internal)",
    ]


def test_a_condition_as_strict_as_its_rule_or_stricter_is_no_departure() -> None:
    stricter = (
        Condition(text="Fix the general jailbreak.", due_days=30, on_breach=HALT),
        Condition(text="Report misuse monthly.", due_days=7, on_breach=CAP_PARTNERS),
        Condition(text="Patch the narrow jailbreak.", due_days=59, on_breach=HALT),
    )
    settled, departures = settle(*stricter)
    assert departures == ()
    assert [s.due_days for s in settled] == [30, 7, 59]
    # a tier cap at the rule's tier, or more closed, is as strict
    for cap in (CAP_INTERNAL, Consequence(action="cap_tier", tier="halted")):
        same = Condition(text="Patch the narrow jailbreak.", on_breach=cap)
        _, none = settle("Fix the general jailbreak.", "Report misuse monthly.", same)
        assert none == ()


def test_a_tier_cap_more_open_than_the_rules_is_softer() -> None:
    given = Condition(text="Patch the narrow jailbreak.", on_breach=CAP_PARTNERS)
    _, departures = settle("Fix the general jailbreak.", "Report misuse monthly.", given)
    assert [d.detail for d in departures] == [
        "breach brings a tier cap at approved_partners (the rule requires a tier cap at internal)"
    ]


# --- imposing -----------------------------------------------------------------------------------


def test_each_condition_becomes_an_obligation_due_after_the_decision_or_continuing() -> None:
    settled, _ = settle(
        "Fix the general jailbreak.", "Report misuse monthly.", "Patch the narrow jailbreak."
    )
    obligations = impose(decision=DECISION, organization_id="org_dev", settled=settled, now=NOW)
    assert obligations == (
        Obligation(
            id="obl_42_1", decision_id="dec_42", model_id="mdl_1", organization_id="org_dev",
            text="Fix the general jailbreak.", rule="rt-general", due_at=NOW + 30 * DAY,
            evidence="red-team results for the fix", on_breach=HALT, created_at=NOW,
        ),
        Obligation(
            id="obl_42_2", decision_id="dec_42", model_id="mdl_1", organization_id="org_dev",
            text="Report misuse monthly.", rule="rt-general", due_at=None, created_at=NOW,
        ),
        Obligation(
            id="obl_42_3", decision_id="dec_42", model_id="mdl_1", organization_id="org_dev",
            text="Patch the narrow jailbreak.", rule="rt-narrow", due_at=NOW + 60 * DAY,
            on_breach=CAP_INTERNAL, created_at=NOW,
        ),
    )  # fmt: skip


# --- fulfilment ----------------------------------------------------------------------------------


def file(**kw: Any) -> Change:
    args: dict[str, Any] = {
        "obligation": obligation(),
        "principal": DEVELOPER,
        "new_id": "ful_1",
        "text": "Fixed; see the results.",
        "evidence": (DIGEST,),
        "now": NOW - SECOND,
    }
    args.update(kw)
    return file_fulfilment(**args)


def test_the_developer_files_evidence_before_the_due_date_and_it_goes_to_review() -> None:
    change = file()
    filed = fulfilment(filed_at=NOW - SECOND)
    assert change.records == (
        obligation().model_copy(update={"state": "under_review", "fulfilments": (filed,)}),
    )
    [event] = change.events
    assert event.model_dump() == {
        "kind": "obligation.fulfilment_filed",
        "subject": "obl_42_1",
        "model_id": "mdl_1",
        "actor": DEVELOPER.id,
        "at": NOW - SECOND,
        "data": {
            "decision": "dec_42",
            "state": "under_review",
            "fulfilment": "ful_1",
            "evidence": [DIGEST],
        },
    }


def test_evidence_filed_at_the_due_date_is_too_late() -> None:
    with pytest.raises(Conflict) as error:
        file(now=NOW)
    assert str(error.value) == (
        f"obligation obl_42_1 was due on {NOW.isoformat()}; it is overdue and counts as breached"
    )
    # a continuing obligation takes evidence at any time
    later = file(obligation=obligation(due_at=None), now=NOW + 400 * DAY)
    assert later.records[0].state == "under_review"  # type: ignore[attr-defined]


def test_only_the_developer_of_the_obligations_organization_files_evidence() -> None:
    with pytest.raises(
        Forbidden, match=r"^this needs the developer role; Rita Reviewer has reviewer$"
    ):
        file(principal=REVIEWER)
    stranger = DEVELOPER.model_copy(update={"organization_id": "org_other"})
    with pytest.raises(Forbidden) as error:
        file(principal=stranger)
    assert str(error.value) == "only the organization that owns obligation obl_42_1 may do this"


def test_evidence_is_filed_only_while_the_obligation_is_open() -> None:
    for state in ("under_review", "met", "breached", "ended"):
        with pytest.raises(Conflict) as error:
            file(obligation=obligation(state=state))
        assert str(error.value) == (
            f"obligation obl_42_1 is {state}; fulfilment evidence is filed only while it is open"
        )


def review(**kw: Any) -> Change:
    args: dict[str, Any] = {
        "obligation": obligation(state="under_review", fulfilments=(fulfilment(),)),
        "fulfilment_id": "ful_1",
        "reviewer": REVIEWER,
        "accepted": True,
        "reasons": "The results show the fix.",
        "now": NOW + DAY,
    }
    args.update(kw)
    return review_fulfilment(**args)


def test_accepted_evidence_meets_the_obligation_even_after_its_due_date() -> None:
    change = review()
    answered = fulfilment(
        state="accepted", reasons="The results show the fix.", reviewed_by=REVIEWER.id,
        reviewed_at=NOW + DAY,
    )  # fmt: skip
    assert change.records == (obligation(state="met", fulfilments=(answered,), met_at=NOW + DAY),)
    [event] = change.events
    assert event.model_dump() == {
        "kind": "obligation.fulfilment_accepted",
        "subject": "obl_42_1",
        "model_id": "mdl_1",
        "actor": REVIEWER.id,
        "at": NOW + DAY,
        "data": {"decision": "dec_42", "state": "met", "fulfilment": "ful_1", "met": True},
    }


def test_rejected_evidence_opens_the_obligation_again() -> None:
    earlier = fulfilment(id="ful_0", state="rejected", reasons="Not enough.")
    change = review(
        obligation=obligation(state="under_review", fulfilments=(earlier, fulfilment())),
        accepted=False,
        reasons="The results do not cover the fix.",
    )
    [updated] = change.records
    assert isinstance(updated, Obligation)
    assert (updated.state, updated.met_at) == ("open", None)
    assert updated.fulfilments == (
        earlier,
        fulfilment(
            state="rejected", reasons="The results do not cover the fix.",
            reviewed_by=REVIEWER.id, reviewed_at=NOW + DAY,
        ),
    )  # fmt: skip
    assert (change.events[0].kind, change.events[0].data) == (
        "obligation.fulfilment_rejected",
        {"decision": "dec_42", "state": "open", "fulfilment": "ful_1", "met": False},
    )


def test_a_continuing_obligation_stays_open_when_its_evidence_is_accepted() -> None:
    change = review(
        obligation=obligation(due_at=None, state="under_review", fulfilments=(fulfilment(),))
    )
    [updated] = change.records
    assert isinstance(updated, Obligation)
    assert (updated.state, updated.met_at, updated.fulfilments[0].state) == (
        "open",
        None,
        "accepted",
    )
    assert change.events[0].data["met"] is False


def test_evidence_is_reviewed_by_an_independent_reviewer_once() -> None:
    with pytest.raises(Forbidden, match=r"^this needs the reviewer role; Dana Dev has developer$"):
        review(reviewer=DEVELOPER)
    conflicted = REVIEWER.model_copy(update={"conflicts": ("org_dev",)})
    with pytest.raises(Forbidden) as error:
        review(reviewer=conflicted)
    assert str(error.value) == (
        "Rita Reviewer declared a conflict of interest with the organization behind obligation "
        "obl_42_1"
    )
    with pytest.raises(InvalidInput) as unknown:
        review(fulfilment_id="ful_9")
    assert str(unknown.value) == "fulfilment: obligation obl_42_1 has no fulfilment 'ful_9'"
    answered = fulfilment(state="rejected")
    for record in (
        obligation(state="open", fulfilments=(fulfilment(),)),
        obligation(state="under_review", fulfilments=(answered,)),
    ):
        with pytest.raises(Conflict) as again:
            review(obligation=record)
        assert str(again.value) == "fulfilment ful_1 was already answered"


def test_the_fulfilment_answered_is_the_one_named() -> None:
    first = fulfilment(id="ful_0", state="rejected")
    second = fulfilment(id="ful_1")
    third = fulfilment(id="ful_2", state="rejected")
    change = review(obligation=obligation(state="under_review", fulfilments=(first, second, third)))
    updated = change.records[0]
    assert isinstance(updated, Obligation)
    assert [f.state for f in updated.fulfilments] == ["rejected", "accepted", "rejected"]
    assert updated.fulfilments[0] == first and updated.fulfilments[2] == third


# --- breach --------------------------------------------------------------------------------------


def test_an_obligation_is_due_for_breach_exactly_at_its_due_date_and_not_a_second_before() -> None:
    assert obligation_due(obligation(), NOW) == Due(NOW, "obligation_breached", "obl_42_1")
    assert obligation_due(obligation(), NOW + DAY) == Due(NOW, "obligation_breached", "obl_42_1")
    assert obligation_due(obligation(), NOW - SECOND) is None
    # evidence awaiting review holds it; a continuing one is never overdue
    for held in (
        obligation(state="under_review"),
        obligation(state="met"),
        obligation(due_at=None),
    ):
        assert obligation_due(held, NOW + DAY) is None
    with pytest.raises(Conflict) as error:
        breach(now=NOW - SECOND)
    assert str(error.value) == "obligation obl_42_1 is not overdue"


def test_a_breach_with_halt_halts_the_model_at_once_and_opens_its_hearing() -> None:
    change = breach()
    breached, halt, hearing = change.records
    assert breached == obligation(state="breached", breached_at=NOW, consequence_id="dir_breach")
    assert halt == Directive(
        id="dir_breach", model_id="mdl_1", action="halt",
        grounds=(
            "Obligation obl_42_1 of decision dec_42 was not met by 2026-09-01: Fix the general "
            "jailbreak. Under the framework the model is halted until the authority decides "
            "otherwise."
        ),
        scope=Scope(), issued_by=SCHEDULER, issued_at=NOW, hearing_date=NOW + 10 * DAY,
        sunset_at=NOW + 60 * DAY, urgent=True, hearing_id="hrg_breach",
    )  # fmt: skip
    assert isinstance(hearing, Hearing)
    assert (hearing.id, hearing.act, hearing.act_id, hearing.model_id) == (
        "hrg_breach", "directive", "dir_breach", "mdl_1",
    )  # fmt: skip
    assert (hearing.organization_ids, hearing.urgent, hearing.opened_by, hearing.grounds) == (
        ("org_dev",), True, SCHEDULER, halt.grounds,
    )  # fmt: skip
    assert hearing.hold_by == NOW + 10 * DAY
    assert [e.model_dump() for e in change.events[:2]] == [
        {
            "kind": "obligation.breached",
            "subject": "obl_42_1",
            "model_id": "mdl_1",
            "actor": SCHEDULER,
            "at": NOW,
            "data": {
                "decision": "dec_42",
                "state": "breached",
                "due_at": NOW.isoformat(),
                "rule": "rt-general",
                "consequence": {"action": "halt", "tier": None},
                "directive": "dir_breach",
            },
        },
        {
            "kind": "directive.issued",
            "subject": "dir_breach",
            "model_id": "mdl_1",
            "actor": SCHEDULER,
            "at": NOW,
            "data": {
                "action": "halt",
                "organizations": 0,
                "sunset_at": (NOW + 60 * DAY).isoformat(),
                "obligation": "obl_42_1",
            },
        },
    ]
    assert change.events[2].kind == "hearing.opened"


def test_a_breach_with_cap_tier_restricts_the_model_to_its_tier() -> None:
    change = breach(obligation=obligation(on_breach=CAP_INTERNAL), now=NOW + DAY)
    breached, restriction, _ = change.records
    assert isinstance(breached, Obligation) and breached.breached_at == NOW + DAY
    assert isinstance(restriction, Directive)
    assert (restriction.action, restriction.scope, restriction.urgent) == (
        "restrict", Scope(tiers=("internal",)), True,
    )  # fmt: skip
    assert restriction.grounds == (
        "Obligation obl_42_1 of decision dec_42 was not met by 2026-09-01: Fix the general "
        "jailbreak. Under the framework the model is capped at internal until the authority "
        "decides otherwise."
    )
    assert change.events[0].data["consequence"] == {"action": "cap_tier", "tier": "internal"}
    assert change.events[0].data["due_at"] == NOW.isoformat()
    assert change.events[1].data["action"] == "restrict"


def test_a_breach_never_opens_what_a_restriction_in_force_closes() -> None:
    older = directive(id="dir_older", issued_at=NOW - 9 * DAY, scope=Scope(channels=("app",)))
    latest = directive()  # t1 only, capped at public_safeguarded
    # the cap binds within the restriction's scope
    capped = breach(obligation=obligation(on_breach=CAP_PARTNERS), active=(latest, older))
    assert capped.records[1].scope == Scope(groups=("t1",), tiers=("approved_partners",))  # type: ignore[attr-defined]
    # a cap more open than the restriction's keeps the restriction's
    tight = directive(scope=Scope(groups=("t1",), tiers=("internal",)))
    kept = breach(obligation=obligation(on_breach=CAP_PARTNERS), active=(older, tight))
    assert kept.records[1].scope == Scope(groups=("t1",), tiers=("internal",))  # type: ignore[attr-defined]
    assert "capped at internal" in kept.records[1].grounds  # type: ignore[attr-defined]


def test_a_breach_with_cap_tier_beside_a_halt_in_force_is_a_halt() -> None:
    halt = directive(action="halt", scope=Scope())
    older = directive(id="dir_older", issued_at=NOW - 9 * DAY)
    change = breach(obligation=obligation(on_breach=CAP_INTERNAL), active=(older, halt))
    issued = change.records[1]
    assert isinstance(issued, Directive)
    assert (issued.action, issued.scope) == ("halt", Scope())
    assert "the model is halted" in issued.grounds
    # the latest in force decides: a restriction issued after the halt
    newer = directive(id="dir_newer", issued_at=NOW - DAY)
    capped = breach(obligation=obligation(on_breach=CAP_INTERNAL), active=(halt, newer))
    assert capped.records[1].action == "restrict"  # type: ignore[attr-defined]


def test_a_breach_without_consequence_is_recorded_and_nothing_else() -> None:
    change = breach(obligation=obligation(on_breach=None, rule=None))
    assert change.records == (
        obligation(on_breach=None, rule=None, state="breached", breached_at=NOW),
    )
    [event] = change.events
    assert event.data == {
        "decision": "dec_42",
        "state": "breached",
        "due_at": NOW.isoformat(),
        "rule": None,
        "consequence": None,
        "directive": None,
    }


def test_an_obligation_of_a_decision_no_longer_standing_ends_without_consequence() -> None:
    change = breach(standing=False)
    assert change.records == (obligation(state="ended"),)
    [event] = change.events
    assert event.model_dump() == {
        "kind": "obligation.ended",
        "subject": "obl_42_1",
        "model_id": "mdl_1",
        "actor": SCHEDULER,
        "at": NOW,
        "data": {"decision": "dec_42", "state": "ended", "reason": "decision not standing"},
    }


# --- a new decision ------------------------------------------------------------------------------


def test_a_new_decision_ends_the_open_obligations_of_the_one_it_replaces() -> None:
    open_ = obligation(id="obl_a")
    reviewing = obligation(id="obl_b", state="under_review")
    done = [obligation(id="obl_c", state="met"), obligation(id="obl_d", state="breached")]
    own = obligation(id="obl_e", decision_id="dec_new")
    # the ones it leaves alone come first: none of them stops the others ending
    change = end_obligations([own, *done, open_, reviewing], "dec_new", "prn_rev", NOW)
    assert change.records == (
        open_.model_copy(update={"state": "ended"}),
        reviewing.model_copy(update={"state": "ended"}),
    )
    assert [(e.kind, e.subject, e.actor, e.at, e.data) for e in change.events] == [
        (
            "obligation.ended",
            subject,
            "prn_rev",
            NOW,
            {"decision": "dec_42", "state": "ended", "reason": "replaced by dec_new"},
        )
        for subject in ("obl_a", "obl_b")
    ]


def test_a_breach_of_an_obligation_with_the_longest_text_still_issues_its_directive() -> None:
    """Grounds are bounded like any text: the obligation's own text is cut, not the directive."""
    change = breach(obligation=obligation(text="x" * 20_000))
    halt = change.records[1]
    assert isinstance(halt, Directive)
    assert len(halt.grounds) == 20_000
    assert halt.grounds.startswith("Obligation obl_42_1 of decision dec_42 was not met by")
