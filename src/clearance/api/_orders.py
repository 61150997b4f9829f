"""Routes for orders and access: directives, access requests, grants, reports, the clock."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from clearance.api._auth import Caller, Ctx
from clearance.api._bodies import (
    AccessDecision,
    NewAccessRequest,
    NewDirective,
    NewReport,
    Renewal,
    Revocation,
)
from clearance.api._common import (
    Page,
    acted,
    find_model,
    find_organization,
    log_position,
    model_id_or_none,
    new_id,
    page_params,
    paginate,
)
from clearance.register import (
    AccessRequest,
    Change,
    Directive,
    Grant,
    Hearing,
    ModelStatus,
    Organization,
    Record,
    RiskReport,
    Scope,
    decide_access,
    file_report,
    order_directive,
    refuse_access,
    renew_directive,
    request_access,
    revoke_access,
)
from clearance.register._duties import require_role
from clearance.store import Transaction, run_due

router = APIRouter()
Paging = Annotated[tuple[int, str | None], Depends(page_params)]


@router.post("/directives", status_code=201, tags=["directives"])
def add_directive(body: NewDirective, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """Halt, restrict or restore a model (administrators).

    A halt or restriction opens a hearing of the model's developer: it is proposed until the
    hearing's outcome, or in effect at once when `urgent` (the hearing follows). A restoration
    takes effect at once. A restore or restrict naming organizations grants each of them access
    in the same act.
    """
    now = ctx.clock()
    with ctx.store.transaction() as tx:
        model = find_model(tx, body.model)
        _, framework = ctx.framework(tx)
        organizations = sorted({find_organization(tx, o).id for o in body.organizations})
        scope = Scope(
            organizations=tuple(organizations),
            jurisdictions=tuple(sorted(set(body.jurisdictions))),
            channels=tuple(sorted(set(body.channels))),
            tiers=tuple(body.tiers),
            groups=tuple(sorted(set(body.groups))),
        )
        change = order_directive(
            new_id=new_id("dir"),
            hearing_id=new_id("hrg"),
            model=model,
            admin=caller,
            action=body.action,
            grounds=body.grounds,
            scope=scope,
            urgent=body.urgent,
            active=tx.find(Directive, model_id=model.id, state="active"),
            framework=framework,
            grant_ids=[new_id("grt") for _ in organizations],
            limits=body.limits,
            now=now,
        )
        tx.apply(change)
    directive = change.records[0]
    grants = sum(1 for r in change.records if isinstance(r, Grant))
    return acted(tx, directive) | {"grants_issued": grants}


@router.get("/directives", tags=["directives"])
def list_directives(
    ctx: Ctx,
    paging: Paging,
    model: str | None = Query(None, description="Model name or id."),
    state: str | None = Query(None),
) -> Page:
    """Directives, optionally for one model or in one state."""
    with ctx.store.read() as tx:
        model_id = model_id_or_none(tx, model)
        return paginate(tx, Directive, *paging, model_id=model_id, state=state)


@router.get("/directives/{directive_id}", tags=["directives"])
def get_directive(directive_id: str, ctx: Ctx) -> dict[str, Any]:
    """A directive with its scope, hearing date, sunset and renewals."""
    with ctx.store.read() as tx:
        return tx.get(Directive, directive_id).model_dump(mode="json")


@router.post("/directives/{directive_id}/renew", tags=["directives"])
def renew(directive_id: str, body: Renewal, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """Renew a directive with new grounds, within the framework's limits."""
    with ctx.store.transaction() as tx:
        _, framework = ctx.framework(tx)
        directive = tx.get(Directive, directive_id)
        grants = tx.find(Grant, model_id=directive.model_id, state="active")
        change = renew_directive(directive, caller, body.grounds, framework, ctx.clock(), grants)
        tx.apply(change)
    return acted(tx, change.records[0])


