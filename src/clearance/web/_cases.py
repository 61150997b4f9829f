"""Pages for one model, one decision, one directive, and the third-party risk reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from clearance.errors import NotFound
from clearance.framework import RULES, Framework
from clearance.register import (
    Appeal,
    Application,
    Decision,
    Directive,
    Grant,
    Hearing,
    ModelConfig,
    ModelStatus,
    Obligation,
    Organization,
    RiskReport,
)
from clearance.store import Transaction, confidential_digests, evidence_summary
from clearance.store import _tables as t
from clearance.web._home import Ctx, organization_names
from clearance.web._proceedings import model_proceedings
from clearance.web._render import HtmlRoute, days_until, page, tier_name
from clearance.web._verify import DECISION_KINDS, log_entries, verify_block

router = APIRouter(route_class=HtmlRoute)


def find_model(tx: Transaction, name_or_id: str) -> ModelConfig:
    """A model by its gateway name or its id."""
    found = tx.find_one(ModelConfig, name=name_or_id) or tx.find_one(ModelConfig, id=name_or_id)
    if found is None:
        raise NotFound(f"No model named {name_or_id!r} is registered.")
    return found


def rule_text(framework: Framework, rule: str) -> str:
    """What a cited rule id names in the framework, in words."""
    if rule in RULES:
        return f"Assessor rule: {RULES[rule]}"
    for domain in framework.domains:
        if domain.id == rule:
            return f"Domain: {domain.name}"
        for level in domain.levels:
            if level.id == rule:
                return (
                    f"{domain.name}, level {level.name}: most open tier "
                    f"{tier_name(level.max_tier)}"
                    + (
                        f", required safeguards {', '.join(level.required_safeguards)}"
                        if level.required_safeguards
                        else ""
                    )
                )
    for metric in framework.metrics:
        if metric.id == rule:
            return f"Metric: {metric.description or metric.id}"
    for finding in framework.finding_rules:
        if finding.id == rule:
            return f"Finding rule: {finding.description}"
    for safeguard in framework.safeguards:
        if safeguard.id == rule:
            return f"Safeguard: {safeguard.name}"
    for group in framework.jurisdictions:
        if group.id == rule:
            return f"Jurisdiction group: {group.name}"
    if rule.startswith("procedure."):
        name = rule.removeprefix("procedure.")
        value = getattr(framework.procedure, name, None)
        return f"Procedure: {name.replace('_', ' ')} = {value}"
    return "Not in this framework version"


def usage_totals(tx: Transaction, model_name: str) -> dict[str, int]:
    """The gateway's usage totals for a model, summed over organizations and grants."""
    row = tx.connection.execute(
        select(
            func.coalesce(func.sum(t.usage.c.calls), 0).label("calls"),
            func.coalesce(func.sum(t.usage.c.failures), 0).label("failures"),
            func.coalesce(func.sum(t.usage.c.prompt_tokens), 0).label("prompt_tokens"),
            func.coalesce(func.sum(t.usage.c.completion_tokens), 0).label("completion_tokens"),
            func.count(func.distinct(t.usage.c.organization_id)).label("organizations"),
        ).where(t.usage.c.model == model_name)
    ).one()
    return {key: int(value) for key, value in row._mapping.items()}


def _entry(
    at: dt.datetime, title: str, detail: str = "", href: str | None = None
) -> dict[str, Any]:
    return {"at": at, "title": title, "detail": detail, "href": href}


