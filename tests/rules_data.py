"""Records for the register's rule tests: the clock, the usual parties, and builders to override.

Each builder takes its record's fields by keyword over defaults most tests share; a test file
whose records differ binds its own defaults (`functools.partial(grant, expires_at=...)`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from clearance.register import order_directive
from clearance.register._events import Change
from clearance.register._records import (
    AccessRequest,
    Appeal,
    Application,
    Decision,
    Directive,
    Grant,
    Hearing,
    ModelConfig,
    Organization,
    Principal,
    Reason,
    Scope,
)

NOW = dt.datetime(2026, 9, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
SECOND = dt.timedelta(seconds=1)


def principal(id: str, name: str, *roles: str, **kw: Any) -> Principal:
    """A principal of the authority, made at NOW, unless `kw` says otherwise."""
    args: dict[str, Any] = {"organization_id": "org_authority", "created_at": NOW}
    args.update(kw)
    return Principal(id=id, name=name, roles=roles, **args)


def organization(id: str, name: str, kind: str, jurisdiction: str, **kw: Any) -> Organization:
    """An organization made at NOW, unless `kw` says otherwise."""
    args: dict[str, Any] = {"created_at": NOW}
    args.update(kw)
    return Organization(id=id, name=name, kind=kind, jurisdiction=jurisdiction, **args)


ADMIN = principal("prn_admin", "Ada Admin", "admin")
REVIEWER = principal("prn_rev", "Rita Reviewer", "reviewer")
DEVELOPER = principal("prn_dev", "Dana Dev", "developer", organization_id="org_dev")
PARTNER = principal("prn_bank", "Ben Bank", "partner", organization_id="org_bank")
BANK = organization("org_bank", "Bank", "partner", "US", sector="finance")


def model(**kw: Any) -> ModelConfig:
    args: dict[str, Any] = {
        "id": "mdl_1",
        "organization_id": "org_dev",
        "name": "frontier-1",
        "version": "1.0",
        "weights_digest": "a" * 64,
        "channels": ("api",),
        "created_at": NOW,
    }
    args.update(kw)
    return ModelConfig(**args)


def application(**kw: Any) -> Application:
    """An application under review, filed 5 days ago."""
    args: dict[str, Any] = {
        "id": "app_1",
        "model_id": "mdl_1",
        "organization_id": "org_dev",
        "framework_digest": "f" * 64,
        "requested_tier": "public",
        "requested_jurisdictions": ("t1",),
        "assessment": {},
        "state": "under_review",
        "filed_at": NOW - 5 * DAY,
        "deadline": NOW + 85 * DAY,
    }
    args.update(kw)
    return Application(**args)


def decision(**kw: Any) -> Decision:
    """An approval at public in t1, made 30 days ago, past its appeal window."""
    args: dict[str, Any] = {
        "id": "dec_1",
        "application_id": "app_1",
        "model_id": "mdl_1",
        "outcome": "approved",
        "tier": "public",
        "jurisdictions": ("t1",),
        "reasons": (Reason(text="The evidence rules out c2."),),
        "assessed_tier": "public",
        "decided_at": NOW - 30 * DAY,
        "valid_until": NOW + 335 * DAY,
        "appeal_deadline": NOW - 2 * DAY,
    }
    args.update(kw)
    return Decision(**args)


def directive(**kw: Any) -> Directive:
    """A halt issued 10 days ago, heard 3 days ago, sunset in 20 days."""
    args: dict[str, Any] = {
        "id": "dir_1",
        "model_id": "mdl_1",
        "action": "halt",
        "grounds": "The model helps with intrusion.",
        "issued_by": "prn_admin",
        "issued_at": NOW - 10 * DAY,
        "hearing_date": NOW - 3 * DAY,
        "sunset_at": NOW + 20 * DAY,
    }
    args.update(kw)
    return Directive(**args)


def hearing(**kw: Any) -> Hearing:
    """The hearing on directive dir_1, opened 10 days ago and held by NOW."""
    args: dict[str, Any] = {
        "id": "hrg_1",
        "act": "directive",
        "act_id": "dir_1",
        "model_id": "mdl_1",
        "organization_ids": ("org_dev",),
        "grounds": "The model helps with intrusion.",
        "urgent": False,
        "opened_by": "prn_admin",
        "opened_at": NOW - 10 * DAY,
        "hold_by": NOW,
    }
    args.update(kw)
    return Hearing(**args)


def appeal(**kw: Any) -> Appeal:
    """The developer's appeal, filed 10 days ago, to be decided by NOW."""
    args: dict[str, Any] = {
        "id": "apl_1",
        "model_id": "mdl_1",
        "organization_id": "org_dev",
        "grounds": "The authority misread the interval.",
        "filed_by": "prn_dev",
        "filed_at": NOW - 10 * DAY,
        "decide_by": NOW,
    }
    args.update(kw)
    return Appeal(**args)


def access_request(**kw: Any) -> AccessRequest:
    """The bank's request for the model, filed at NOW."""
    args: dict[str, Any] = {
        "id": "acr_1",
        "organization_id": "org_bank",
        "model_id": "mdl_1",
        "use_case": "fraud-analysis",
        "filed_by": "prn_bank",
        "filed_at": NOW,
    }
    args.update(kw)
    return AccessRequest(**args)


def grant(**kw: Any) -> Grant:
    """The bank's grant on its request, issued by the reviewer at NOW, with no end."""
    args: dict[str, Any] = {
        "id": "grt_1",
        "organization_id": "org_bank",
        "model_id": "mdl_1",
        "origin": "acr_1",
        "granted_by": "prn_rev",
        "granted_at": NOW,
    }
    args.update(kw)
    return Grant(**args)


def order(urgent: bool, action: str = "halt", **kw: Any) -> Change:
    """`order_directive` on no scope, grants or limits; the caller names model, admin, framework."""
    args: dict[str, Any] = {
        "new_id": "dir_1",
        "hearing_id": "hrg_1",
        "action": action,
        "grounds": "The model helps with intrusion.",
        "scope": Scope(),
        "urgent": urgent,
        "active": (),
        "grant_ids": (),
        "limits": None,
        "now": NOW,
    }
    args.update(kw)
    return order_directive(**args)


def refused(kind: type[Exception], message: str, act: Any, *args: Any, **kw: Any) -> None:
    """`act(*args, **kw)` is refused with an error of `kind` whose sentence is `message`."""
    with pytest.raises(kind) as error:
        act(*args, **kw)
    assert str(error.value) == message
