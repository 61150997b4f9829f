"""The rules of a decision on an application: a reviewer's, and a deemed one (issue 16).

Pure acts over records built in memory: each test calls `decide` or `deem_decision` and checks
the whole Change (the application, the decision, the obligations and the event), or the refusal
whole (its kind and its sentence). Boundary cases: a decision at exactly the prescribed tier, a
denial where the assessment prescribes exactly approved_partners, a deemed approval (not only a
deemed refusal) and one deemed at the very second of the deadline.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

import pytest

from clearance.errors import Conflict, Forbidden, InvalidInput
from clearance.framework import RULES
from clearance.register import (
    Application,
    ConditionDeparture,
    Decision,
    Departure,
    Discrepancy,
    EvidenceRef,
    Obligation,
    Principal,
    Reason,
)
from clearance.register._decisions import citable_rules, decide, deem_decision, prescribed_tier
from clearance.register._events import Change, Event
from tests import rules_data
from tests.framework_data import load, small
from tests.rules_data import NOW, refused

FRAMEWORK = load(small())
FILED = NOW - dt.timedelta(days=100)
DEADLINE = FILED + dt.timedelta(days=90)

LAB = EvidenceRef(sha256="a" * 64, name="ctf.eval", kind="inspect")
"""The developer's evidence."""
OWN = EvidenceRef(sha256="b" * 64, name="ctf-authority.eval", kind="inspect")
"""The authority's own run."""

# what assess() writes for SMALL at level c1 with filters in place: t1 public_safeguarded,
# t2 approved_partners (its level cap) with military end users internal
ASSESSMENT: dict[str, Any] = {
    "max_tier": "public_safeguarded",
    "jurisdictions": [
        {"group": "t1", "max_tier": "public_safeguarded", "end_users": {}},
        {"group": "t2", "max_tier": "approved_partners", "end_users": {"military": "internal"}},
    ],
    "findings": [],
    "conditions": [],
}
# a narrow jailbreak found and not mitigated: rt-narrow requires a patch
NARROW: dict[str, Any] = {
    **ASSESSMENT,
    "findings": [{"rule": "rt-narrow"}],
    "conditions": ["patch within 30 days"],
}


def assessment_at(t1: str, t2: str, overall: str | None = None) -> dict[str, Any]:
    return {
        "max_tier": overall or t1,
        "jurisdictions": [
            {"group": "t1", "max_tier": t1, "end_users": {}},
            {"group": "t2", "max_tier": t2, "end_users": {}},
        ],
        "findings": [],
        "conditions": [],
    }


def principal(pid: str, org: str, *roles: str, **extra: Any) -> Principal:
    return Principal(
        id=pid,
        organization_id=org,
        name=pid.removeprefix("pri_").capitalize(),
        roles=roles,  # type: ignore[arg-type]
        created_at=FILED,
        **extra,
    )


REVIEWER = principal("pri_rita", "org_auth", "reviewer")
DEVELOPER = principal("pri_dan", "org_dev", "developer")
REASON = Reason(text="The cyber evaluation rules out c2.", rules=("cyber",), evidence=(LAB.sha256,))


# an application under review by REVIEWER, filed 100 days ago (10 days overdue)
application = partial(
    rules_data.application, framework_digest="ab" * 32, requested_jurisdictions=("t1", "t2"),
    evidence=(LAB,), assessment=ASSESSMENT, reviewer_id=REVIEWER.id, filed_at=FILED,
    deadline=DEADLINE,
)  # fmt: skip


def decide_on(**changes: Any) -> Change:
    """`decide` with an approval at the prescribed tier in t1, unless changed."""
    args: dict[str, Any] = {
        "new_id": "dec_1",
        "application": application(),
        "reviewer": REVIEWER,
        "framework": FRAMEWORK,
        "outcome": "approved",
        "tier": "public_safeguarded",
        "jurisdictions": ("t1",),
        "conditions": (),
        "reasons": (REASON,),
        "justification": None,
        "now": NOW,
    }
    args.update(changes)
    return decide(**args)


