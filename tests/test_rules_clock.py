"""The procedure's clock: which transitions are due, at exactly the second they fall due.

Each rule is checked at its boundary (due at the deadline itself, not a second before) and
against every state that stops it: a stopped clock or missing testing access holds a deemed
approval back, a pending appeal holds a decision open, only an active directive or grant
expires, only an open hearing or a filed appeal is missed. A grant's holder is told
`GRANT_NOTICE_DAYS` before the grant ends, and not once it has ended.
"""

from __future__ import annotations

from functools import partial

import pytest

from clearance.register._clock import (
    GRANT_NOTICE_DAYS,
    Due,
    appeal_due,
    application_due,
    decision_due,
    directive_due,
    grant_due,
    grant_warning_due,
    hearing_due,
    lapse_due,
)
from tests import rules_data
from tests.rules_data import DAY, NOW, SECOND

AT = NOW - 3 * DAY  # when each record below falls due
application = partial(rules_data.application, filed_at=AT - 90 * DAY, deadline=AT)
decision = partial(
    rules_data.decision, decided_at=AT - 30 * DAY, valid_until=AT, appeal_deadline=AT
)
directive = partial(
    rules_data.directive, issued_at=AT - 40 * DAY, hearing_date=AT - 30 * DAY, sunset_at=AT
)
grant = partial(rules_data.grant, granted_at=AT - 90 * DAY, expires_at=AT)
hearing = partial(rules_data.hearing, opened_at=AT - 10 * DAY, hold_by=AT)
appeal = partial(rules_data.appeal, filed_at=AT - 20 * DAY, decide_by=AT)


# --- deemed approval -------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["filed", "under_review"])
def test_an_overdue_application_is_deemed_at_exactly_its_deadline(state: str) -> None:
    case = application(state=state)
    assert application_due(case, True, AT) == Due(AT, "deemed_approval", "app_1")
    assert application_due(case, True, NOW) == Due(AT, "deemed_approval", "app_1")
    assert application_due(case, True, AT - SECOND) is None


def test_nothing_is_deemed_where_the_framework_does_not_deem() -> None:
    assert application_due(application(), False, NOW) is None


@pytest.mark.parametrize("state", ["decided", "withdrawn"])
def test_only_an_application_under_the_clock_is_deemed(state: str) -> None:
    assert application_due(application(state=state), True, NOW) is None


def test_an_open_question_holds_the_deemed_decision_back_only_where_it_stops_the_clock() -> None:
    # where questions stop the clock the application holds clock_stopped_at while one is open
    stopped = application(state="information_requested", clock_stopped_at=AT - DAY)
    assert application_due(stopped, True, NOW) is None
    # where they do not, the deadline binds with the question open
    running = application(state="information_requested")
    assert application_due(running, True, NOW) == application_due(application(), True, NOW)
    assert application_due(running, True, NOW) is not None


def test_a_stopped_clock_holds_the_deemed_decision_back() -> None:
    assert application_due(application(clock_stopped_at=AT - DAY), True, NOW) is None


def test_missing_testing_access_holds_the_deemed_approval_back() -> None:
    assert application_due(application(testing_access_missing=True), True, NOW) is None


# --- a decision's appeal window and its validity ---------------------------------------------


def test_a_decision_becomes_final_when_its_appeal_window_closes() -> None:
    assert decision_due(decision(), False, AT) == Due(AT, "appeal_window_closed", "dec_1")
    assert decision_due(decision(), False, NOW) == Due(AT, "appeal_window_closed", "dec_1")
    assert decision_due(decision(), False, AT - SECOND) is None


def test_a_pending_appeal_holds_the_decision_open() -> None:
    assert decision_due(decision(), True, NOW) is None


def test_a_final_decision_is_not_made_final_again() -> None:
    assert decision_due(decision(final=True), False, NOW) is None


@pytest.mark.parametrize("outcome", ["approved", "approved_with_conditions"])
def test_an_approval_lapses_at_exactly_the_end_of_its_validity(outcome: str) -> None:
    standing = decision(outcome=outcome, valid_until=AT, appeal_deadline=AT - 20 * DAY)
    assert lapse_due(standing, AT) == Due(AT, "approval_lapsed", "dec_1")
    assert lapse_due(standing, NOW) == Due(AT, "approval_lapsed", "dec_1")
    assert lapse_due(standing, AT - SECOND) is None


