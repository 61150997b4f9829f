"""The authority tests the model itself: testing access at filing, and its own runs as evidence.

Filing an application under a framework with `procedure.testing_access_days` gives the authority
a testing grant on the model: its reviewers' calls pass the gateway whatever the model's status,
to the pre-release upstream the developer names. Where the framework requires that upstream and
the developer has not named it, the clock stands still and the application cannot be deemed
approved. The authority's own evaluation runs are filed beside the developer's evidence; the
assessment is recomputed over both, and every metric on which the two sides disagree is kept.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from clearance.errors import Conflict, InvalidInput
from clearance.framework import Framework
from clearance.register._duties import require_independent, require_member, require_role
from clearance.register._events import Change, Event
from clearance.register._records import (
    Application,
    Discrepancy,
    EvidenceRef,
    Grant,
    ModelConfig,
    Organization,
    Principal,
)

_BASE_URL = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%/-]*)?$")


def check_upstream_url(url: str, field: str = "pre_release_upstream") -> str:
    """A model server's base URL (`field` names it in the error), or InvalidInput: http(s), a
    host, an optional port and path; no credentials, query or fragment."""
    text = url.strip()
    if not _BASE_URL.match(text):
        raise InvalidInput(
            f"{field}: {url[:80]!r} is not an http(s) base URL with no credentials, "
            "query or fragment (for example http://10.0.0.5:8000/v1)"
        )
    return text.rstrip("/")


def testing_grant(
    *,
    grant_id: str,
    application_id: str,
    model: ModelConfig,
    authority: Organization,
    filed_by: Principal,
    framework: Framework,
    upstream: str | None,
    now: dt.datetime,
) -> tuple[Grant, Event, bool]:
    """The authority's testing grant issued with a filing, its event, and whether access is still
    missing (the framework requires a pre-release upstream and none was named)."""
    days = framework.procedure.testing_access_days
    if days is None:
        raise ValueError("the framework asks for no testing access")
    if authority.kind != "authority":
        raise ValueError("a testing grant goes to the authority")
    missing = framework.procedure.pre_release_upstream_required and upstream is None
    grant = Grant(
        id=grant_id,
        organization_id=authority.id,
        model_id=model.id,
        # the days of access count from when the developer provides it
        expires_at=None if missing else now + dt.timedelta(days=days),
        origin=application_id,
        granted_by=filed_by.id,
        granted_at=now,
        purpose="testing",
        pre_release_upstream=upstream,
    )
    event = Event(
        kind="grant.issued",
        subject=grant_id,
        model_id=model.id,
        actor=filed_by.id,
        at=now,
        data={
            "origin": application_id,
            "purpose": "testing",
            "organization": authority.id,
            "expires_at": grant.expires_at.isoformat() if grant.expires_at else None,
            "testing_access": "missing" if missing else "provided",
        },
    )
    return grant, event, missing


def provide_testing_access(
    *,
    application: Application,
    grant: Grant,
    principal: Principal,
    upstream: str,
    framework: Framework,
    now: dt.datetime,
) -> Change:
    """The developer names (or changes) the pre-release upstream of the authority's tests.

    When that was what the clock waited for, the clock runs again and the deadline moves by the
    time it stood (unless an information request still holds it), and the framework's days of
    testing access count from now.
    """
    require_role(principal, "developer")
    require_member(principal, application.organization_id, f"application {application.id}")
    if grant.id != application.testing_grant_id or grant.purpose != "testing":
        raise Conflict(f"grant {grant.id} is not the testing grant of application {application.id}")
    if grant.state != "active" or (grant.expires_at is not None and now >= grant.expires_at):
        raise Conflict(f"the testing grant {grant.id} is no longer active")
    url = check_upstream_url(upstream)
    updated = application
    grant_changes: dict[str, Any] = {"pre_release_upstream": url}
    if application.testing_access_missing:
        days = framework.procedure.testing_access_days or 0
        grant_changes["expires_at"] = now + dt.timedelta(days=days)
        changes: dict[str, Any] = {"testing_access_missing": False}
        # an open question holds the clock only where the procedure lets questions stop it
        held = (
            application.state == "information_requested"
            and framework.procedure.information_request_stops_clock
        )
        if not held and application.clock_stopped_at:
            changes["deadline"] = application.deadline + (now - application.clock_stopped_at)
            changes["clock_stopped_at"] = None
        updated = application.model_copy(update=changes)
    event = Event(
        kind="grant.modified",
        subject=grant.id,
        model_id=grant.model_id,
        actor=principal.id,
        at=now,
        data={
            "application": application.id,
            "testing_access": "provided",
            "deadline": updated.deadline.isoformat(),
            "expires_at": (grant_changes.get("expires_at") or grant.expires_at or now).isoformat(),
        },
    )
    return Change((updated, grant.model_copy(update=grant_changes)), (event,))


def governing_assessment(application: Application) -> dict[str, Any]:
    """The assessment a decision answers to: over both sides' evidence once the authority has
    filed its own, else the register's run at filing."""
    return application.authority_assessment or application.assessment