def deem(app: Application | None = None, **changes: Any) -> Change:
    args: dict[str, Any] = {
        "new_id": "dec_1",
        "application": app or application(),
        "framework": FRAMEWORK,
        "now": NOW,
    }
    args.update(changes)
    return deem_decision(**args)


def decision_of(change: Change) -> Decision:
    decision = change.records[1]
    assert isinstance(decision, Decision)
    return decision


# --- what a decision may cite ---------------------------------------------------------------------


def test_a_decision_may_cite_every_framework_entry_assessor_rule_and_procedure_step() -> None:
    expected = set(RULES) | {
        *("cyber", "c0", "c1", "c2"),  # the domain and its levels
        "ctf",  # the metric
        *("rt-general", "rt-narrow"),  # the finding rules
        "filters",  # the safeguard
        *("t1", "t2"),  # the jurisdiction groups
        *(f"procedure.{name}" for name in type(FRAMEWORK.procedure).model_fields),
    }
    assert citable_rules(FRAMEWORK) == expected
    assert {"stat.reached", "procedure.deemed_approval", "procedure.decision_days"} <= expected


def test_the_prescribed_tier_is_the_more_closed_of_the_request_and_the_assessment() -> None:
    assert prescribed_tier(application()) == "public_safeguarded"
    assert prescribed_tier(application(requested_tier="approved_partners")) == "approved_partners"
    # an assessment without a tier prescribes nothing
    assert prescribed_tier(application(assessment={})) == "halted"
    # once the authority has filed its own runs, their assessment governs
    both = application(authority_assessment=assessment_at("internal", "internal"))
    assert prescribed_tier(both) == "internal"


# --- a reviewer's decision -----------------------------------------------------------------------


def test_a_decision_at_exactly_the_prescribed_tiers_is_recorded_with_its_table_and_event() -> None:
    change = decide_on(tiers={"t1": "public_safeguarded", "t2": "approved_partners"})
    updated, decision = change.records
    assert updated == application(state="decided", decision_id="dec_1")
    assert decision == Decision(
        id="dec_1",
        application_id="app_1",
        model_id="mdl_1",
        outcome="approved",
        tier="public_safeguarded",
        jurisdictions=("t1", "t2"),
        tiers={"t1": "public_safeguarded", "t2": "approved_partners"},
        sector_tiers={"t2": {"military": "internal"}},
        reasons=(REASON,),
        assessed_tier="public_safeguarded",
        departure=False,
        justification=None,
        deemed=False,
        decided_by="pri_rita",
        decided_at=NOW,
        valid_until=NOW + dt.timedelta(days=365),
        appeal_deadline=NOW + dt.timedelta(days=30),
    )
    assert change.events == (
        Event(
            kind="decision.made",
            subject="dec_1",
            model_id="mdl_1",
            actor="pri_rita",
            at=NOW,
            data={
                "application": "app_1",
                "outcome": "approved",
                "tier": "public_safeguarded",
                "tiers": {"t1": "public_safeguarded", "t2": "approved_partners"},
                "sector_tiers": {"t2": {"military": "internal"}},
                "departure": False,
                "departures": [],
                "condition_departures": [],
                "obligations": [],
            },
        ),
    )
    assert change.removed == ()


def test_the_one_tier_form_fills_each_named_group() -> None:
    decision = decision_of(decide_on(tier="approved_partners", jurisdictions=("t2", "t1")))
    assert decision.tiers == {"t1": "approved_partners", "t2": "approved_partners"}
    assert decision.jurisdictions == ("t1", "t2")
    assert decision.tier == "approved_partners"
    assert decision.departure is False


def test_a_justification_for_a_decision_that_departs_from_nothing_is_not_recorded() -> None:
    decision = decision_of(decide_on(justification="Just in case."))
    assert decision.departure is False and decision.justification is None


def test_the_validity_and_the_appeal_window_follow_the_frameworks_procedure() -> None:
    framework = load(small(procedure={"decision_valid_days": 200, "appeal_window_days": 10}))
    decision = decision_of(decide_on(framework=framework))
    assert decision.valid_until == NOW + dt.timedelta(days=200)
    assert decision.appeal_deadline == NOW + dt.timedelta(days=10)


