"""The rules of the authority's own testing: its testing grant, the pre-release upstream the
developer owes, and the authority's runs filed beside the developer's (issue 16).

Pure acts over records built in memory, each checked whole (records and event) or refused whole
(kind and sentence). Boundary cases: a testing grant at the very second it expires, access
provided while a question still holds the clock, a run that agrees with the developer's (no
discrepancy) beside one that does not.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from clearance.errors import Conflict, Forbidden, InvalidInput
from clearance.register import (
    Application,
    Discrepancy,
    EvidenceRef,
    Grant,
    Organization,
)
from clearance.register._events import Change, Event
from clearance.register._testing import (
    add_authority_evidence,
    check_upstream_url,
    contradicted,
    discrepancies,
    governing_assessment,
    provide_testing_access,
    require_testing_access,
)
from clearance.register._testing import testing_grant as issue_testing_grant
from tests.framework_data import load, small
from tests.rules_data import refused
from tests.test_rules_applications import AUTHORITY, MODEL, TESTING
from tests.test_rules_decisions import (
    ASSESSMENT,
    DEVELOPER,
    FILED,
    FRAMEWORK,
    LAB,
    NOW,
    OWN,
    REVIEWER,
    application,
    principal,
)

UPSTREAM = "http://10.0.0.5:8000/v1"
STOPPED = NOW - dt.timedelta(days=12)
"""When the clock stopped for the testing access the developer owes (at filing)."""


# --- the pre-release upstream's address ----------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("http://10.0.0.5:8000/v1", "http://10.0.0.5:8000/v1"),
        ("  https://pre.example.org/v1/  ", "https://pre.example.org/v1"),
        ("http://[fd00::5]:8000", "http://[fd00::5]:8000"),
        ("http://model-7.internal/a_b/c.d~e%20f", "http://model-7.internal/a_b/c.d~e%20f"),
        ("http://h/", "http://h"),
        ("http://h/v1/MAX/", "http://h/v1/MAX"),
    ],
)
def test_an_upstream_is_an_http_base_url_kept_without_its_trailing_slash(
    given: str, kept: str
) -> None:
    assert check_upstream_url(given) == kept


@pytest.mark.parametrize(
    "url",
    [
        "http://user:secret@10.0.0.5/v1",  # credentials
        "http://10.0.0.5/v1?key=1",  # a query
        "http://10.0.0.5/v1#top",  # a fragment
        "ftp://10.0.0.5/v1",  # not http(s)
        "http://",  # no host
        "http://10.0.0.5/v 1",  # a space in the path
        "10.0.0.5:8000",  # no scheme
        "xhttp://10.0.0.5",
        "http://10.0.0.5/v1\nHost: elsewhere",  # a header smuggled in
    ],
)
def test_an_upstream_with_credentials_a_query_or_another_scheme_is_refused(url: str) -> None:
    refused(
        InvalidInput,
        f"pre_release_upstream: {url!r} is not an http(s) base URL with no credentials, query or "
        "fragment (for example http://10.0.0.5:8000/v1)",
        check_upstream_url,
        url,
    )


def test_a_refused_upstream_is_quoted_to_its_first_80_characters() -> None:
    url = "http://" + "h" * 100 + "/?q"
    with pytest.raises(InvalidInput) as error:
        check_upstream_url(url)
    assert f"{url[:80]!r} is not" in str(error.value)
    assert url[:81] not in str(error.value)


# --- the testing grant issued with a filing ------------------------------------------------------


def issue(**changes: Any) -> tuple[Grant, Event, bool]:
    args: dict[str, Any] = {
        "grant_id": "grt_1",
        "application_id": "app_1",
        "model": MODEL,
        "authority": AUTHORITY,
        "filed_by": DEVELOPER,
        "framework": TESTING,
        "upstream": None,
        "now": NOW,
    }
    args.update(changes)
    return issue_testing_grant(**args)


def test_the_testing_grant_waits_for_the_upstream_the_framework_requires() -> None:
    grant, event, missing = issue()
    assert missing is True
    assert grant == Grant(
        id="grt_1",
        organization_id="org_auth",
        model_id="mdl_1",
        expires_at=None,
        origin="app_1",
        granted_by="pri_dan",
        granted_at=NOW,
        purpose="testing",
        pre_release_upstream=None,
    )
    assert event == Event(
        kind="grant.issued",
        subject="grt_1",
        model_id="mdl_1",
        actor="pri_dan",
        at=NOW,
        data={
            "origin": "app_1",
            "purpose": "testing",
            "organization": "org_auth",
            "expires_at": None,
            "testing_access": "missing",
        },
    )


def test_the_days_of_testing_access_count_from_filing_once_the_upstream_is_named() -> None:
    grant, event, missing = issue(upstream=UPSTREAM)
    assert missing is False
    assert grant.expires_at == NOW + dt.timedelta(days=30)
    assert grant.pre_release_upstream == UPSTREAM
    assert event.data["expires_at"] == (NOW + dt.timedelta(days=30)).isoformat()
    assert event.data["testing_access"] == "provided"


def test_where_no_upstream_is_required_the_access_is_not_missing() -> None:
    optional = load(small(procedure={"testing_access_days": 14}))
    grant, event, missing = issue(framework=optional)
    assert missing is False
    assert grant.expires_at == NOW + dt.timedelta(days=14)
    assert grant.pre_release_upstream is None
    assert event.data["testing_access"] == "provided"


def test_a_testing_grant_goes_to_the_authority_under_a_framework_that_asks_for_testing() -> None:
    with pytest.raises(ValueError, match=r"^the framework asks for no testing access$"):
        issue(framework=FRAMEWORK)
    partner = Organization(
        id="org_p", name="Partner", kind="partner", jurisdiction="GB", created_at=FILED
    )
    with pytest.raises(ValueError, match=r"^a testing grant goes to the authority$"):
        issue(authority=partner)


# --- the developer provides testing access -------------------------------------------------------


def owed(**changes: Any) -> Application:
    """An application filed 12 days ago whose clock stands still for the upstream it owes."""
    fields: dict[str, Any] = {
        "state": "filed",
        "reviewer_id": None,
        "testing_grant_id": "grt_1",
        "testing_access_missing": True,
        "clock_stopped_at": STOPPED,
    }
    fields.update(changes)
    return application(**fields)


WAITING_GRANT, _, _ = issue(now=STOPPED)


def provide(**changes: Any) -> Change:
    args: dict[str, Any] = {
        "application": owed(),
        "grant": WAITING_GRANT,
        "principal": DEVELOPER,
        "upstream": UPSTREAM + "/",
        "framework": TESTING,
        "now": NOW,
    }
    args.update(changes)
    return provide_testing_access(**args)


def test_providing_the_upstream_restarts_the_clock_and_starts_the_days_of_access() -> None:
    change = provide()
    deadline = owed().deadline + dt.timedelta(days=12)
    expires = NOW + dt.timedelta(days=30)
    assert change.records == (
        owed(testing_access_missing=False, clock_stopped_at=None, deadline=deadline),
        WAITING_GRANT.model_copy(update={"pre_release_upstream": UPSTREAM, "expires_at": expires}),
    )
    assert change.events == (
        Event(
            kind="grant.modified",
            subject="grt_1",
            model_id="mdl_1",
            actor="pri_dan",
            at=NOW,
            data={
                "application": "app_1",
                "testing_access": "provided",
                "deadline": deadline.isoformat(),
                "expires_at": expires.isoformat(),
            },
        ),
    )


def test_access_provided_while_a_question_is_open_leaves_the_clock_to_the_answer() -> None:
    asked = owed(state="information_requested")
    updated, _ = provide(application=asked).records
    assert updated == owed(state="information_requested", testing_access_missing=False)


def test_a_question_that_does_not_stop_the_clock_does_not_hold_it_once_access_is_provided() -> None:
    """Regression: under a procedure where questions leave the clock running, access provided
    while a question was open left the clock stopped until the answer, and the deadline moved
    by the time the answer took as well."""
    framework = load(
        small(
            procedure={
                "testing_access_days": 30,
                "pre_release_upstream_required": True,
                "information_request_stops_clock": False,
            }
        )
    )
    asked = owed(state="information_requested")
    updated, _ = provide(application=asked, framework=framework).records
    assert updated == owed(
        state="information_requested",
        testing_access_missing=False,
        clock_stopped_at=None,
        deadline=owed().deadline + dt.timedelta(days=12),
    )


def test_changing_the_upstream_once_provided_changes_only_the_address() -> None:
    provided, grant = provide().records
    assert isinstance(provided, Application) and isinstance(grant, Grant)
    later = NOW + dt.timedelta(days=3)
    change = provide(
        application=provided, grant=grant, upstream="https://pre2.example.org", now=later
    )
    assert change.records == (
        provided,
        grant.model_copy(update={"pre_release_upstream": "https://pre2.example.org"}),
    )
    assert change.events[0].data["expires_at"] == grant.expires_at.isoformat()  # type: ignore[union-attr]
    assert change.events[0].data["deadline"] == provided.deadline.isoformat()


def test_access_owed_under_a_framework_without_testing_days_expires_at_once() -> None:
    """Fail closed: with no days of access in the procedure, providing it gives none."""
    _, grant = provide(framework=FRAMEWORK).records
    assert grant.expires_at == NOW  # type: ignore[attr-defined]


def test_only_the_applicant_provides_testing_access() -> None:
    refused(
        Forbidden, "this needs the developer role; Rita has reviewer", provide, principal=REVIEWER
    )
    rival = principal("pri_rex", "org_rival", "developer")
    refused(
        Forbidden,
        "only the organization that owns application app_1 may do this",
        provide,
        principal=rival,
    )


def test_access_is_provided_only_on_the_applications_own_testing_grant() -> None:
    other = WAITING_GRANT.model_copy(update={"id": "grt_2"})
    refused(
        Conflict,
        "grant grt_2 is not the testing grant of application app_1",
        provide,
        grant=other,
    )
    access = WAITING_GRANT.model_copy(update={"purpose": "access"})
    refused(
        Conflict,
        "grant grt_1 is not the testing grant of application app_1",
        provide,
        grant=access,
    )


def test_access_is_provided_only_while_the_testing_grant_is_in_force() -> None:
    revoked = WAITING_GRANT.model_copy(update={"state": "revoked"})
    refused(Conflict, "the testing grant grt_1 is no longer active", provide, grant=revoked)
    ends = WAITING_GRANT.model_copy(update={"expires_at": NOW})
    refused(Conflict, "the testing grant grt_1 is no longer active", provide, grant=ends)
    # a second before it expires it still is
    running = WAITING_GRANT.model_copy(update={"expires_at": NOW + dt.timedelta(seconds=1)})
    assert provide(grant=running).records[1].pre_release_upstream == UPSTREAM  # type: ignore[attr-defined]


def test_a_provided_upstream_must_be_a_base_url() -> None:
    with pytest.raises(InvalidInput, match=r"^pre_release_upstream: "):
        provide(upstream="http://10.0.0.5/v1?token=x")


def test_an_application_owing_testing_access_cannot_be_deemed() -> None:
    refused(
        Conflict,
        "application app_1 cannot be deemed decided: the developer has not provided the testing "
        "access the framework requires (the clock stands still)",
        require_testing_access,
        owed(),
    )
    assert require_testing_access(owed(testing_access_missing=False)) is None


# --- the authority's own runs --------------------------------------------------------------------


def level_test(
    level: str, outcome: str, evidence: str | None, value: float | None = 0.6, **extra: Any
) -> dict[str, Any]:
    """One level test as the assessor writes it."""
    return {
        "metric": "ctf",
        "level": level,
        "threshold": {"c1": 0.5, "c2": 0.8}[level],
        "outcome": outcome,
        "evidence": evidence,
        "value": value,
        "lower": extra.get("lower", 0.52),
        "upper": extra.get("upper", 0.68),
    }


def runs(*tests: dict[str, Any], domain: str = "cyber") -> dict[str, Any]:
    return {**ASSESSMENT, "domains": [{"domain": domain, "tests": list(tests)}]}


DEVELOPERS = runs(level_test("c1", "ruled_out", LAB.sha256, 0.4, lower=0.31, upper=0.49))
AUTHORITYS = runs(level_test("c1", "reached", OWN.sha256, 0.6, lower=0.52, upper=0.68))
COMBINED = {**ASSESSMENT, "max_tier": "approved_partners"}
CONTRADICTION = Discrepancy(
    metric="ctf",
    domain="cyber",
    level="c1",
    developer="ruled_out",
    authority="reached",
    developer_evidence=(LAB.sha256,),
    authority_evidence=(OWN.sha256,),
    text="ctf at c1: the developer's run reads ruled out (0.40, interval 0.31-0.49, threshold "
    "0.5); the authority's own run reads reached (0.60, interval 0.52-0.68, threshold 0.5)",
)


def file_own(**changes: Any) -> Change:
    args: dict[str, Any] = {
        "application": application(assessment=DEVELOPERS),
        "reviewer": REVIEWER,
        "evidence": (OWN,),
        "combined": COMBINED,
        "authority_only": AUTHORITYS,
        "now": NOW,
    }
    args.update(changes)
    return add_authority_evidence(**args)


def test_the_authoritys_runs_are_kept_with_the_assessment_over_both_and_the_contradictions() -> (
    None
):
    change = file_own()
    assert change.records == (
        application(
            assessment=DEVELOPERS,
            authority_evidence=(OWN,),
            authority_assessment=COMBINED,
            discrepancies=(CONTRADICTION,),
        ),
    )
    assert change.events == (
        Event(
            kind="application.authority_evidence",
            subject="app_1",
            model_id="mdl_1",
            actor="pri_rita",
            at=NOW,
            data={
                "evidence": [OWN.sha256],
                "assessed_tier": "approved_partners",
                "discrepancies": [CONTRADICTION.model_dump(mode="json")],
            },
        ),
    )


def test_more_runs_join_the_authoritys_earlier_ones_once_each_in_digest_order() -> None:
    third = EvidenceRef(sha256="0" * 64, name="ctf-again.eval", kind="inspect")
    earlier = application(assessment=DEVELOPERS, authority_evidence=(OWN,))
    change = file_own(application=earlier, evidence=(OWN, third))
    updated = change.records[0]
    assert isinstance(updated, Application)
    assert updated.authority_evidence == (third, OWN)
    assert change.events[0].data["evidence"] == [third.sha256, OWN.sha256]


def test_the_authoritys_evidence_is_filed_while_the_application_is_open() -> None:
    for state in ("filed", "under_review", "information_requested"):
        assert file_own(application=application(assessment=DEVELOPERS, state=state)).records
    for state in ("decided", "withdrawn"):
        refused(
            Conflict,
            f"application app_1 is {state}; the authority's evidence is filed while it is open",
            file_own,
            application=application(assessment=DEVELOPERS, state=state),
        )


def test_the_authority_files_at_least_one_run_of_its_own() -> None:
    refused(
        InvalidInput, "evidence: name at least one uploaded evaluation log", file_own, evidence=()
    )
    refused(
        InvalidInput,
        "evidence: aaaaaaaaaaaaaaaa... is the developer's own evidence, not the authority's",
        file_own,
        evidence=(OWN, LAB),
    )


def test_only_an_independent_reviewer_files_the_authoritys_runs() -> None:
    refused(
        Forbidden, "this needs the reviewer role; Dan has developer", file_own, reviewer=DEVELOPER
    )
    conflicted = principal("pri_cy", "org_auth", "reviewer", conflicts=("org_dev",))
    refused(
        Forbidden,
        "Cy declared a conflict of interest with the organization behind application app_1",
        file_own,
        reviewer=conflicted,
    )
    insider = principal("pri_ian", "org_dev", "reviewer")
    refused(
        Forbidden,
        "Ian may not act on application app_1: it is their own organization's",
        file_own,
        reviewer=insider,
    )


def test_a_discrepancy_needs_both_sides_to_have_run_the_same_metric_at_the_same_level() -> None:
    agree = runs(level_test("c1", "ruled_out", OWN.sha256, 0.45))
    assert discrepancies(DEVELOPERS, agree) == ()
    # the authority ran c2 only, or the developer's run had no evidence: nothing to compare
    assert discrepancies(DEVELOPERS, runs(level_test("c2", "reached", OWN.sha256, 0.9))) == ()
    no_evidence = runs(level_test("c1", "ruled_out", None, None))
    assert discrepancies(no_evidence, AUTHORITYS) == ()
    assert discrepancies(DEVELOPERS, runs(level_test("c1", "reached", None, None))) == ()
    # another domain with the same metric and level is another test
    assert discrepancies(DEVELOPERS, runs(*AUTHORITYS["domains"][0]["tests"], domain="bio")) == ()
    assert discrepancies({}, AUTHORITYS) == () and discrepancies(DEVELOPERS, {}) == ()
    assert discrepancies(DEVELOPERS, AUTHORITYS) == (CONTRADICTION,)


def test_every_contradicted_level_is_listed_in_order() -> None:
    developer = runs(
        level_test("c2", "ruled_out", LAB.sha256, 0.5),
        level_test("c1", "ruled_out", LAB.sha256, 0.4),
    )
    authority = runs(
        level_test("c2", "cannot_rule_out", OWN.sha256, 0.7),
        level_test("c1", "reached", OWN.sha256, 0.6),
    )
    found = discrepancies(developer, authority)
    assert [(d.level, d.developer, d.authority) for d in found] == [
        ("c1", "ruled_out", "reached"),
        ("c2", "ruled_out", "cannot_rule_out"),
    ]
    assert "the authority's own run reads cannot rule out (0.70" in found[1].text


def test_a_reading_without_a_value_or_an_interval_says_only_what_it_can() -> None:
    bare = runs(level_test("c1", "ruled_out", LAB.sha256, None))
    point = runs(level_test("c1", "reached", OWN.sha256, 0.61, lower=None, upper=0.7))
    (found,) = discrepancies(bare, point)
    assert found.text == (
        "ctf at c1: the developer's run reads ruled out; the authority's own run reads reached "
        "(0.61, threshold 0.5)"
    )
    half = runs(level_test("c1", "reached", OWN.sha256, 0.61, lower=0.55, upper=None))
    assert discrepancies(bare, half)[0].text.endswith("reads reached (0.61, threshold 0.5)")


def test_the_evidence_contradicted_is_the_developers_side_of_each_discrepancy() -> None:
    assert contradicted(application()) == set()
    second = CONTRADICTION.model_copy(
        update={"level": "c2", "developer_evidence": ("c" * 64, LAB.sha256)}
    )
    both = application(discrepancies=(CONTRADICTION, second))
    assert contradicted(both) == {LAB.sha256, "c" * 64}


def test_the_assessment_over_both_sides_governs_once_the_authority_has_filed() -> None:
    assert governing_assessment(application()) == ASSESSMENT
    assert governing_assessment(application(authority_assessment=COMBINED)) == COMBINED


# --- found by mutation testing -------------------------------------------------------------------


def test_a_level_on_which_both_sides_agree_does_not_hide_the_next_one() -> None:
    developer = runs(
        level_test("c1", "ruled_out", LAB.sha256, 0.4), level_test("c2", "ruled_out", LAB.sha256)
    )
    authority = runs(
        level_test("c1", "ruled_out", OWN.sha256, 0.45),
        level_test("c2", "reached", OWN.sha256, 0.9, lower=0.85, upper=0.95),
    )
    (found,) = discrepancies(developer, authority)
    assert (found.level, found.developer, found.authority) == ("c2", "ruled_out", "reached")


def test_a_domain_without_level_tests_contributes_no_discrepancy() -> None:
    untested = {**ASSESSMENT, "domains": [{"domain": "bio"}, *AUTHORITYS["domains"]]}
    assert discrepancies(DEVELOPERS, untested) == (CONTRADICTION,)
    assert discrepancies({"domains": [{"domain": "cyber"}]}, AUTHORITYS) == ()


def test_every_developer_digest_filed_as_the_authoritys_is_named() -> None:
    second = EvidenceRef(sha256="c" * 64, name="ctf-2.eval", kind="inspect")
    refused(
        InvalidInput,
        "evidence: aaaaaaaaaaaaaaaa, cccccccccccccccc... is the developer's own evidence, not the "
        "authority's",
        file_own,
        application=application(assessment=DEVELOPERS, evidence=(second, LAB)),
        evidence=(second, OWN, LAB),
    )
