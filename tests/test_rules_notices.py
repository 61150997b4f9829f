"""Who an act touches: the organizations told of each event, and what each is shown.

The developer hears of its applications, questions, decisions, directives, risk reports,
models and obligations; each organization named in a hearing hears of the hearing; an appellant
of its appeal; an organization of its own access requests and grants, and never sees another's.
An event of none of these kinds, or one about no model, tells nobody.
"""

from __future__ import annotations

from typing import Any

import pytest

from clearance.register._events import Event
from clearance.register._notices import notice_recipients
from clearance.register._records import Record
from tests.rules_data import NOW, access_request, appeal, grant, hearing, model

MODEL = model()
HEARING = hearing(
    act="grant_revocation", act_id="grt_1", organization_ids=("org_dev", "org_bank"),
    grounds="Misuse.", opened_at=NOW, hold_by=NOW,
)  # fmt: skip
APPEAL = appeal(
    organization_id="org_bank", grounds="Misread.", filed_by="prn_bank", filed_at=NOW,
    decide_by=NOW, act="grant_revocation", act_id="grt_1",
)  # fmt: skip
REQUEST = access_request()
GRANT = grant()
OTHER_GRANT = GRANT.model_copy(update={"id": "grt_2", "organization_id": "org_insurer"})


def event(kind: str, model_id: str | None = "mdl_1", **data: Any) -> Event:
    return Event(kind=kind, subject="x", model_id=model_id, actor="prn_x", at=NOW, data=data)


def owner_of(model_id: str) -> str:
    return {"mdl_1": "org_dev", "mdl_2": "org_other"}[model_id]


def told(kind: str, records: list[Record], model_id: str | None = "mdl_1", **data: Any) -> Any:
    return notice_recipients(event(kind, model_id, **data), records, owner_of)


@pytest.mark.parametrize(
    "kind",
    [
        "application.filed",
        "information.requested",
        "decision.made",
        "directive.issued",
        "report.filed",
        "model.registered",
        "obligation.breached",
    ],
)
def test_the_developer_hears_of_every_act_on_its_model(kind: str) -> None:
    assert told(kind, [MODEL]) == {"org_dev": [MODEL]}
    assert told(kind, [MODEL], model_id="mdl_2") == {"org_other": [MODEL]}


def test_an_act_about_no_model_tells_nobody() -> None:
    assert told("decision.made", [MODEL], model_id=None) == {}


def test_events_of_other_kinds_tell_nobody() -> None:
    assert told("framework.published", [MODEL]) == {}
    assert told("organization.created", [MODEL]) == {}
    assert told("principal.created", [MODEL]) == {}


def test_each_organization_named_in_a_hearing_hears_of_it() -> None:
    assert told("hearing.opened", [HEARING, MODEL]) == {
        "org_dev": [HEARING],
        "org_bank": [HEARING],
    }


def test_an_appellant_hears_of_its_appeal_and_nobody_else_does() -> None:
    assert told("appeal.ruled", [MODEL, APPEAL]) == {"org_bank": [APPEAL]}


def test_an_organization_hears_of_its_own_access_request() -> None:
    assert told("access.requested", [REQUEST, MODEL]) == {"org_bank": [REQUEST]}


def test_each_grant_holder_sees_only_its_own_grant() -> None:
    assert told("grant.revoked", [GRANT, OTHER_GRANT, MODEL]) == {
        "org_bank": [GRANT],
        "org_insurer": [OTHER_GRANT],
    }
    assert told("grant.expiring", [GRANT, REQUEST]) == {"org_bank": [GRANT, REQUEST]}


def test_an_organization_named_in_an_access_event_without_records_is_told_with_none() -> None:
    assert told("access.refused", [MODEL], organization="org_bank") == {"org_bank": []}
    assert told("grant.revoked", [], organization="org_bank") == {"org_bank": []}


def test_the_named_organization_is_not_told_beside_the_records_holders() -> None:
    assert told("grant.issued", [GRANT], organization="org_other") == {"org_bank": [GRANT]}


def test_an_access_event_with_no_record_and_no_organization_tells_nobody() -> None:
    assert told("access.refused", [MODEL]) == {}
    assert told("access.refused", [MODEL], organization=["org_bank"]) == {}