def model_timeline(
    tx: Transaction, model: ModelConfig, names: dict[str, str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The model's acts in time order, and what the grants add up to (no undisclosed names)."""
    entries: list[dict[str, Any]] = []
    for app in tx.find(Application, model_id=model.id):
        entries.append(
            _entry(
                app.filed_at,
                "Application filed",
                f"asks for {tier_name(app.requested_tier)} in "
                f"{', '.join(app.requested_jurisdictions)}; now {app.state.replace('_', ' ')}",
            )
        )
    decisions = tx.find(Decision, model_id=model.id)
    for decision in decisions:
        title = "Deemed decision" if decision.deemed else "Decision"
        detail = f"{decision.outcome.replace('_', ' ')}, {tier_name(decision.tier)}"
        if decision.set_aside:
            detail += " (set aside on appeal)"
        entries.append(_entry(decision.decided_at, title, detail, f"/decisions/{decision.id}"))
    if decisions:
        for appeal in tx.find(Appeal, decision_id=tuple(d.id for d in decisions)):
            entries.append(
                _entry(appeal.filed_at, "Appeal filed", "", f"/decisions/{appeal.decision_id}")
            )
            if appeal.ruled_at is not None:
                entries.append(
                    _entry(
                        appeal.ruled_at,
                        "Appeal ruled",
                        appeal.state,
                        f"/decisions/{appeal.decision_id}",
                    )
                )
    for directive in tx.find(Directive, model_id=model.id):
        title = {"halt": "Halt", "restrict": "Restriction", "restore": "Restoration"}[
            directive.action
        ]
        entries.append(
            _entry(
                directive.issued_at,
                f"{title} directive",
                f"{directive.state}; sunset {directive.sunset_at:%Y-%m-%d}",
                f"/directives/{directive.id}",
            )
        )
        for renewal in directive.renewals:
            entries.append(
                _entry(renewal.renewed_at, f"{title} renewed", "", f"/directives/{directive.id}")
            )
    grants = tx.find(Grant, model_id=model.id)
    public_orgs = (
        {
            o.id
            for o in tx.find(Organization, id=tuple({g.organization_id for g in grants}))
            if o.name_public
        }
        if grants
        else set()
    )
    for grant in grants:
        who = (
            names.get(grant.organization_id, "")
            if grant.organization_id in public_orgs
            else ("an undisclosed partner")
        )
        if grant.purpose == "testing":
            entries.append(
                _entry(grant.granted_at, "Testing access", f"to the authority; {grant.state}")
            )
            continue
        entries.append(_entry(grant.granted_at, "Access granted", f"to {who}; {grant.state}"))
    for report in tx.find(RiskReport, model_id=model.id):
        entries.append(
            _entry(report.filed_at, "Risk report filed", report.title, f"/reports#{report.id}")
        )
    entries.sort(key=lambda e: e["at"])
    grants = [g for g in grants if g.purpose == "access"]
    active = [g for g in grants if g.state == "active"]
    summary = {
        "total": len(grants),
        "active": len(active),
        "named": sorted(
            names[g.organization_id] for g in active if g.organization_id in public_orgs
        ),
        "undisclosed": sum(1 for g in active if g.organization_id not in public_orgs),
    }
    return entries, summary


@router.get("/models/{name:path}", response_class=HTMLResponse, include_in_schema=False)
def model_page(name: str, request: Request, ctx: Ctx) -> HTMLResponse:
    """One model: its status, its timeline, its grants and its usage."""
    with ctx.store.read() as tx:
        model = find_model(tx, name)
        status = tx.get(ModelStatus, model.id)
        names = organization_names(tx)
        timeline, grants = model_timeline(tx, model, names)
        usage = usage_totals(tx, model.name)
        family = [
            m
            for m in tx.find(ModelConfig, organization_id=model.organization_id)
            if m.sibling == model.id or (model.sibling is not None and m.id == model.sibling)
        ]
        variants = [(m, tx.get(ModelStatus, m.id)) for m in (model, *family)] if family else []
        proceedings = model_proceedings(tx, model, ctx.clock())
        obligations = sorted(
            tx.find(Obligation, model_id=model.id), key=lambda o: (o.created_at, o.id)
        )
    return page(
        request,
        "model.html",
        model=model,
        status=status,
        variants=variants,
        developer=names.get(model.organization_id, ""),
        timeline=timeline,
        grants=grants,
        usage=usage,
        proceedings=proceedings,
        obligations=obligations,
    )


@router.get("/decisions/{decision_id}", response_class=HTMLResponse, include_in_schema=False)
def decision_page(decision_id: str, request: Request, ctx: Ctx) -> HTMLResponse:
    """One decision with its reasons, the rules and evidence they cite, and how to verify it."""
    with ctx.store.read() as tx:
        decision = tx.get(Decision, decision_id)
        application = tx.get(Application, decision.application_id)
        model = tx.get(ModelConfig, decision.model_id)
        _, framework = ctx.framework(tx, application.framework_digest)
        appeals = tx.find(Appeal, decision_id=decision.id)
        names = {
            row.id: row.body["name"]
            for row in tx.connection.execute(select(t.principals.c.id, t.principals.c.body))
        }
        entries = log_entries(tx.connection, model, DECISION_KINDS)
        verify = verify_block(
            ctx.store, tx.connection, entries.get(decision.id), str(request.base_url), decision.id
        )
        withheld = confidential_digests(tx, [e.sha256 for e in application.evidence])
    evidence_names = {e.sha256: e.name for e in application.evidence}
    reasons = [
        {
            "text": reason.text,
            "rules": [(rule, rule_text(framework, rule)) for rule in reason.rules],
            "evidence": [(d, evidence_names.get(d, "evidence")) for d in reason.evidence],
        }
        for reason in decision.reasons
    ]
    return page(
        request,
        "decision.html",
        decision=decision,
        application=application,
        model=model,
        framework=framework,
        reasons=reasons,
        appeals=appeals,
        names=names,
        verify=verify,
        withheld=withheld,
        now=ctx.clock(),
    )


EVIDENCE_KINDS = {
    "eval": "Evaluation run",
    "findings": "Red-team findings",
    "safeguards": "Safeguards declaration",
}
INTERVAL_KINDS = {
    "clopper_pearson": "exact",
    "normal": "± z·SE",
    "none": "no standard error",
}


@router.get("/evidence/{sha256}", response_class=HTMLResponse, include_in_schema=False)
def evidence_page(sha256: str, request: Request, ctx: Ctx) -> HTMLResponse:
    """One evidence file: what anyone may know of it, and its bytes unless they are withheld."""
    with ctx.store.read() as tx:
        summary = evidence_summary(tx, sha256)
    return page(
        request,
        "evidence.html",
        e=summary,
        kinds=EVIDENCE_KINDS,
        intervals=INTERVAL_KINDS,
    )


@router.get("/directives/{directive_id}", response_class=HTMLResponse, include_in_schema=False)
def directive_page(directive_id: str, request: Request, ctx: Ctx) -> HTMLResponse:
    """One directive: grounds, scope, hearing, sunset and renewals."""
    with ctx.store.read() as tx:
        directive = tx.get(Directive, directive_id)
        model = tx.get(ModelConfig, directive.model_id)
        names = organization_names(tx)
        hearing = tx.find_one(Hearing, id=directive.hearing_id) if directive.hearing_id else None
        entries = log_entries(tx.connection, model, ("directive.issued",))
        verify = verify_block(
            ctx.store,
            tx.connection,
            entries.get(directive.id),
            str(request.base_url),
            directive.id,
        )
    return page(
        request,
        "directive.html",
        directive=directive,
        model=model,
        organizations=[names.get(o, o) for o in directive.scope.organizations],
        verify=verify,
        days_left=days_until(directive.sunset_at, ctx.clock()),
        hearing=hearing,
    )


@router.get("/reports", response_class=HTMLResponse, include_in_schema=False)
def reports_page(request: Request, ctx: Ctx) -> HTMLResponse:
    """Third-party risk reports, newest first, each with its conflict-of-interest disclosure."""
    with ctx.store.read() as tx:
        reports = tx.find(RiskReport, order_by="filed_at", descending=True)
        names = organization_names(tx)
        models = {
            m.id: m.name for m in tx.find(ModelConfig, id=tuple({r.model_id for r in reports}))
        }
    return page(request, "reports.html", reports=reports, names=names, models=models)
