"""The register's records: the invariants every record holds from the moment it is made.

Every time carries a time zone and is kept in UTC; a record takes no unknown field and cannot be
changed in place; a breached obligation's consequence either halts the model (no tier) or caps
it at a tier more closed than public; a grant's limits are positive and fit a double.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from pydantic import ValidationError

from clearance.register._records import Consequence, Limits
from clearance.register._values import MAX_SAFE_INTEGER
from tests.rules_data import NOW, grant


def message(error: pytest.ExceptionInfo[ValidationError]) -> str:
    return str(error.value.errors()[0]["msg"])


def test_a_time_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        grant(granted_at=NOW.replace(tzinfo=None))
    assert message(caught) == "Value error, times must carry a time zone"
    with pytest.raises(ValidationError):
        grant(expires_at=(NOW + dt.timedelta(days=30)).replace(tzinfo=None))


def test_a_time_is_kept_in_utc() -> None:
    tokyo = dt.timezone(dt.timedelta(hours=9))
    kept = grant(granted_at=NOW.astimezone(tokyo), expires_at=NOW.astimezone(tokyo))
    assert kept.granted_at == NOW
    assert kept.granted_at.utcoffset() == dt.timedelta(0)
    assert kept.expires_at is not None and kept.expires_at.tzinfo == dt.UTC
    assert grant(granted_at="2026-09-01T14:00:00+02:00").granted_at == NOW


def test_a_time_is_kept_in_utc_whatever_the_servers_own_time_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        kept = grant(granted_at=NOW.astimezone(dt.timezone(dt.timedelta(hours=-5))))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert kept.granted_at.utcoffset() == dt.timedelta(0)
    assert kept.granted_at.isoformat() == "2026-09-01T12:00:00+00:00"


def test_a_record_takes_no_unknown_field_and_cannot_be_changed() -> None:
    with pytest.raises(ValidationError):
        grant(holder="org_other")
    with pytest.raises(ValidationError):
        grant().state = "revoked"  # type: ignore[misc]


@pytest.mark.parametrize("tier", ["approved_partners", "internal", "halted"])
def test_a_consequence_caps_the_model_at_a_tier_more_closed_than_public(tier: str) -> None:
    assert Consequence(action="cap_tier", tier=tier).tier == tier


@pytest.mark.parametrize("tier", [None, "public"])
def test_a_cap_needs_a_tier_more_closed_than_public(tier: str | None) -> None:
    with pytest.raises(ValidationError) as caught:
        Consequence(action="cap_tier", tier=tier)
    assert message(caught) == "Value error, cap_tier needs a tier more closed than public"


def test_a_halt_takes_no_tier() -> None:
    assert Consequence(action="halt").tier is None
    with pytest.raises(ValidationError) as caught:
        Consequence(action="halt", tier="internal")
    assert message(caught) == "Value error, a halt takes no tier"


def test_a_grants_limits_are_positive_and_fit_a_double() -> None:
    assert Limits(requests_per_minute=1, tokens_per_minute=MAX_SAFE_INTEGER).tokens_per_minute
    for value in (0, -1, MAX_SAFE_INTEGER + 1):
        with pytest.raises(ValidationError):
            Limits(requests_per_minute=value)
    assert Limits().retain_content is False