@router.post("/access-requests", status_code=201, tags=["access"])
def add_access_request(body: NewAccessRequest, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """An organization asks for access to a model."""
    with ctx.store.transaction() as tx:
        _, framework = ctx.framework(tx)
        change = request_access(
            new_id=new_id("acr"),
            model=find_model(tx, body.model),
            principal=caller,
            use_case=body.use_case,
            channels=tuple(body.channels),
            jurisdictions=tuple(body.jurisdictions),
            framework=framework,
            now=ctx.clock(),
        )
        tx.apply(change)
    return acted(tx, change.records[0])


@router.get("/access-requests", tags=["access"])
def list_access_requests(caller: Caller, ctx: Ctx, paging: Paging) -> Page:
    """Access requests: all of them for the authority, one's own otherwise."""
    with ctx.store.read() as tx:
        if {"admin", "reviewer"} & set(caller.roles):
            return paginate(tx, AccessRequest, *paging)
        return paginate(tx, AccessRequest, *paging, organization_id=caller.organization_id)


@router.post("/access-requests/{request_id}/decision", tags=["access"])
def decide_access_request(
    request_id: str, body: AccessDecision, caller: Caller, ctx: Ctx
) -> dict[str, Any]:
    """Grant within a scope and limits, or refuse with reasons (reviewers, administrators).

    A refusal opens a hearing of the organization: it is proposed until the hearing's outcome,
    or in effect at once when `urgent` (the hearing follows).
    """
    with ctx.store.transaction() as tx:
        request = tx.get(AccessRequest, request_id)
        _, framework = ctx.framework(tx)
        if not body.granted:
            change = refuse_access(
                request=request,
                model=find_model(tx, request.model_id),
                decider=caller,
                reasons=body.reasons,
                urgent=body.urgent,
                hearing_id=new_id("hrg"),
                framework=framework,
                now=ctx.clock(),
            )
            tx.apply(change)
            return _by_noun(tx, change)
        change = decide_access(
            request=request,
            model=find_model(tx, request.model_id),
            status=tx.get(ModelStatus, request.model_id),
            organization=tx.get(Organization, request.organization_id),
            framework=framework,
            decider=caller,
            granted=body.granted,
            reasons=body.reasons,
            limits=body.limits,
            expires_at=body.expires_at,
            grant_id=new_id("grt"),
            now=ctx.clock(),
        )
        tx.apply(change)
    return _by_noun(tx, change)


def _by_noun(tx: Transaction, change: Change) -> dict[str, Any]:
    """The act's records by noun, with the log position of its grant (or its first event)."""
    grant = next((r.id for r in change.records if isinstance(r, Grant)), None)
    body: dict[str, Any] = {_noun(r): r.model_dump(mode="json") for r in change.records}
    return body | log_position(tx, grant)


def _noun(record: Record) -> str:
    return record.__class__.__name__.lower()


@router.get("/grants", tags=["access"])
def list_grants(caller: Caller, ctx: Ctx, paging: Paging) -> Page:
    """Grants: all of them for the authority, one's own otherwise."""
    with ctx.store.read() as tx:
        if {"admin", "reviewer"} & set(caller.roles):
            return paginate(tx, Grant, *paging)
        return paginate(tx, Grant, *paging, organization_id=caller.organization_id)


@router.get("/models/{name}/grants", tags=["access"])
def count_grants(name: str, ctx: Ctx) -> dict[str, Any]:
    """How many organizations hold active grants for a model (public: counts, not names);
    `testing` counts the authority's testing grants apart."""
    with ctx.store.read() as tx:
        model = find_model(tx, name)
        return {
            "model": model.name,
            "active": tx.count(Grant, model_id=model.id, state="active", purpose="access"),
            "testing": tx.count(Grant, model_id=model.id, state="active", purpose="testing"),
        }


@router.post("/grants/{grant_id}/revoke", tags=["access"])
def revoke(grant_id: str, body: Revocation, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """Revoke a grant before its expiry, with grounds (administrators).

    The holder is heard: the grant stays in force until the hearing's outcome, or is revoked at
    once when `urgent` (the hearing follows). Answers the grant and the hearing.
    """
    with ctx.store.transaction() as tx:
        grant = tx.get(Grant, grant_id)
        _, framework = ctx.framework(tx)
        change = revoke_access(
            grant=grant,
            admin=caller,
            grounds=body.grounds,
            urgent=body.urgent,
            hearing_id=new_id("hrg"),
            hearing_open=any(h.state == "open" for h in tx.find(Hearing, act_id=grant.id)),
            framework=framework,
            now=ctx.clock(),
        )
        tx.apply(change)
        grant = tx.get(Grant, grant_id)
    hearing = next(r for r in change.records if isinstance(r, Hearing))
    revoked = {"grant": grant.model_dump(mode="json"), "hearing": hearing.model_dump(mode="json")}
    return revoked | log_position(tx, grant.id)


@router.post("/reports", status_code=201, tags=["reports"])
def add_report(body: NewReport, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """File a third-party risk report; its conflict-of-interest disclosure is published."""
    with ctx.store.transaction() as tx:
        change = file_report(
            new_id=new_id("rpt"),
            model=find_model(tx, body.model),
            principal=caller,
            title=body.title,
            summary=body.summary,
            conflict_of_interest=body.conflict_of_interest,
            now=ctx.clock(),
        )
        tx.apply(change)
    return acted(tx, change.records[0])


@router.get("/reports", tags=["reports"])
def list_reports(
    ctx: Ctx, paging: Paging, model: str | None = Query(None, description="Model name or id.")
) -> Page:
    """Risk reports with their disclosures."""
    with ctx.store.read() as tx:
        model_id = model_id_or_none(tx, model)
        return paginate(tx, RiskReport, *paging, model_id=model_id)


@router.get("/reports/{report_id}", tags=["reports"])
def get_report(report_id: str, ctx: Ctx) -> dict[str, Any]:
    """A risk report with its disclosure."""
    with ctx.store.read() as tx:
        return tx.get(RiskReport, report_id).model_dump(mode="json")


@router.post("/clock/run", tags=["register"])
def run_clock(caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """Apply every due clock transition now (administrators; the server also does it itself)."""
    require_role(caller, "admin")
    applied = run_due(ctx.store, ctx.framework_of, ctx.clock())
    return {"applied": [{"kind": d.kind, "subject": d.subject} for d in applied]}