def test_a_cell_above_its_prescription_without_a_justification_is_refused() -> None:
    refused(
        InvalidInput,
        "justification: public in t1 is above this cell's cap public_safeguarded; a departure "
        "needs a written justification (or decide at most public_safeguarded there)",
        decide_on,
        tier="public",
    )
    # white space is no justification
    with pytest.raises(InvalidInput, match="above this cell's cap"):
        decide_on(tier="public", justification="  \n")
    # a sector opened beyond its cap is refused the same way
    with pytest.raises(InvalidInput, match=r"^sector_tiers\.t2\.military: approved_partners"):
        decide_on(
            tiers={"t2": "approved_partners"},
            sector_tiers={"t2": {"military": "approved_partners"}},
        )


def test_a_justified_departure_is_recorded_with_its_justification_cell_by_cell() -> None:
    change = decide_on(
        tiers={"t1": "public", "t2": "approved_partners"},
        sector_tiers={"t2": {"military": "approved_partners"}},
        justification="The red team found nothing at c1.",
    )
    decision = decision_of(change)
    departures = (
        Departure(group="t1", prescribed="public_safeguarded", tier="public"),
        Departure(group="t2", sector="military", prescribed="internal", tier="approved_partners"),
    )
    assert decision.departure is True
    assert decision.departures == departures
    assert decision.justification == "The red team found nothing at c1."
    assert decision.tier == "public"
    assert decision.sector_tiers == {}
    data = change.events[0].data
    assert data["departure"] is True
    assert data["departures"] == [d.model_dump(mode="json") for d in departures]
    assert data["departures"][1]["sector"] == "military"


def test_an_approval_whose_table_is_empty_approves_internal_deployment_only() -> None:
    decision = decision_of(decide_on(tier="halted", jurisdictions=("t1", "t2")))
    assert decision.outcome == "approved"
    assert decision.tiers == {} and decision.jurisdictions == ()
    assert decision.tier == "internal"


def test_the_outcome_and_the_conditions_must_agree() -> None:
    refused(
        InvalidInput,
        "outcome: a decision with conditions is approved_with_conditions",
        decide_on,
        conditions=("Report incidents within 72 hours.",),
    )
    refused(
        InvalidInput,
        "conditions: approved_with_conditions needs at least one condition",
        decide_on,
        outcome="approved_with_conditions",
    )
    refused(
        InvalidInput,
        "conditions: a denial deploys nowhere and takes no conditions",
        decide_on,
        outcome="denied",
        conditions=("Report incidents within 72 hours.",),
        justification="Denied.",
    )


def test_each_condition_becomes_an_obligation_of_the_decision() -> None:
    change = decide_on(
        outcome="approved_with_conditions",
        conditions=("Report incidents within 72 hours.", "Keep the filters on."),
    )
    decision = decision_of(change)
    assert decision.outcome == "approved_with_conditions"
    assert decision.conditions == ("Report incidents within 72 hours.", "Keep the filters on.")
    obligations = change.records[2:]
    assert obligations == (
        Obligation(
            id="obl_1_1",
            decision_id="dec_1",
            model_id="mdl_1",
            organization_id="org_dev",
            text="Report incidents within 72 hours.",
            created_at=NOW,
        ),
        Obligation(
            id="obl_1_2",
            decision_id="dec_1",
            model_id="mdl_1",
            organization_id="org_dev",
            text="Keep the filters on.",
            created_at=NOW,
        ),
    )
    assert change.events[0].data["obligations"] == ["obl_1_1", "obl_1_2"]


def test_dropping_a_condition_a_finding_rule_requires_needs_a_justification() -> None:
    narrow = application(assessment=NARROW)
    refused(
        InvalidInput,
        "justification: the condition rule rt-narrow requires ('patch within 30 days') is "
        "dropped: not among the decision's conditions; a departure needs a written "
        "justification (or keep the condition on the rule's terms)",
        decide_on,
        application=narrow,
    )
    change = decide_on(application=narrow, justification="The patch shipped before filing.")
    decision = decision_of(change)
    dropped = ConditionDeparture(
        rule="rt-narrow",
        text="patch within 30 days",
        change="dropped",
        detail="not among the decision's conditions",
    )
    assert decision.condition_departures == (dropped,)
    assert decision.departure is True
    assert decision.departures == ()
    assert decision.justification == "The patch shipped before filing."
    assert change.events[0].data["departure"] is True
    assert change.events[0].data["condition_departures"] == [dropped.model_dump(mode="json")]


