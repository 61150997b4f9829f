"""Routes for parties and subjects: organizations, principals, models, frameworks, evidence."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from clearance.api._auth import Caller, Ctx
from clearance.api._bodies import NewModel, NewOrganization, NewPrincipal
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
from clearance.api._context import Context, parse_apart, publish_framework
from clearance.errors import InvalidInput, NotFound
from clearance.framework import Framework
from clearance.register import (
    NAME_SALT_BYTES,
    ModelConfig,
    ModelStatus,
    Organization,
    Principal,
    check_upstream_url,
    create_organization,
    create_principal,
    name_commitment,
    register_model,
)
from clearance.register._duties import require_role
from clearance.register._values import bare_digest
from clearance.store import Transaction, new_api_key
from clearance.store import _tables as t

router = APIRouter()

WITHHELD_NAME = "(name withheld at the organization's request)"
Paging = Annotated[tuple[int, str | None], Depends(page_params)]


@router.post("/organizations", status_code=201, tags=["parties"])
def add_organization(body: NewOrganization, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """Add an organization (administrators).

    With `name_public: false` the name is withheld from every public page, answer and log
    statement; the log carries a salted commitment to it instead.
    """
    salt = None if body.name_public else secrets.token_bytes(NAME_SALT_BYTES)
    with ctx.store.transaction() as tx:
        organization = Organization(
            id=new_id("org"),
            created_at=ctx.clock(),
            name_commitment=name_commitment(body.name, salt) if salt else None,
            **body.model_dump(),
        )
        tx.apply(create_organization(organization, caller, _current_framework(tx, ctx)))
        if salt is not None:
            tx.keep_name_salt(organization.id, salt)
    return acted(tx, organization)


@router.get("/organizations", tags=["parties"])
def list_organizations(ctx: Ctx, paging: Paging) -> Page:
    """Organizations; those who asked to stay unnamed are listed by their name's commitment."""
    with ctx.store.read() as tx:
        page = paginate(tx, Organization, *paging)
    for item in page.items:
        if not item["name_public"]:
            item["name"] = WITHHELD_NAME
    return page


def _current_framework(tx: Transaction, ctx: Context) -> Framework | None:
    try:
        return ctx.framework(tx)[1]
    except NotFound:
        return None