OPEN_TO_AUTHORITY_EVIDENCE = ("filed", "under_review", "information_requested")
"""The states in which the authority's evidence is filed on an application (and run for)."""


def may_file_authority_evidence(application: Application, reviewer: Principal) -> None:
    """Refuse unless `reviewer` may file the authority's evidence on `application` now: a
    reviewer independent of its developer, while it is open (checked before a run, too)."""
    require_role(reviewer, "reviewer")
    require_independent(reviewer, application.organization_id, f"application {application.id}")
    if application.state not in OPEN_TO_AUTHORITY_EVIDENCE:
        raise Conflict(
            f"application {application.id} is {application.state}; the authority's evidence is "
            "filed while it is open"
        )


def add_authority_evidence(
    *,
    application: Application,
    reviewer: Principal,
    evidence: tuple[EvidenceRef, ...],
    combined: dict[str, Any],
    authority_only: dict[str, Any],
    now: dt.datetime,
) -> Change:
    """A reviewer files the authority's own evidence; the assessment over both sides and the
    discrepancies are kept with the application."""
    may_file_authority_evidence(application, reviewer)
    if not evidence:
        raise InvalidInput("evidence: name at least one uploaded evaluation log")
    developer = {e.sha256 for e in application.evidence}
    clash = sorted(e.sha256[:16] for e in evidence if e.sha256 in developer)
    if clash:
        raise InvalidInput(
            f"evidence: {', '.join(clash)}... is the developer's own evidence, not the authority's"
        )
    merged = {e.sha256: e for e in (*application.authority_evidence, *evidence)}
    found = discrepancies(application.assessment, authority_only)
    updated = application.model_copy(
        update={
            "authority_evidence": tuple(merged[d] for d in sorted(merged)),
            "authority_assessment": combined,
            "discrepancies": found,
        }
    )
    event = Event(
        kind="application.authority_evidence",
        subject=application.id,
        model_id=application.model_id,
        actor=reviewer.id,
        at=now,
        data={
            "evidence": sorted(merged),
            "assessed_tier": combined.get("max_tier"),
            "discrepancies": [d.model_dump(mode="json") for d in found],
        },
    )
    return Change((updated,), (event,))


def discrepancies(developer: dict[str, Any], authority: dict[str, Any]) -> tuple[Discrepancy, ...]:
    """Each metric and level where both sides have a run and read the threshold differently."""
    theirs = _tests(developer)
    found = []
    for key, mine in sorted(_tests(authority).items()):
        lab = theirs.get(key)
        if lab is None or lab["outcome"] == mine["outcome"]:
            continue
        domain, metric, level = key
        found.append(
            Discrepancy(
                metric=metric,
                domain=domain,
                level=level,
                developer=lab["outcome"],
                authority=mine["outcome"],
                developer_evidence=(lab["evidence"],),
                authority_evidence=(mine["evidence"],),
                text=_describe(metric, level, lab, mine),
            )
        )
    return tuple(found)


def _tests(assessment: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(domain, metric, level) to the test that has evidence behind it."""
    return {
        (domain["domain"], test["metric"], test["level"]): test
        for domain in assessment.get("domains", ())
        for test in domain.get("tests", ())
        if test.get("evidence")
    }


def _describe(metric: str, level: str, lab: dict[str, Any], mine: dict[str, Any]) -> str:
    def reading(test: dict[str, Any]) -> str:
        outcome = str(test["outcome"]).replace("_", " ")
        if test.get("value") is None:
            return outcome
        bounds = ""
        if test.get("lower") is not None and test.get("upper") is not None:
            bounds = f", interval {test['lower']:.2f}-{test['upper']:.2f}"
        return f"{outcome} ({test['value']:.2f}{bounds}, threshold {test['threshold']})"

    return (
        f"{metric} at {level}: the developer's run reads {reading(lab)}; the authority's own run "
        f"reads {reading(mine)}"
    )


def contradicted(application: Application) -> set[str]:
    """Digests of the developer's evidence that the authority's own runs contradict."""
    return {d for item in application.discrepancies for d in item.developer_evidence}


def require_testing_access(application: Application) -> None:
    """Refuse to deem an application decided while the developer owes testing access."""
    if application.testing_access_missing:
        raise Conflict(
            f"application {application.id} cannot be deemed decided: the developer has not "
            "provided the testing access the framework requires (the clock stands still)"
        )