def test_a_condition_kept_on_the_rules_terms_is_no_departure() -> None:
    change = decide_on(
        application=application(assessment=NARROW),
        outcome="approved_with_conditions",
        conditions=("patch within 30 days",),
    )
    decision = decision_of(change)
    assert decision.departure is False and decision.condition_departures == ()
    (obligation,) = change.records[2:]
    assert isinstance(obligation, Obligation)
    assert obligation.rule == "rt-narrow" and obligation.text == "patch within 30 days"


# --- denials -------------------------------------------------------------------------------------


def test_denying_what_the_assessment_would_deploy_needs_a_justification() -> None:
    refused(
        InvalidInput,
        "justification: the assessment permits deployment (prescribed tier "
        "public_safeguarded), so a denial needs a written justification",
        decide_on,
        outcome="denied",
    )
    change = decide_on(outcome="denied", justification="The safeguards are not credible.")
    decision = decision_of(change)
    assert decision.outcome == "denied"
    assert decision.tier == "halted"
    assert decision.tiers == {} and decision.sector_tiers == {} and decision.jurisdictions == ()
    assert decision.departure is True and decision.departures == ()
    assert decision.justification == "The safeguards are not credible."
    assert change.records[2:] == ()
    assert change.events[0].data["outcome"] == "denied"
    assert change.events[0].data["departure"] is True
    assert change.events[0].data["tier"] == "halted"


def test_a_denial_where_exactly_approved_partners_is_prescribed_needs_a_justification() -> None:
    partners = application(requested_tier="approved_partners")
    with pytest.raises(InvalidInput, match=r"\(prescribed tier approved_partners\)"):
        decide_on(application=partners, outcome="denied")
    capped = application(assessment=assessment_at("approved_partners", "internal"))
    with pytest.raises(InvalidInput, match=r"\(prescribed tier approved_partners\)"):
        decide_on(application=capped, outcome="denied")


def test_denying_what_the_assessment_would_not_deploy_needs_no_justification() -> None:
    internal = application(assessment=assessment_at("internal", "internal"))
    decision = decision_of(decide_on(application=internal, outcome="denied", justification="x"))
    assert decision.outcome == "denied"
    assert decision.departure is False and decision.justification is None
    assert decision.assessed_tier == "internal"
    # nor where the request itself asks for no more than internal use
    asked = application(requested_tier="internal")
    assert decision_of(decide_on(application=asked, outcome="denied")).departure is False


def test_a_denial_takes_no_table() -> None:
    for table in (
        {"tiers": {"t1": "internal"}},
        {"sector_tiers": {"t2": {"military": "internal"}}},
    ):
        refused(
            InvalidInput,
            "tiers: a denial deploys nowhere; leave tiers empty",
            decide_on,
            outcome="denied",
            justification="Denied.",
            **table,
        )


def test_a_denial_owes_no_condition_the_findings_require() -> None:
    """A denial deploys nothing, so a required condition left out is no departure."""
    closed = {**assessment_at("internal", "internal"), "findings": NARROW["findings"]}
    change = decide_on(application=application(assessment=closed), outcome="denied")
    decision = decision_of(change)
    assert decision.condition_departures == () and decision.departure is False
    assert change.records[2:] == ()


# --- reasons and the evidence they cite ----------------------------------------------------------


