"""Access to restricted models: requests, grants within the decided table, revocation, expiry.

The acts are pure functions (issue 16): each test builds the records in memory and checks the
refusal whole (its type and what its sentence names) or the Change whole. A grant opens only what
a recorded act permits: an approved model's cells up to approved_partners, for the organization's
own country and every country it names, within the groups and organizations a restriction still
serves. The last tests follow a grant through the snapshot to the gateway's decision.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from clearance.errors import Conflict, Forbidden, InvalidInput
from clearance.policy import Decider, build_snapshot, compile_content
from clearance.register import (
    decide_access,
    expire_grant,
    file_report,
    issue_directive,
    model_status,
    request_access,
    revoke_grant,
    warn_grant_expiry,
)
from clearance.register._access import check_grantable
from clearance.register._events import SCHEDULER, Change
from clearance.register._records import (
    AccessRequest,
    Decision,
    Grant,
    Limits,
    Organization,
    Reason,
    RiskReport,
    Scope,
)
from clearance.register._status import ModelStatus
from tests import rules_data
from tests.framework_data import load, small
from tests.rules_data import ADMIN, BANK, DAY, NOW, REVIEWER, SECOND, access_request, model
from tests.rules_data import PARTNER as APPLICANT

FRAMEWORK = load(small())  # t1: US, GB; t2: every other country, military capped at internal
USE_CASES = load(
    small(use_cases={"cyber-defense": "Defending networks", "fraud-analysis": "Fraud analysis"})
)
MODEL = model(channels=("api", "app"))
request = partial(access_request, channels=("api",), jurisdictions=("GB",), filed_at=NOW - DAY)


def status(**kw: Any) -> ModelStatus:
    """An approved model: approved_partners in t1, public in t2 (military: internal)."""
    args: dict[str, Any] = {
        "model_id": MODEL.id,
        "name": MODEL.name,
        "organization_id": MODEL.organization_id,
        "status": "approved",
        "tier": "public",
        "tiers": {"t1": "approved_partners", "t2": "public"},
        "sector_tiers": {"t2": {"military": "internal"}},
    }
    args.update(kw)
    return ModelStatus(**args)


grant = partial(rules_data.grant, granted_at=NOW - 10 * DAY, expires_at=NOW + 10 * DAY)


def ask(**kw: Any) -> Change:
    args: dict[str, Any] = {
        "new_id": "acr_1",
        "model": MODEL,
        "principal": APPLICANT,
        "use_case": "fraud-analysis",
        "channels": ("api",),
        "jurisdictions": ("GB",),
        "framework": FRAMEWORK,
        "now": NOW,
    }
    args.update(kw)
    return request_access(**args)


def decide(**kw: Any) -> Change:
    args: dict[str, Any] = {
        "request": request(),
        "model": MODEL,
        "decider": REVIEWER,
        "granted": True,
        "reasons": "A bank's fraud team, within the decided table.",
        "limits": Limits(requests_per_minute=60),
        "expires_at": NOW + 90 * DAY,
        "grant_id": "grt_new",
        "now": NOW,
        "status": status(),
        "organization": BANK,
        "framework": FRAMEWORK,
    }
    args.update(kw)
    return decide_access(**args)


def grantable(org: Organization = BANK, countries: tuple[str, ...] = (), **kw: Any) -> None:
    check_grantable(MODEL, status(**kw), org, FRAMEWORK, countries)


# --- asking --------------------------------------------------------------------------------------


def test_an_organization_asks_for_a_use_case_channels_and_countries() -> None:
    change = ask()
    assert change.records == (
        AccessRequest(
            id="acr_1", organization_id=BANK.id, model_id=MODEL.id, use_case="fraud-analysis",
            channels=("api",), jurisdictions=("GB",), filed_by=APPLICANT.id, filed_at=NOW,
        ),
    )  # fmt: skip
    [event] = change.events
    assert event.model_dump() == {
        "kind": "access.requested",
        "subject": "acr_1",
        "model_id": MODEL.id,
        "actor": APPLICANT.id,
        "at": NOW,
        "data": {"organization": BANK.id},
    }


def test_a_use_case_comes_from_the_frameworks_closed_list_when_it_has_one() -> None:
    with pytest.raises(InvalidInput) as error:
        ask(framework=USE_CASES, use_case="research")
    assert str(error.value) == (
        "use_case: unknown use case 'research'; valid: cyber-defense, fraud-analysis"
    )
    assert ask(framework=USE_CASES, use_case="cyber-defense").records[0].use_case == (  # type: ignore[attr-defined]
        "cyber-defense"
    )


def test_without_a_closed_list_a_use_case_is_an_id_a_caller_can_declare() -> None:
    for good in ("research", "0day", "a" * 64, "public-services:tax_v1.2"):
        assert ask(use_case=good).records[0].use_case == good  # type: ignore[attr-defined]
    for bad in ("Research", "-research", "a" * 65, "fraud analysis", "", "x/y"):
        with pytest.raises(InvalidInput) as error:
            ask(use_case=bad)
        assert str(error.value) == (
            f"use_case: {bad[:60]!r} is not a use-case id (lower-case letters, digits, '-', '_', "
            "'.', ':'); callers declare it in the X-Clearance-Use-Case header"
        )


def test_a_request_names_only_channels_the_model_is_offered_on() -> None:
    with pytest.raises(InvalidInput) as unknown:
        ask(channels=("api", "fax"))
    assert str(unknown.value) == "channels: unknown channel 'fax'; valid: api, app"
    api_only = MODEL.model_copy(update={"channels": ("api",)})
    with pytest.raises(InvalidInput) as error:
        ask(model=api_only, channels=("app", "api"))
    assert str(error.value) == "channels: model frontier-1 is not offered on app (it is on api)"
    app_only = MODEL.model_copy(update={"channels": ("app",)})
    with pytest.raises(InvalidInput, match=r"not offered on api \(it is on app\)$"):
        ask(model=app_only, channels=("api", "app"))
    assert ask(model=app_only, channels=("app",)).records[0].channels == ("app",)  # type: ignore[attr-defined]


# --- deciding ------------------------------------------------------------------------------------


def test_a_grant_carries_the_requests_scope_and_the_reviewers_conditions() -> None:
    change = decide()
    accepted, issued = change.records
    assert accepted == request().model_copy(
        update={
            "state": "granted",
            "reasons": "A bank's fraud team, within the decided table.",
            "decided_by": REVIEWER.id,
            "decided_at": NOW,
            "grant_id": "grt_new",
        }
    )
    assert issued == Grant(
        id="grt_new", organization_id=BANK.id, model_id=MODEL.id, channels=("api",),
        use_cases=("fraud-analysis",), jurisdictions=("GB",),
        limits=Limits(requests_per_minute=60), expires_at=NOW + 90 * DAY, origin="acr_1",
        granted_by=REVIEWER.id, granted_at=NOW,
    )  # fmt: skip
    assert [e.model_dump() for e in change.events] == [
        {
            "kind": "access.granted",
            "subject": "acr_1",
            "model_id": MODEL.id,
            "actor": REVIEWER.id,
            "at": NOW,
            "data": {"grant": "grt_new"},
        },
        {
            "kind": "grant.issued",
            "subject": "grt_new",
            "model_id": MODEL.id,
            "actor": REVIEWER.id,
            "at": NOW,
            "data": {"origin": "acr_1", "expires_at": (NOW + 90 * DAY).isoformat()},
        },
    ]
    open_ended = decide(expires_at=None)
    assert open_ended.records[1].expires_at is None  # type: ignore[attr-defined]
    assert open_ended.events[1].data == {"origin": "acr_1", "expires_at": None}


def test_a_refusal_records_its_reasons_and_issues_no_grant() -> None:
    # a refusal needs no status: nothing is opened
    change = decide(granted=False, reasons="No need shown.", status=None, organization=None)
    assert change.records == (
        request().model_copy(
            update={
                "state": "refused",
                "reasons": "No need shown.",
                "decided_by": REVIEWER.id,
                "decided_at": NOW,
            }
        ),
    )
    [event] = change.events
    assert event.model_dump() == {
        "kind": "access.refused",
        "subject": "acr_1",
        "model_id": MODEL.id,
        "actor": REVIEWER.id,
        "at": NOW,
        "data": {"organization": BANK.id},
    }
    # a refusal is refused on a halted model only by who may decide, not by the model's status
    assert decide(granted=False, status=status(status="halted")).records[0].state == "refused"  # type: ignore[attr-defined]


def test_only_a_reviewer_or_administrator_decides_access() -> None:
    with pytest.raises(Forbidden) as error:
        decide(decider=APPLICANT)
    assert str(error.value) == "this needs the reviewer or admin role; Ben Bank has partner"
    admin = decide(decider=ADMIN)
    assert admin.records[1].granted_by == ADMIN.id  # type: ignore[attr-defined]


def test_nobody_decides_access_for_their_own_organization_or_one_they_are_conflicted_with() -> None:
    own = REVIEWER.model_copy(update={"organization_id": BANK.id})
    with pytest.raises(Forbidden) as error:
        decide(decider=own)
    assert str(error.value) == (
        "Rita Reviewer may not act on access request acr_1: it is their own organization's"
    )
    conflicted = REVIEWER.model_copy(update={"conflicts": ("org_other", BANK.id)})
    with pytest.raises(Forbidden) as declared:
        decide(decider=conflicted)
    assert str(declared.value) == (
        "Rita Reviewer declared a conflict of interest with the organization behind access "
        "request acr_1"
    )
    # nor for the model's developer
    developer = REVIEWER.model_copy(update={"organization_id": MODEL.organization_id})
    with pytest.raises(Forbidden, match="may not act on model frontier-1: it is their own"):
        decide(decider=developer)
    with pytest.raises(Forbidden, match="conflict of interest with the organization behind model"):
        decide(decider=REVIEWER.model_copy(update={"conflicts": (MODEL.organization_id,)}))


def test_a_reviewer_whose_refusal_was_overturned_does_not_decide_again() -> None:
    with pytest.raises(Forbidden) as error:
        decide(request=request(excluded=("prn_other", REVIEWER.id)))
    assert str(error.value) == (
        "Rita Reviewer's refusal of access request acr_1 was overturned on appeal; another "
        "reviewer decides it"
    )
    assert decide(request=request(excluded=("prn_other",))).records[0].state == "granted"  # type: ignore[attr-defined]


def test_a_request_is_decided_once() -> None:
    for state in ("granted", "refused", "refusal_proposed"):
        with pytest.raises(Conflict) as error:
            decide(request=request(state=state))
        assert str(error.value) == f"access request acr_1 was already {state}"
    with pytest.raises(Conflict, match="already refused"):
        decide(request=request(state="refused"), granted=False)


def test_a_grant_expires_in_the_future_not_at_the_moment_it_is_made() -> None:
    for past in (NOW, NOW - SECOND):
        with pytest.raises(InvalidInput) as error:
            decide(expires_at=past)
        assert str(error.value) == "expires_at: a grant must expire in the future"
    assert decide(expires_at=NOW + SECOND).records[1].expires_at == NOW + SECOND  # type: ignore[attr-defined]


def test_a_grant_is_always_checked_against_the_models_standing() -> None:
    for missing in ("status", "organization", "framework"):
        with pytest.raises(ValueError, match=r"^a grant is checked against the model's status"):
            decide(**{missing: None})


# --- what a grant may open -----------------------------------------------------------------------


def test_an_access_grant_only_on_an_approved_model() -> None:
    with pytest.raises(Conflict) as halted:
        decide(status=status(status="halted", tier="halted"))
    assert str(halted.value) == "model frontier-1 is halted by a directive; no grant can open it"
    for name in ("unreviewed", "pending", "denied", "lapsed"):
        with pytest.raises(Conflict) as error:
            grantable(status=name, tier=None, tiers={}, sector_tiers={})
        assert str(error.value) == (
            f"model frontier-1 is {name}: it has no standing approval that a grant could open"
        )


def test_a_grant_opens_a_partners_cell_or_a_more_open_one() -> None:
    grantable()  # the bank (US, t1): approved_partners
    grantable(countries=("BR", "GB"))  # BR in t2: public
    with pytest.raises(Conflict) as error:
        grantable(tiers={"t1": "internal", "t2": "public"})
    assert str(error.value) == (
        "the decision on frontier-1 sets t1 to internal; a grant can open approved_partners at most"
    )


def test_a_grant_opens_each_country_it_names_only_within_the_decided_table() -> None:
    with pytest.raises(Conflict) as error:
        grantable(countries=("BR",), tiers={"t1": "approved_partners"})
    assert str(error.value) == (
        "jurisdictions: BR (group t2) is not in the decision's table for frontier-1 (it permits t1)"
    )
    with pytest.raises(Conflict, match=r"\(group t1\) is not in .* \(it permits no group\)$"):
        grantable(status="approved", tiers={})
    with pytest.raises(Conflict, match=r"^the decision on frontier-1 sets t1 to halted"):
        grantable(tiers={"t1": "halted", "t2": "public"})


def test_a_country_outside_every_group_is_not_in_the_table() -> None:
    data = small()
    data["jurisdictions"] = [{"id": "t1", "name": "Tier 1", "members": ["US", "GB"]}]
    framework = load(data)
    with pytest.raises(Conflict) as error:
        check_grantable(MODEL, status(), BANK, framework, ("BR",))
    assert str(error.value) == (
        "jurisdictions: BR (group None) is not in the decision's table for frontier-1 "
        "(it permits t1, t2)"
    )


def test_a_sector_cell_binds_the_organizations_own_country_only() -> None:
    military = BANK.model_copy(update={"jurisdiction": "BR", "sector": "military"})
    with pytest.raises(Conflict) as error:
        grantable(org=military)
    assert str(error.value) == (
        "the decision on frontier-1 sets sector military in group t2 to internal; a grant can "
        "open approved_partners at most"
    )
    # a military organization at home in t1 (no military cell there) may be granted t2 countries:
    # it calls from its own country, whose cell is t1's
    home = BANK.model_copy(update={"sector": "military"})
    grantable(org=home, countries=("BR",))


def test_a_restriction_to_groups_refuses_a_grant_in_any_other_group() -> None:
    scope = Scope(groups=("t2",))
    with pytest.raises(Conflict) as error:
        grantable(status="restricted", restricted_to=scope)
    assert str(error.value) == (
        "jurisdictions: US (group t1) is outside the groups the directive on frontier-1 still "
        "serves (t2)"
    )
    abroad = BANK.model_copy(update={"jurisdiction": "BR"})
    grantable(org=abroad, status="restricted", restricted_to=scope)
    with pytest.raises(Conflict, match=r"^jurisdictions: GB \(group t1\) is outside"):
        grantable(org=abroad, countries=("GB",), status="restricted", restricted_to=scope)


def test_a_restriction_to_two_groups_names_both() -> None:
    data = small()
    data["jurisdictions"] = [
        {"id": "t1", "name": "Tier 1", "members": ["US", "GB"]},
        {"id": "eu", "name": "Europe", "members": ["DE", "FR"]},
        {"id": "t2", "name": "Rest", "members": ["*"]},
    ]
    restricted = status(status="restricted", restricted_to=Scope(groups=("eu", "t2")))
    with pytest.raises(Conflict) as error:
        check_grantable(MODEL, restricted, BANK, load(data), ())
    assert str(error.value) == (
        "jurisdictions: US (group t1) is outside the groups the directive on frontier-1 still "
        "serves (eu, t2)"
    )


def test_a_restriction_keeps_the_decided_tables_limits() -> None:
    restricted = {"status": "restricted", "restricted_to": Scope(channels=("api",))}
    grantable(**restricted)
    with pytest.raises(Conflict, match="sets t1 to internal"):
        grantable(tiers={"t1": "internal"}, **restricted)


def test_a_restriction_to_organizations_refuses_a_grant_to_any_other() -> None:
    """Found by these tests: the gateway admits any holder of a grant on a model restricted to
    named organizations, so a grant to an organization the restriction leaves out opened it."""
    scope = Scope(organizations=("org_agency", "org_police"))
    for tier in ("public", None):  # with a standing decision, or none at all
        with pytest.raises(Conflict) as error:
            grantable(status="restricted", tier=tier, restricted_to=scope)
        assert str(error.value) == (
            "model frontier-1 is restricted by a directive to org_agency, org_police; a grant "
            "cannot open it to org_bank"
        )
    agency = BANK.model_copy(update={"id": "org_agency"})
    grantable(org=agency, status="restricted", restricted_to=scope)
    grantable(org=agency, status="restricted", tier=None, tiers={}, restricted_to=scope)


def test_a_restriction_of_a_model_never_approved_opens_it_to_nobody_it_does_not_name() -> None:
    """Found by these tests: a restriction to groups alone of a model with no standing decision
    let a reviewer grant it, though no act approved the model for anyone."""
    for scope in (Scope(groups=("t1",)), Scope(channels=("api",)), None):
        with pytest.raises(Conflict) as error:
            grantable(status="restricted", tier=None, tiers={}, restricted_to=scope)
        assert str(error.value) == (
            "model frontier-1 is restricted with no standing approval; a grant can open it only "
            "to the organizations its directive names"
        )


def test_a_restriction_of_a_model_never_approved_serves_its_organizations_in_its_groups() -> None:
    scope = Scope(organizations=(BANK.id,), groups=("t2",))
    unapproved = {"status": "restricted", "tier": None, "tiers": {}, "restricted_to": scope}
    with pytest.raises(Conflict, match=r"^jurisdictions: US \(group t1\) is outside the groups"):
        grantable(**unapproved)
    abroad = BANK.model_copy(update={"jurisdiction": "BR", "sector": "military"})
    # no decided table to read cells from: the restriction alone
    grantable(org=abroad, **unapproved)
    with pytest.raises(Conflict, match=r"^jurisdictions: GB \(group t1\) is outside"):
        grantable(org=abroad, countries=("GB",), **unapproved)


# --- revoking, expiring, warning -----------------------------------------------------------------


def test_an_administrator_revokes_an_active_grant_and_the_record_says_who_and_when() -> None:
    held = grant()
    change = revoke_grant(held, ADMIN, NOW)
    assert change.records == (
        held.model_copy(update={"state": "revoked", "revoked_by": ADMIN.id, "revoked_at": NOW}),
    )
    [event] = change.events
    assert event.model_dump() == {
        "kind": "grant.revoked",
        "subject": "grt_1",
        "model_id": MODEL.id,
        "actor": ADMIN.id,
        "at": NOW,
        "data": {},
    }
    with pytest.raises(Forbidden, match=r"^this needs the admin role; Rita Reviewer has reviewer$"):
        revoke_grant(held, REVIEWER, NOW)
    for state in ("revoked", "expired"):
        with pytest.raises(Conflict) as error:
            revoke_grant(grant(state=state), ADMIN, NOW)
        assert str(error.value) == f"grant grt_1 is {state}"


def test_a_grant_expires_exactly_at_its_expiry_and_not_a_second_before() -> None:
    held = grant(expires_at=NOW)
    change = expire_grant(held, NOW)
    assert change.records == (held.model_copy(update={"state": "expired"}),)
    [event] = change.events
    assert event.model_dump() == {
        "kind": "grant.expired",
        "subject": "grt_1",
        "model_id": MODEL.id,
        "actor": SCHEDULER,
        "at": NOW,
        "data": {},
    }
    with pytest.raises(Conflict) as error:
        expire_grant(held, NOW - SECOND)
    assert str(error.value) == "grant grt_1 does not expire now"
    with pytest.raises(Conflict, match=r"^grant grt_1 does not expire now$"):
        expire_grant(grant(expires_at=None), NOW)
    with pytest.raises(Conflict, match=r"^grant grt_1 does not expire now$"):
        expire_grant(grant(expires_at=NOW - DAY, state="revoked"), NOW)


def test_a_grants_holder_is_warned_before_its_expiry_not_at_it() -> None:
    held = grant(expires_at=NOW + SECOND)
    change = warn_grant_expiry(held, NOW)
    assert change.records == ()
    [event] = change.events
    assert event.model_dump() == {
        "kind": "grant.expiring",
        "subject": "grt_1",
        "model_id": MODEL.id,
        "actor": SCHEDULER,
        "at": NOW,
        "data": {"expires_at": (NOW + SECOND).isoformat(), "organization": BANK.id},
    }
    for not_warned in (
        grant(expires_at=NOW),
        grant(expires_at=None),
        grant(expires_at=NOW + DAY, state="revoked"),
    ):
        with pytest.raises(Conflict) as error:
            warn_grant_expiry(not_warned, NOW)
        assert str(error.value) == "grant grt_1 is not about to expire"


# --- risk reports --------------------------------------------------------------------------------


def test_a_risk_report_needs_a_conflict_of_interest_disclosure() -> None:
    args: dict[str, Any] = {
        "new_id": "rpt_1", "model": MODEL, "principal": APPLICANT, "title": "Jailbreak",
        "summary": "A general jailbreak.", "now": NOW,
    }  # fmt: skip
    for blank in ("", "   \n"):
        with pytest.raises(InvalidInput) as error:
            file_report(conflict_of_interest=blank, **args)
        assert str(error.value) == (
            'conflict_of_interest: a disclosure is mandatory; write "None" if there is none'
        )
    change = file_report(conflict_of_interest="None", **args)
    assert change.records == (
        RiskReport(
            id="rpt_1", model_id=MODEL.id, organization_id=BANK.id, filed_by=APPLICANT.id,
            title="Jailbreak", summary="A general jailbreak.", conflict_of_interest="None",
            filed_at=NOW,
        ),
    )  # fmt: skip
    [event] = change.events
    assert (event.kind, event.subject, event.model_id, event.actor, event.at, event.data) == (
        "report.filed", "rpt_1", MODEL.id, APPLICANT.id, NOW, {"organization": BANK.id},
    )  # fmt: skip


# --- through the snapshot to the gateway ---------------------------------------------------------

DEVELOPER = rules_data.organization("org_dev", "Dev", "developer", "US")
AGENCY = rules_data.organization("org_agency", "Agency", "partner", "US")
DECISION = Decision(
    id="dec_1", application_id="app_1", model_id=MODEL.id, outcome="approved",
    tier="approved_partners", jurisdictions=("t1",), tiers={"t1": "approved_partners"},
    reasons=(Reason(text="Within the caps."),), assessed_tier="approved_partners",
    decided_by=REVIEWER.id, decided_at=NOW - 30 * DAY, valid_until=NOW + 300 * DAY,
    appeal_deadline=NOW - DAY,
)  # fmt: skip


def gateway(statuses: ModelStatus, grants: list[Grant]) -> Decider:
    content = compile_content(
        framework=FRAMEWORK, organizations=[DEVELOPER, BANK, AGENCY], principals=[],
        models=[MODEL], statuses=[statuses], grants=grants, now=NOW,
    )  # fmt: skip
    decider = Decider()
    decider.swap(build_snapshot(content, version=1, issued_at=NOW, expires_at=NOW + DAY))
    return decider


def call(decider: Decider, org: str, use_case: str = "", channel: str = "api") -> tuple[bool, str]:
    verdict = decider.decide_uncached(org, MODEL.name, use_case, NOW.timestamp(), channel)
    return verdict.allowed, verdict.code


def test_a_grant_scoped_to_a_use_case_admits_only_calls_that_declare_it() -> None:
    standing = model_status(MODEL, (DECISION,), (), (), NOW)
    issued = decide(status=standing, request=request(jurisdictions=()))
    d = gateway(standing, [issued.records[1]])  # type: ignore[list-item]
    assert call(d, BANK.id, "fraud-analysis") == (True, "allowed")
    assert call(d, BANK.id) == (False, "use_case_required")
    assert call(d, BANK.id, "research") == (False, "no_grant")
    assert call(d, BANK.id, "fraud-analysis", channel="app") == (False, "no_grant")
    assert call(d, AGENCY.id, "fraud-analysis") == (False, "no_grant")


def test_a_revoked_grant_admits_nobody_beside_a_second_grant_that_still_does() -> None:
    standing = model_status(MODEL, (DECISION,), (), (), NOW)
    first = decide(status=standing, request=request(jurisdictions=())).records[1]
    second = decide(
        status=standing,
        request=request(id="acr_2", use_case="cyber-defense", jurisdictions=()),
        grant_id="grt_second",
    ).records[1]
    revoked = revoke_grant(first, ADMIN, NOW).records[0]  # type: ignore[arg-type]
    d = gateway(standing, [revoked, second])  # type: ignore[list-item]
    assert call(d, BANK.id, "fraud-analysis") == (False, "no_grant")
    assert call(d, BANK.id, "cyber-defense") == (True, "allowed")


def test_a_restriction_to_named_organizations_is_not_widened_by_a_later_grant() -> None:
    restriction = issue_directive(
        new_id="dir_1", model=MODEL, admin=ADMIN, action="restrict", grounds="Agencies only.",
        scope=Scope(organizations=(AGENCY.id,)), active=(), framework=FRAMEWORK,
        grant_ids=("grt_agency",), now=NOW,
    )  # fmt: skip
    directive, agency_grant = restriction.records
    for decisions in ((DECISION,), ()):
        restricted = model_status(MODEL, decisions, (directive,), (), NOW)  # type: ignore[arg-type]
        with pytest.raises(Conflict, match="restricted"):
            decide(status=restricted, request=request(jurisdictions=()))
        d = gateway(restricted, [agency_grant])  # type: ignore[list-item]
        assert call(d, AGENCY.id) == (True, "allowed")
        assert call(d, BANK.id) == (False, "no_grant")