def test_a_refusal_a_set_aside_or_a_lapsed_decision_does_not_lapse() -> None:
    assert lapse_due(decision(outcome="denied", tier="halted", jurisdictions=()), NOW) is None
    assert lapse_due(decision(set_aside=True), NOW) is None
    assert lapse_due(decision(lapsed=True), NOW) is None


# --- directives, grants, hearings, appeals ---------------------------------------------------


def test_an_active_directive_expires_at_exactly_its_sunset() -> None:
    assert directive_due(directive(), AT) == Due(AT, "directive_sunset", "dir_1")
    assert directive_due(directive(), NOW) == Due(AT, "directive_sunset", "dir_1")
    assert directive_due(directive(), AT - SECOND) is None


@pytest.mark.parametrize("state", ["expired", "superseded", "proposed", "revoked", "set_aside"])
def test_only_an_active_directive_expires(state: str) -> None:
    assert directive_due(directive(state=state), NOW) is None


def test_an_active_grant_expires_at_exactly_its_expiry() -> None:
    assert grant_due(grant(), AT) == Due(AT, "grant_expiry", "grt_1")
    assert grant_due(grant(), NOW) == Due(AT, "grant_expiry", "grt_1")
    assert grant_due(grant(), AT - SECOND) is None


def test_a_grant_with_no_expiry_or_no_longer_active_does_not_expire() -> None:
    assert grant_due(grant(expires_at=None), NOW) is None
    assert grant_due(grant(state="revoked"), NOW) is None
    assert grant_due(grant(state="expired"), NOW) is None


def test_an_open_hearing_is_missed_at_exactly_its_date() -> None:
    assert hearing_due(hearing(), AT) == Due(AT, "hearing_missed", "hrg_1")
    assert hearing_due(hearing(), NOW) == Due(AT, "hearing_missed", "hrg_1")
    assert hearing_due(hearing(), AT - SECOND) is None


@pytest.mark.parametrize("state", ["closed", "lapsed"])
def test_a_closed_hearing_is_not_missed(state: str) -> None:
    assert hearing_due(hearing(state=state), NOW) is None


def test_a_filed_appeal_misses_the_panels_deadline_at_exactly_that_second() -> None:
    assert appeal_due(appeal(), AT) == Due(AT, "panel_deadline_missed", "apl_1")
    assert appeal_due(appeal(), NOW) == Due(AT, "panel_deadline_missed", "apl_1")
    assert appeal_due(appeal(), AT - SECOND) is None


@pytest.mark.parametrize("state", ["upheld", "overturned", "dismissed"])
def test_a_ruled_appeal_misses_nothing(state: str) -> None:
    assert appeal_due(appeal(state=state), NOW) is None


# --- the grant holder's notice ---------------------------------------------------------------


def test_a_grant_holder_is_told_seven_days_before_the_grant_ends() -> None:
    assert GRANT_NOTICE_DAYS == 7
    ends = NOW + 3 * DAY
    warn_at = ends - 7 * DAY
    assert grant_warning_due(grant(expires_at=ends), warn_at) == Due(
        warn_at, "grant_expiring", "grt_1"
    )
    assert grant_warning_due(grant(expires_at=ends), NOW) == Due(warn_at, "grant_expiring", "grt_1")
    assert grant_warning_due(grant(expires_at=ends), ends - SECOND) == Due(
        warn_at, "grant_expiring", "grt_1"
    )
    assert grant_warning_due(grant(expires_at=ends), warn_at - SECOND) is None


def test_no_notice_once_the_grant_has_ended_or_for_a_grant_that_does_not_end() -> None:
    ends = NOW + 3 * DAY
    assert grant_warning_due(grant(expires_at=ends), ends) is None
    assert grant_warning_due(grant(expires_at=ends), ends + DAY) is None
    assert grant_warning_due(grant(expires_at=None), NOW) is None
    assert grant_warning_due(grant(expires_at=ends, state="revoked"), NOW) is None


def test_due_transitions_are_applied_in_time_order() -> None:
    later = Due(NOW, "grant_expiry", "grt_1")
    earlier = Due(AT, "hearing_missed", "hrg_1")
    assert sorted([later, earlier]) == [earlier, later]