def test_a_reason_must_cite_framework_rules_and_this_applications_evidence() -> None:
    refused(
        InvalidInput,
        "reasons[1].rules: 'cyber.c9' is not a rule, level, metric, safeguard or procedure id "
        "of the framework",
        decide_on,
        reasons=(REASON, Reason(text="Made up.", rules=("cyber.c9",))),
    )
    refused(
        InvalidInput,
        "reasons[0].evidence: cccccccccccccccc... is not evidence of this application",
        decide_on,
        reasons=(Reason(text="Elsewhere.", rules=("cyber",), evidence=("c" * 64,)),),
    )
    refused(
        InvalidInput,
        "reasons[1]: a reason must cite at least one framework rule or evidence digest",
        decide_on,
        reasons=(REASON, Reason(text="Because.")),
    )
    # a reason citing evidence alone, or a procedure step alone, is enough
    evidence_only = Reason(text="See the run.", evidence=(LAB.sha256,))
    procedure = Reason(text="Per the procedure.", rules=("procedure.decision_days",))
    decision = decision_of(decide_on(reasons=(evidence_only, procedure)))
    assert decision.reasons == (evidence_only, procedure)


def test_the_authoritys_own_evidence_may_be_cited() -> None:
    both = application(authority_evidence=(OWN,), authority_assessment=ASSESSMENT)
    cited = Reason(text="Our own run agrees.", rules=("ctf",), evidence=(OWN.sha256,))
    change = decide_on(application=both, reasons=(cited,))
    assert decision_of(change).departure is False
    assert "contradicted_evidence" not in change.events[0].data


def contradicted_application(**changes: Any) -> Application:
    """The authority's own run contradicts the developer's evidence LAB on ctf at c1."""
    fields: dict[str, Any] = {
        "authority_evidence": (OWN,),
        "authority_assessment": ASSESSMENT,
        **changes,
    }
    return application(
        discrepancies=(
            Discrepancy(
                metric="ctf",
                domain="cyber",
                level="c1",
                developer="ruled_out",
                authority="reached",
                developer_evidence=(LAB.sha256,),
                authority_evidence=(OWN.sha256,),
                text="ctf at c1: the two runs disagree",
            ),
        ),
        **fields,
    )


def test_relying_on_evidence_the_authoritys_run_contradicts_needs_a_justification() -> None:
    refused(
        InvalidInput,
        "justification: the reasons rely on the developer's evidence aaaaaaaaaaaaaaaa..., which "
        "the authority's own run contradicts; relying on it is a departure that needs a written "
        "justification",
        decide_on,
        application=contradicted_application(),
    )
    change = decide_on(
        application=contradicted_application(), justification="The lab's harness is sound."
    )
    decision = decision_of(change)
    assert decision.departure is True and decision.departures == ()
    assert decision.justification == "The lab's harness is sound."
    assert change.events[0].data["contradicted_evidence"] == [LAB.sha256]
    assert change.events[0].data["departure"] is True


def test_a_denial_may_rely_on_contradicted_evidence_without_a_justification() -> None:
    closed = contradicted_application(authority_assessment=assessment_at("internal", "internal"))
    change = decide_on(application=closed, outcome="denied")
    assert decision_of(change).departure is False
    assert change.events[0].data["contradicted_evidence"] == [LAB.sha256]


def test_once_the_authority_has_filed_its_assessment_sets_the_caps() -> None:
    both = application(
        authority_evidence=(OWN,),
        authority_assessment=assessment_at("approved_partners", "internal"),
    )
    with pytest.raises(InvalidInput, match="above this cell's cap approved_partners"):
        decide_on(application=both)
    decision = decision_of(decide_on(application=both, tier="approved_partners"))
    assert decision.assessed_tier == "approved_partners"
    # the conditions its findings require bind the decision too
    narrow = application(authority_assessment=NARROW, assessment=assessment_at("public", "public"))
    with pytest.raises(InvalidInput, match="condition rule rt-narrow"):
        decide_on(application=narrow)


# --- who decides, and when -----------------------------------------------------------------------


def test_only_the_assigned_independent_reviewer_decides() -> None:
    other = principal("pri_otto", "org_auth", "reviewer")
    refused(
        Conflict,
        "application app_1 is not assigned to Otto; take or be assigned the case first",
        decide_on,
        reviewer=other,
    )
    conflicted = principal("pri_rita", "org_auth", "reviewer", conflicts=("org_dev",))
    refused(
        Forbidden,
        "Rita declared a conflict of interest with the organization behind application app_1",
        decide_on,
        reviewer=conflicted,
    )
    insider = principal("pri_rita", "org_dev", "reviewer")
    refused(
        Forbidden,
        "Rita may not act on application app_1: it is their own organization's",
        decide_on,
        reviewer=insider,
    )
    admin = principal("pri_rita", "org_auth", "admin")
    refused(Forbidden, "this needs the reviewer role; Rita has admin", decide_on, reviewer=admin)