@router.get("/organizations/{organization_id}/name-opening", tags=["parties"])
def open_name_commitment(organization_id: str, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """The name and salt behind a withheld name's commitment (administrators), to prove it.

    Anyone can check an opening: SHA-256 of the salt's bytes then the name's UTF-8 bytes must
    equal the `name_commitment` the log carries.
    """
    require_role(caller, "admin")
    with ctx.store.read() as tx:
        organization = tx.get(Organization, organization_id)
        salt = tx.name_salt(organization.id)
    if organization.name_public or salt is None or organization.name_commitment is None:
        raise NotFound(f"organization {organization_id} has no withheld name")
    return {
        "organization_id": organization.id,
        "name": organization.name,
        "salt": salt.hex(),
        "name_commitment": organization.name_commitment,
    }


@router.post("/principals", status_code=201, tags=["parties"])
def add_principal(body: NewPrincipal, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """Add a principal with roles; the answer carries its API key, shown this once only."""
    with ctx.store.transaction() as tx:
        organization = find_organization(tx, body.organization_id)
        principal = Principal(
            id=new_id("pri"),
            organization_id=organization.id,
            name=body.name,
            roles=tuple(body.roles),
            expertise=tuple(body.expertise),
            conflicts=tuple(find_organization(tx, c).id for c in body.conflicts),
            channel=body.channel,
            created_at=ctx.clock(),
        )
        change = create_principal(principal, organization, caller)
        key_id, key_hash, api_key = new_api_key()
        tx.add_principal(principal, key_id, key_hash)
        tx.apply(type(change)((), change.events))
    return acted(tx, principal) | {"api_key": api_key}


@router.get("/principals/me", tags=["parties"])
def who_am_i(caller: Caller) -> dict[str, Any]:
    """The principal the presented key belongs to."""
    return caller.model_dump(mode="json")


@router.post("/models", status_code=201, tags=["models"])
def add_model(body: NewModel, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """Register a model configuration of the caller's organization (developers)."""
    with ctx.store.transaction() as tx:
        if tx.find_one(ModelConfig, name=body.name) is not None:
            raise InvalidInput(f"name: a model named {body.name!r} is already registered")
        sibling = find_model(tx, body.sibling) if body.sibling is not None else None
        model = ModelConfig(
            id=new_id("mdl"),
            organization_id=caller.organization_id,
            created_at=ctx.clock(),
            name=body.name,
            version=body.version,
            variant=body.variant,
            weights_digest=body.weights_digest,
            channels=tuple(body.channels),
            upstream_url=(
                check_upstream_url(body.upstream_url, "upstream_url")
                if body.upstream_url is not None
                else None
            ),
            sibling=sibling.id if sibling else None,
        )
        tx.apply(register_model(model, caller, ctx.clock(), sibling))
    return acted(tx, model)


@router.get("/models", tags=["models"])
def list_models(
    ctx: Ctx, paging: Paging, status: str | None = Query(None, description="Filter by status.")
) -> Page:
    """Every model with its public status."""
    with ctx.store.read() as tx:
        return paginate(tx, ModelStatus, *paging, status=status)


@router.get("/models/{name}", tags=["models"])
def get_model(name: str, ctx: Ctx) -> dict[str, Any]:
    """A model configuration and its public status."""
    with ctx.store.read() as tx:
        model = find_model(tx, name)
        status = tx.get(ModelStatus, model.id)
    return model.model_dump(mode="json", exclude={"upstream_url"}) | {
        "status": status.model_dump(mode="json")
    }


@router.get("/models/{name}/status", tags=["models"])
async def get_model_status(name: str, ctx: Ctx) -> JSONResponse:
    """A model's public status: what it may do now and the acts that set it."""
    # async and unparsed: one indexed read of a row written already in JSON form
    with ctx.store.read() as tx:
        status = tx.body(ModelStatus, "name", name) or tx.body(ModelStatus, "id", name)
    if status is None:
        raise NotFound(f"no model named {name!r}")
    return JSONResponse(status)


@router.get("/events", tags=["register"])
def list_events(
    ctx: Ctx,
    after: int = Query(
        0, ge=0, le=2**63 - 1, description="Sequence number of the last event already seen."
    ),
    limit: int = Query(100, ge=1, le=500),
    model: str | None = Query(None, description="Only this model's events (name or id)."),
) -> dict[str, Any]:
    """The register's events in order; page with `after`."""
    with ctx.store.read() as tx:
        model_id = model_id_or_none(tx, model)
        found = tx.events(model_id=model_id, after=after, limit=limit)
    items = [{"seq": seq} | event.model_dump(mode="json") for seq, event in found]
    return {"items": items, "next": found[-1][0] if len(found) == limit else None}


@router.post("/frameworks", status_code=201, tags=["frameworks"])
async def add_framework(request: Request, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """Publish a new framework version (administrators); the body is the YAML text.

    A version whose `effective_date` is after today is scheduled, and becomes current that day.
    """
    require_role(caller, "admin")
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("body: the framework must be UTF-8 YAML text") from None
    # parsing YAML is CPU work: in a process of its own, so the event loop (the gateway, every
    # other request, the clock) goes on meanwhile; the YAML limits bound the work itself
    framework = await parse_apart(text)

    def publish() -> dict[str, Any]:
        with ctx.store.transaction() as tx:
            digest, _ = publish_framework(tx, text, caller.id, ctx.clock(), framework)
            position = log_position(tx, digest)
        with ctx.store.read() as tx:
            state = tx.connection.scalar(
                select(t.frameworks.c.state).where(t.frameworks.c.digest == digest)
            )
        body = {"sha256": digest, "id": framework.id, "version": framework.version, "state": state}
        return body | position

    return await run_in_threadpool(publish)


@router.get("/frameworks", tags=["frameworks"])
def list_frameworks(ctx: Ctx) -> dict[str, Any]:
    """Every published framework version, newest first, with its state.

    `state` is `scheduled` (its effective date has not come), `current` (the one in force) or
    `superseded`.
    """
    with ctx.store.read() as tx:
        rows = tx.connection.execute(
            select(
                t.frameworks.c.digest,
                t.frameworks.c.framework_id,
                t.frameworks.c.version,
                t.frameworks.c.published_at,
                t.frameworks.c.current,
                t.frameworks.c.state,
                t.frameworks.c.effective_date,
            ).order_by(t.frameworks.c.published_at.desc())
        )
        items = [
            {
                "sha256": row.digest,
                "id": row.framework_id,
                "version": row.version,
                "published_at": row.published_at.isoformat(),
                "effective_date": row.effective_date.isoformat(),
                "state": row.state,
                "current": row.current,
            }
            for row in rows
        ]
    return {"items": items}


@router.get("/frameworks/{digest}", tags=["frameworks"])
def get_framework(digest: str, ctx: Ctx) -> dict[str, Any]:
    """A published framework as data; `current` names the one in force."""
    with ctx.store.read() as tx:
        found, framework = ctx.framework(tx, None if digest == "current" else bare_digest(digest))
    return {"sha256": found, "framework": framework.model_dump(mode="json")}
