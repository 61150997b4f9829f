"""Routes for proceedings: hearings on adverse acts, and appeals of directives and access acts."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from clearance.api._auth import Caller, Ctx, context, presented_key
from clearance.api._auth import principal as authenticated
from clearance.api._bodies import HearingOutcome, NewAppeal, NewSubmission
from clearance.api._common import acted, model_id_or_none, new_id
from clearance.api._context import Context
from clearance.errors import NotFound
from clearance.register import (
    AccessRequest,
    Appeal,
    Directive,
    Grant,
    Hearing,
    ModelConfig,
    Principal,
    close_hearing,
    file_act_appeal,
    file_submission,
)
from clearance.register._records import AppealAct
from clearance.store import Transaction, heard_act

router = APIRouter()

AUTHORITY_ROLES = {"admin", "reviewer", "appeal_panel"}


def maybe_principal(
    request: Request, ctx: Annotated[Context, Depends(context)]
) -> Principal | None:
    """The caller when a key is presented (and valid), else None: reads open to the public."""
    if presented_key(request) is None:
        return None
    return authenticated(request, ctx)


Viewer = Annotated[Principal | None, Depends(maybe_principal)]


def _may_see(hearing: Hearing, viewer: Principal | None) -> bool:
    """Hearings on directives are public; those on access acts only to the party and authority."""
    if hearing.act == "directive":
        return True
    if viewer is None:
        return False
    return bool(AUTHORITY_ROLES & set(viewer.roles)) or (
        viewer.organization_id in hearing.organization_ids
    )


@router.get("/hearings", tags=["hearings"])
def list_hearings(
    ctx: Ctx,
    viewer: Viewer,
    model: str | None = Query(None, description="Model name or id."),
    state: str | None = Query(None, description="open, closed or lapsed."),
    act_id: str | None = Query(None, description="The act heard: a directive, request or grant."),
) -> dict[str, Any]:
    """Hearings, newest first: on directives for everyone; on access acts for those concerned."""
    where: dict[str, Any] = {}
    with ctx.store.read() as tx:
        if (model_id := model_id_or_none(tx, model)) is not None:
            where["model_id"] = model_id
        if state is not None:
            where["state"] = state
        if act_id is not None:
            where["act_id"] = act_id
        found = tx.find(Hearing, order_by="hold_by", descending=True, limit=500, **where)
    return {"items": [h.model_dump(mode="json") for h in found if _may_see(h, viewer)]}


@router.get("/hearings/{hearing_id}", tags=["hearings"])
def get_hearing(hearing_id: str, ctx: Ctx, viewer: Viewer) -> dict[str, Any]:
    """A hearing: the act, its date, the submissions, the outcome and its reasons."""
    with ctx.store.read() as tx:
        hearing = tx.get(Hearing, hearing_id)
    if not _may_see(hearing, viewer):
        raise NotFound(f"no hearing with id {hearing_id!r}")
    return hearing.model_dump(mode="json")


@router.post("/hearings/{hearing_id}/submissions", status_code=201, tags=["hearings"])
def add_submission(
    hearing_id: str, body: NewSubmission, caller: Caller, ctx: Ctx
) -> dict[str, Any]:
    """The affected organization files a written submission before the hearing's date."""
    with ctx.store.transaction() as tx:
        change = file_submission(
            new_id=new_id("sub"),
            hearing=tx.get(Hearing, hearing_id),
            principal=caller,
            text=body.text,
            evidence=tuple(body.evidence),
            now=ctx.clock(),
        )
        tx.apply(change)
    return acted(tx, change.records[0])