@pytest.mark.parametrize("state", ["filed", "information_requested", "decided", "withdrawn"])
def test_only_an_application_under_review_is_decided(state: str) -> None:
    refused(
        Conflict,
        f"application app_1 is {state}; only an application under review can be decided",
        decide_on,
        application=application(state=state),
    )


# --- deemed decisions ----------------------------------------------------------------------------


def test_a_missed_deadline_deems_the_application_approved_at_the_prescribed_table() -> None:
    change = deem()
    updated, decision = change.records
    assert updated == application(state="decided", decision_id="dec_1")
    reason = Reason(
        text="Deemed approved: no decision was made by the deadline (2026-08-22); under the "
        "framework's procedure the application is approved in each requested group at the tier "
        "the assessment permits there (t1: public_safeguarded, t2: approved_partners), each "
        "sector within its cap.",
        rules=("procedure.deemed_approval",),
        evidence=(LAB.sha256,),
    )
    assert decision == Decision(
        id="dec_1",
        application_id="app_1",
        model_id="mdl_1",
        outcome="approved",
        tier="public_safeguarded",
        jurisdictions=("t1", "t2"),
        tiers={"t1": "public_safeguarded", "t2": "approved_partners"},
        sector_tiers={"t2": {"military": "internal"}},
        reasons=(reason,),
        assessed_tier="public_safeguarded",
        departure=False,
        justification=None,
        deemed=True,
        decided_by=None,
        decided_at=NOW,
        valid_until=NOW + dt.timedelta(days=365),
        appeal_deadline=NOW + dt.timedelta(days=30),
    )
    assert change.events == (
        Event(
            kind="decision.deemed",
            subject="dec_1",
            model_id="mdl_1",
            actor="scheduler",
            at=NOW,
            data={
                "application": "app_1",
                "tier": "public_safeguarded",
                "tiers": {"t1": "public_safeguarded", "t2": "approved_partners"},
                "sector_tiers": {"t2": {"military": "internal"}},
                "deadline": DEADLINE.isoformat(),
                "obligations": [],
            },
        ),
    )


def test_a_deemed_approval_never_exceeds_what_was_requested() -> None:
    decision = decision_of(deem(application(requested_tier="approved_partners")))
    assert decision.tiers == {"t1": "approved_partners", "t2": "approved_partners"}
    assert decision.outcome == "approved"
    # only the requested groups
    only_t2 = decision_of(deem(application(requested_jurisdictions=("t2",))))
    assert only_t2.tiers == {"t2": "approved_partners"} and only_t2.tier == "approved_partners"


def test_a_framework_may_deem_at_the_assessed_tier_whatever_was_requested() -> None:
    framework = load(small(procedure={"deemed_approval": {"tier": "as_assessed"}}))
    app = application(requested_tier="approved_partners")
    decision = decision_of(deem(app, framework=framework))
    assert decision.tiers == {"t1": "public_safeguarded", "t2": "approved_partners"}


def test_a_deemed_decision_where_the_assessment_permits_no_deployment_is_a_refusal() -> None:
    closed = {**assessment_at("internal", "halted"), "findings": NARROW["findings"]}
    closed["conditions"] = NARROW["conditions"]
    change = deem(application(assessment=closed, evidence=(LAB, OWN)))
    decision = decision_of(change)
    assert decision.outcome == "denied"
    assert decision.tier == "halted" and decision.tiers == {} and decision.jurisdictions == ()
    assert decision.conditions == ("patch within 30 days",)
    assert decision.reasons == (
        Reason(
            text="No decision was made by the deadline (2026-08-22); the framework deems the "
            "application decided at the tiers the assessment permits, and they permit no "
            "deployment in any requested jurisdiction group, so it stands refused.",
            rules=("procedure.deemed_approval",),
            evidence=(LAB.sha256, OWN.sha256),
        ),
    )
    # a refusal imposes no obligation, whatever the findings require
    assert change.records[2:] == ()
    assert change.events[0].data["obligations"] == []
    assert change.events[0].data["tier"] == "halted"


