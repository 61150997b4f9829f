"""A model's public status: what its decisions, directives and applications add up to at a time.

The status is what the snapshot serves the gateway, so each rule is one a user would name: a
halt beats an approval; a restriction narrows it to its scope; a restoration with no scope
lifts the directive; the latest standing decision counts, not one set aside; an approval past
its validity lapses at exactly that second; a refusal or a lapsed approval carries no tier, no
table and no conditions; a pending application shows until a standing approval decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import partial
from typing import Any

import pytest

from clearance.register._records import (
    Application,
    Decision,
    Directive,
    Scope,
)
from clearance.register._status import ModelStatus, model_status
from tests import rules_data
from tests.rules_data import DAY, NOW, SECOND, model

MODEL = model(channels=("api", "app"))
NONE = ModelStatus(
    model_id="mdl_1", name="frontier-1", organization_id="org_dev", status="unreviewed"
)
application = partial(rules_data.application, id="app_2")
decision = partial(
    rules_data.decision,
    outcome="approved_with_conditions",
    jurisdictions=("t1", "t2"),
    tiers={"t1": "public", "t2": "approved_partners"},
    sector_tiers={"t2": {"military": "internal"}},
    conditions=("Report misuse within 72 hours.",),
)
directive = partial(rules_data.directive, urgent=True)


def approved(**kw: Any) -> ModelStatus:
    """The status `decision()` gives, with changes."""
    args: dict[str, Any] = {
        "status": "approved",
        "tier": "public",
        "jurisdictions": ("t1", "t2"),
        "tiers": {"t1": "public", "t2": "approved_partners"},
        "sector_tiers": {"t2": {"military": "internal"}},
        "conditions": ("Report misuse within 72 hours.",),
        "decision_id": "dec_1",
        "valid_until": NOW + 335 * DAY,
    }
    args.update(kw)
    return NONE.model_copy(update=args)


def status(
    decisions: Sequence[Decision] = (),
    directives: Sequence[Directive] = (),
    applications: Sequence[Application] = (),
    now: dt.datetime = NOW,
) -> ModelStatus:
    return model_status(MODEL, decisions, directives, applications, now)


# --- nothing decided yet ---------------------------------------------------------------------


def test_a_model_with_nothing_filed_is_unreviewed() -> None:
    assert status() == NONE


@pytest.mark.parametrize("state", ["filed", "under_review", "information_requested"])
def test_an_open_application_makes_the_model_pending(state: str) -> None:
    assert status(applications=[application(state=state)]) == NONE.model_copy(
        update={"status": "pending", "pending_application_id": "app_2"}
    )


@pytest.mark.parametrize("state", ["decided", "withdrawn"])
def test_a_decided_or_withdrawn_application_is_not_pending(state: str) -> None:
    assert status(applications=[application(state=state)]) == NONE


def test_the_latest_open_application_is_the_pending_one() -> None:
    older = application(id="app_1", filed_at=NOW - 9 * DAY)
    newer = application(id="app_3", filed_at=NOW - DAY)
    closed = application(id="app_4", filed_at=NOW, state="withdrawn")
    for order in ([older, newer, closed], [closed, newer, older]):
        assert status(applications=order).pending_application_id == "app_3"


# --- decisions -------------------------------------------------------------------------------


def test_a_standing_approval_gives_its_table_and_conditions() -> None:
    assert status([decision()]) == approved()


def test_an_approval_stands_while_an_application_for_a_new_version_is_pending() -> None:
    assert status([decision()], applications=[application()]) == approved(
        pending_application_id="app_2"
    )


def test_the_latest_decision_counts() -> None:
    old = decision(id="dec_0", decided_at=NOW - 300 * DAY, tier="internal", conditions=())
    new = decision(decided_at=NOW - 30 * DAY)
    assert status([old, new]) == approved()
    assert status([new, old]) == approved()


def test_a_decision_set_aside_no_longer_counts() -> None:
    old = decision(id="dec_0", decided_at=NOW - 300 * DAY, tier="internal", conditions=())
    overturned = decision(decided_at=NOW - 30 * DAY, set_aside=True)
    assert status([old, overturned]).decision_id == "dec_0"
    assert status([overturned]) == NONE


def test_a_refusal_gives_no_tier_no_table_and_no_conditions() -> None:
    refused = decision(outcome="denied", tier="halted")
    assert status([refused]) == NONE.model_copy(
        update={"status": "denied", "decision_id": "dec_1", "valid_until": NOW + 335 * DAY}
    )


def test_a_refused_model_with_a_new_application_is_pending() -> None:
    refused = decision(outcome="denied", tier="halted")
    assert status([refused], applications=[application()]) == NONE.model_copy(
        update={
            "status": "pending",
            "pending_application_id": "app_2",
            "decision_id": "dec_1",
            "valid_until": NOW + 335 * DAY,
        }
    )


def test_an_approval_lapses_at_exactly_the_end_of_its_validity() -> None:
    ends = NOW + 335 * DAY
    assert status([decision()], now=ends - SECOND) == approved()
    lapsed = NONE.model_copy(
        update={"status": "lapsed", "decision_id": "dec_1", "valid_until": ends}
    )
    assert status([decision()], now=ends) == lapsed
    assert status([decision()], now=ends + DAY) == lapsed


def test_a_lapsed_approval_with_a_new_application_is_pending() -> None:
    ends = NOW + 335 * DAY
    assert status([decision()], applications=[application()], now=ends) == NONE.model_copy(
        update={
            "status": "pending",
            "pending_application_id": "app_2",
            "decision_id": "dec_1",
            "valid_until": ends,
        }
    )


# --- directives ------------------------------------------------------------------------------


def test_a_halt_beats_an_approval() -> None:
    assert status([decision()], [directive()]) == approved(
        status="halted", tier="halted", directive_id="dir_1"
    )


def test_a_halt_on_an_unreviewed_model() -> None:
    assert status(directives=[directive()]) == NONE.model_copy(
        update={"status": "halted", "tier": "halted", "directive_id": "dir_1"}
    )


def test_a_restriction_narrows_an_approval_to_its_scope() -> None:
    scope = Scope(organizations=("org_bank",), groups=("t1",))
    restrict = directive(action="restrict", scope=scope)
    assert status([decision()], [restrict]) == approved(
        status="restricted", directive_id="dir_1", restricted_to=scope
    )


def test_a_restoration_with_no_scope_lifts_the_directive() -> None:
    restore = directive(action="restore")
    assert status([decision()], [restore]) == approved(directive_id="dir_1")


def test_a_restoration_to_a_scope_restricts_to_that_scope() -> None:
    scope = Scope(jurisdictions=("GB",))
    restore = directive(action="restore", scope=scope)
    assert status([decision()], [restore]) == approved(
        status="restricted", directive_id="dir_1", restricted_to=scope
    )


def test_a_directive_ends_at_exactly_its_sunset() -> None:
    sunset = NOW + 20 * DAY
    assert status([decision()], [directive()], now=sunset - SECOND).status == "halted"
    assert status([decision()], [directive()], now=sunset) == approved()


@pytest.mark.parametrize("state", ["expired", "superseded", "proposed", "lapsed", "revoked"])
def test_only_an_active_directive_binds(state: str) -> None:
    assert status([decision()], [directive(state=state)]) == approved()


def test_the_latest_active_directive_binds() -> None:
    halt = directive(id="dir_1", issued_at=NOW - 10 * DAY)
    restore = directive(id="dir_2", action="restore", issued_at=NOW - DAY)
    assert status([decision()], [halt, restore]) == approved(directive_id="dir_2")
    assert status([decision()], [restore, halt]) == approved(directive_id="dir_2")
    later_halt = directive(id="dir_3", issued_at=NOW - SECOND)
    assert status([decision()], [restore, later_halt]).status == "halted"