@router.post("/hearings/{hearing_id}/outcome", tags=["hearings"])
def add_outcome(hearing_id: str, body: HearingOutcome, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """The authority closes the hearing: confirm, modify (a new scope) or revoke the act.

    The reasons must answer every submission by its id. Past the hearing's date no outcome can
    be given: the act lapses.
    """
    with ctx.store.transaction() as tx:
        hearing = tx.get(Hearing, hearing_id)
        _, framework = ctx.framework(tx)
        change = close_hearing(
            hearing=hearing,
            closer=caller,
            outcome=body.outcome,
            reasons=tuple(body.reasons),
            scope=body.scope,
            limits=body.limits,
            act=heard_act(tx, hearing),
            framework=framework,
            new_id=new_id,
            now=ctx.clock(),
        )
        tx.apply(change)
    return acted(tx, change.records[0])


def _latest_hearing(tx: Transaction, act_id: str) -> Hearing | None:
    found = tx.find(Hearing, act_id=act_id, order_by="hold_by", descending=True, limit=1)
    return found[0] if found else None


def _appeal(
    tx: Transaction,
    ctx: Context,
    caller: Principal,
    *,
    act: AppealAct,
    act_id: str,
    model_id: str,
    organization_id: str,
    took_effect: dt.datetime | None,
    by: str | None,
    not_appealable: str | None,
    grounds: str,
) -> dict[str, Any]:
    hearing = _latest_hearing(tx, act_id)
    # a directive a hearing's outcome issued points at that hearing instead
    if hearing is None and act == "directive":
        directive = tx.get(Directive, act_id)
        hearing = tx.find_one(Hearing, id=directive.hearing_id) if directive.hearing_id else None
    if not_appealable is None and hearing is not None and hearing.state == "open":
        not_appealable = (
            f"the hearing on this act ({hearing.id}) is open until {hearing.hold_by.isoformat()}; "
            "the appeal window opens with its outcome"
        )
    opened = max(
        (t for t in (took_effect, hearing.closed_at if hearing else None) if t is not None),
        default=ctx.clock(),
    )
    participants = tuple(
        p for p in (by, *((hearing.opened_by, hearing.closed_by) if hearing else ())) if p
    )
    digest, framework = ctx.framework(tx)
    change = file_act_appeal(
        new_id=new_id("apl"),
        act=act,
        act_id=act_id,
        model_id=model_id,
        organization_id=organization_id,
        principal=caller,
        grounds=grounds,
        framework=framework,
        framework_digest=digest,
        participants=participants,
        window_opened_at=opened,
        not_appealable=not_appealable,
        pending=any(a.state == "filed" for a in tx.find(Appeal, act_id=act_id)),
        now=ctx.clock(),
    )
    tx.apply(change)
    return acted(tx, change.records[0])


@router.post("/directives/{directive_id}/appeals", status_code=201, tags=["appeals"])
def appeal_directive(
    directive_id: str, body: NewAppeal, caller: Caller, ctx: Ctx
) -> dict[str, Any]:
    """The model's developer appeals a halt or restriction in force, after its hearing."""
    with ctx.store.transaction() as tx:
        directive = tx.get(Directive, directive_id)
        owner = tx.get(ModelConfig, directive.model_id).organization_id
        reason = None
        if directive.action == "restore":
            reason = f"directive {directive.id} restores the model; it is not adverse"
        elif directive.state != "active":
            reason = f"directive {directive.id} is {directive.state}; only one in force is appealed"
        return _appeal(
            tx, ctx, caller, act="directive", act_id=directive.id, model_id=directive.model_id,
            organization_id=owner, took_effect=directive.issued_at, by=directive.issued_by,
            not_appealable=reason, grounds=body.grounds,
        )  # fmt: skip


@router.post("/access-requests/{request_id}/appeals", status_code=201, tags=["appeals"])
def appeal_refusal(request_id: str, body: NewAppeal, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """The organization appeals the refusal of its access request, after its hearing."""
    with ctx.store.transaction() as tx:
        request = tx.get(AccessRequest, request_id)
        reason = None
        if request.state != "refused":
            reason = f"access request {request.id} is {request.state}; only a refusal is appealed"
        return _appeal(
            tx, ctx, caller, act="access_refusal", act_id=request.id, model_id=request.model_id,
            organization_id=request.organization_id, took_effect=request.decided_at,
            by=request.decided_by, not_appealable=reason, grounds=body.grounds,
        )  # fmt: skip


@router.post("/grants/{grant_id}/appeals", status_code=201, tags=["appeals"])
def appeal_revocation(grant_id: str, body: NewAppeal, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """The holder appeals the revocation of its grant, after its hearing."""
    with ctx.store.transaction() as tx:
        grant = tx.get(Grant, grant_id)
        reason = None
        if grant.state != "revoked":
            reason = f"grant {grant.id} is {grant.state}; only a revoked grant is appealed"
        return _appeal(
            tx, ctx, caller, act="grant_revocation", act_id=grant.id, model_id=grant.model_id,
            organization_id=grant.organization_id, took_effect=grant.revoked_at,
            by=grant.revoked_by, not_appealable=reason, grounds=body.grounds,
        )  # fmt: skip