def test_a_deemed_approval_carries_the_conditions_the_findings_require() -> None:
    change = deem(application(assessment=NARROW))
    decision = decision_of(change)
    assert decision.outcome == "approved_with_conditions"
    assert decision.conditions == ("patch within 30 days",)
    assert decision.departure is False and decision.condition_departures == ()
    (obligation,) = change.records[2:]
    assert obligation == Obligation(
        id="obl_1_1",
        decision_id="dec_1",
        model_id="mdl_1",
        organization_id="org_dev",
        text="patch within 30 days",
        rule="rt-narrow",
        created_at=NOW,
    )
    assert change.events[0].data["obligations"] == ["obl_1_1"]


def test_a_deemed_decision_answers_to_the_authoritys_assessment_once_filed() -> None:
    both = application(authority_assessment=assessment_at("approved_partners", "internal"))
    decision = decision_of(deem(both))
    assert decision.tiers == {"t1": "approved_partners"}
    assert decision.assessed_tier == "approved_partners"


def test_a_filed_application_no_reviewer_took_is_deemed_too() -> None:
    change = deem(application(state="filed", reviewer_id=None))
    assert decision_of(change).outcome == "approved"
    assert change.records[0] == application(state="decided", reviewer_id=None, decision_id="dec_1")


def test_the_deadline_itself_is_the_first_instant_an_application_is_deemed() -> None:
    refused(
        Conflict,
        "application app_1 is not overdue until 2026-08-22 12:00:00+00:00",
        deem,
        now=DEADLINE - dt.timedelta(seconds=1),
    )
    assert decision_of(deem(now=DEADLINE)).decided_at == DEADLINE


def test_an_application_awaiting_answers_is_deemed_where_questions_leave_the_clock_running() -> (
    None
):
    change = deem(app=application(state="information_requested"))
    assert change.records[0].state == "decided"
    assert change.records[1].deemed is True


@pytest.mark.parametrize("state", ["decided", "withdrawn"])
def test_only_an_open_application_awaiting_a_decision_is_deemed(state: str) -> None:
    refused(
        Conflict,
        f"application app_1 is {state}; nothing to deem",
        deem,
        app=application(state=state),
    )


def test_an_application_cannot_be_deemed_approved_while_testing_access_is_missing() -> None:
    owed = application(testing_access_missing=True, clock_stopped_at=FILED)
    refused(
        Conflict,
        "application app_1 cannot be deemed decided: the developer has not provided the testing "
        "access the framework requires (the clock stands still)",
        deem,
        app=owed,
    )


def test_nothing_is_deemed_while_the_clock_is_stopped() -> None:
    refused(
        Conflict,
        "application app_1's clock is stopped; nothing to deem",
        deem,
        app=application(clock_stopped_at=FILED + dt.timedelta(days=5)),
    )


def test_a_framework_without_deemed_approval_deems_nothing() -> None:
    framework = load(small(procedure={"deemed_approval": {"enabled": False}}))
    refused(Conflict, "this framework has no deemed approval", deem, framework=framework)


# --- found by mutation testing -------------------------------------------------------------------


def test_an_assessment_that_prescribes_no_tier_is_recorded_as_halted() -> None:
    """An assessment with no tier and no groups permits nothing: a denial needs no justification
    and the decision records the assessed tier as halted."""
    decision = decision_of(decide_on(application=application(assessment={}), outcome="denied"))
    assert decision.assessed_tier == "halted"
    assert decision.departure is False


def test_an_assessment_with_no_conditions_listed_is_deemed_without_conditions() -> None:
    bare = {k: v for k, v in ASSESSMENT.items() if k not in ("conditions", "findings")}
    decision = decision_of(deem(application(assessment=bare)))
    assert decision.outcome == "approved"
    assert decision.conditions == ()
    assert decision.assessed_tier == "public_safeguarded"
