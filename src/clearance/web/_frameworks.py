"""Framework pages: each published version as tables, the difference between two, and impact.

Impact answers "what would this new version change?": each registered model's latest
application evidence is assessed again under both versions, and the models whose capability
level or permitted tier differ are listed.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from clearance.api import Context
from clearance.errors import NotFound
from clearance.framework import (
    TIER_ORDER,
    Assessment,
    EvalRun,
    FindingsReport,
    Framework,
    SafeguardDeclaration,
    TierId,
    assess,
    diff_frameworks,
    evidence_from_dict,
    tier_rank,
)
from clearance.register import Application, ModelConfig
from clearance.store import Transaction
from clearance.store import _tables as t
from clearance.web._home import Ctx
from clearance.web._render import HtmlRoute, page

router = APIRouter(route_class=HtmlRoute)

TIER_MEANINGS = {
    "public": "Anyone, on any channel the developer offers.",
    "public_safeguarded": "Anyone, behind the safeguards the level requires.",
    "approved_partners": "Only organizations holding a grant for the model.",
    "internal": "Only the developer, for internal use.",
    "halted": "No one: the model may not be served.",
}


def versions(tx: Transaction) -> list[dict[str, Any]]:
    """Every published framework version, newest first."""
    rows = tx.connection.execute(
        select(
            t.frameworks.c.digest,
            t.frameworks.c.framework_id,
            t.frameworks.c.version,
            t.frameworks.c.published_at,
            t.frameworks.c.current,
        ).order_by(t.frameworks.c.published_at.desc(), t.frameworks.c.digest)
    )
    return [dict(row._mapping) for row in rows]


def impact(tx: Transaction, old: Framework, new: Framework) -> list[dict[str, Any]]:
    """Each model whose latest application's evidence gives a different level or tier."""
    latest: dict[str, Application] = {}
    for application in tx.find(Application, order_by="filed_at"):
        if application.state != "withdrawn":
            latest[application.model_id] = application
    if not latest:
        return []
    digests = sorted({e.sha256 for a in latest.values() for e in a.evidence})
    parsed: dict[str, EvalRun | FindingsReport] = {}
    for row in tx.connection.execute(
        select(t.evidence.c.sha256, t.evidence.c.parsed).where(t.evidence.c.sha256.in_(digests))
    ):
        item = evidence_from_dict(row.parsed)
        if not isinstance(item, SafeguardDeclaration):
            parsed[row.sha256] = item
    wanted = sorted({a.safeguards_declaration for a in latest.values() if a.safeguards_declaration})
    declarations: dict[str, SafeguardDeclaration] = {}
    for row in tx.connection.execute(
        select(t.evidence.c.sha256, t.evidence.c.parsed).where(t.evidence.c.sha256.in_(wanted))
    ):
        item = evidence_from_dict(row.parsed)
        if isinstance(item, SafeguardDeclaration):
            declarations[row.sha256] = item
    models = {m.id: m for m in tx.find(ModelConfig, id=tuple(latest))}
    changed = []
    for model_id, application in sorted(latest.items(), key=lambda i: models[i[0]].name):
        evidence = [parsed[e.sha256] for e in application.evidence if e.sha256 in parsed]
        declaration = (
            declarations.get(application.safeguards_declaration)
            if application.safeguards_declaration
            else None
        )
        before = assess(old, evidence, declaration)
        after = assess(new, evidence, declaration)
        levels = _level_changes(before, after)
        if levels or before.max_tier != after.max_tier:
            changed.append(
                {
                    "model": models[model_id].name,
                    "application": application,
                    "levels": levels,
                    "old_tier": before.max_tier,
                    "new_tier": after.max_tier,
                    "direction": _direction(before.max_tier, after.max_tier),
                }
            )
    return changed


def _level_changes(before: Assessment, after: Assessment) -> list[tuple[str, str, str]]:
    old = {d.domain: d.level_name for d in before.domains}
    new = {d.domain: d.level_name for d in after.domains}
    return [
        (domain, old.get(domain, "—"), new.get(domain, "—"))
        for domain in sorted(old.keys() | new.keys())
        if old.get(domain) != new.get(domain)
    ]


def _direction(old: TierId, new: TierId) -> str:
    if old == new:
        return "same tier"
    return "more closed" if tier_rank(new) > tier_rank(old) else "more open"


@router.get("/frameworks", response_class=HTMLResponse, include_in_schema=False)
def frameworks_page(request: Request, ctx: Ctx) -> HTMLResponse:
    """Every published version, with links to each and to the differences between them."""
    with ctx.store.read() as tx:
        found = versions(tx)
    return page(request, "frameworks.html", versions=found)


@router.get("/frameworks/diff", response_class=HTMLResponse, include_in_schema=False)
def diff_page(
    request: Request,
    ctx: Ctx,
    old: str = Query(..., description="Digest of the earlier version."),
    new: str = Query(..., description="Digest of the later version."),
) -> HTMLResponse:
    """What changed between two versions, and which models it would move."""
    with ctx.store.read() as tx:
        old_digest, old_framework = _framework(ctx, tx, old)
        new_digest, new_framework = _framework(ctx, tx, new)
        changes = diff_frameworks(old_framework, new_framework)
        affected = impact(tx, old_framework, new_framework)
        known = versions(tx)
    areas: dict[str, list[Any]] = {}
    for change in changes:
        areas.setdefault(change.area, []).append(change)
    return page(
        request,
        "framework_diff.html",
        old=old_framework,
        new=new_framework,
        old_digest=old_digest,
        new_digest=new_digest,
        areas=areas,
        affected=affected,
        versions=known,
    )


def _framework(ctx: Context, tx: Transaction, digest: str) -> tuple[str, Framework]:
    return ctx.framework(tx, None if digest == "current" else digest)


@router.get("/frameworks/{digest}", response_class=HTMLResponse, include_in_schema=False)
def framework_page(digest: str, request: Request, ctx: Ctx) -> HTMLResponse:
    """One published version as tables."""
    with ctx.store.read() as tx:
        found, framework = _framework(ctx, tx, digest)
        known = versions(tx)
    index = next((i for i, v in enumerate(known) if v["digest"] == found), None)
    if index is None:
        raise NotFound(f"No framework version {digest!r} is published.")
    previous = known[index + 1]["digest"] if index + 1 < len(known) else None
    return page(
        request,
        "framework.html",
        framework=framework,
        digest=found,
        meta=known[index],
        previous=previous,
        tiers=[(tier, TIER_MEANINGS[tier]) for tier in TIER_ORDER],
        levels=_level_columns(framework),
    )


def _level_columns(framework: Framework) -> dict[str, list[str]]:
    """Per domain, its level ids above the baseline (the thresholds table's columns)."""
    return {d.id: [level.id for level in d.levels[1:]] for d in framework.domains}
