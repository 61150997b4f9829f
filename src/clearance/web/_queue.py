"""The reviewers' queue, and signing in to see it: pending cases by deadline, overdue flagged;
and a case's page, the developer's evidence beside the authority's own, discrepancies flagged."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clearance.register import Application, ModelConfig
from clearance.web._home import PENDING, Ctx, organization_names
from clearance.web._render import HtmlRoute, days_until, page
from clearance.web._session import forget, principal_for_key, remember, signed_in

router = APIRouter(route_class=HtmlRoute)

REVIEWING_ROLES = frozenset({"reviewer", "admin", "appeal_panel"})
MAX_FORM = 4096


def _next(value: str | None) -> str:
    # Only paths on this site: never an open redirect.
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return "/queue"


@router.get("/signin", response_class=HTMLResponse, include_in_schema=False)
def signin_form(request: Request, next: str | None = None) -> HTMLResponse:
    """The sign-in form."""
    return page(request, "signin.html", next=_next(next), error=None)


@router.post("/signin", include_in_schema=False)
async def signin(request: Request, ctx: Ctx) -> Response:
    """Check the key as the API does; on success keep it in the cookie and go on."""
    body = await request.body()
    form = parse_qs(body[:MAX_FORM].decode("utf-8", errors="replace"))
    key = (form.get("api_key") or [""])[0]
    target = _next((form.get("next") or [""])[0])
    principal = principal_for_key(ctx, key) if key else None
    if principal is None:
        return page(request, "signin.html", 401, next=target, error="That API key is not valid.")
    response = RedirectResponse(target, status_code=303)
    remember(request, response, key)
    return response


@router.post("/signout", include_in_schema=False)
def signout() -> Response:
    """Forget the key."""
    response = RedirectResponse("/", status_code=303)
    forget(response)
    return response


@router.get("/queue", response_class=HTMLResponse, include_in_schema=False)
def queue(request: Request, ctx: Ctx) -> Response:
    """Pending cases, soonest deadline first; overdue ones flagged."""
    who = signed_in(request)
    if who is None:
        return RedirectResponse("/signin?next=/queue", status_code=303)
    if not REVIEWING_ROLES & set(who.roles):
        return page(
            request,
            "error.html",
            403,
            title="Not allowed",
            message="The review queue is for reviewers; your key does not hold that role.",
        )
    now = ctx.clock()
    with ctx.store.read() as tx:
        pending = tx.find(Application, state=PENDING, order_by="deadline")
        models = {
            m.id: m.name for m in tx.find(ModelConfig, id=tuple({a.model_id for a in pending}))
        }
        names = organization_names(tx)
    cases = []
    for application in pending:
        stopped = application.clock_stopped_at
        left = days_until(application.deadline, stopped or now)
        cases.append(
            {
                "application": application,
                "model": models.get(application.model_id, application.model_id),
                "applicant": names.get(application.organization_id, ""),
                "days_left": left,
                "overdue": stopped is None and application.deadline <= now,
                "mine": application.reviewer_id == who.id,
            }
        )
    return page(
        request,
        "queue.html",
        cases=cases,
        overdue=sum(1 for c in cases if c["overdue"]),
        who=who,
    )


def _tests(assessment: dict[str, Any] | None) -> dict[tuple[str, str], dict[str, Any]]:
    if not assessment:
        return {}
    return {
        (test["metric"], test["level"]): test
        for domain in assessment.get("domains", ())
        for test in domain.get("tests", ())
    }


@router.get("/cases/{application_id}", response_class=HTMLResponse, include_in_schema=False)
def case(application_id: str, request: Request, ctx: Ctx) -> Response:
    """One case for its reviewers: each metric's reading on the developer's evidence beside the
    authority's own runs and the assessment over both, with every discrepancy flagged."""
    who = signed_in(request)
    if who is None:
        return RedirectResponse(f"/signin?next=/cases/{application_id}", status_code=303)
    if not REVIEWING_ROLES & set(who.roles):
        return page(
            request,
            "error.html",
            403,
            title="Not allowed",
            message="A case's page is for reviewers; your key does not hold that role.",
        )
    with ctx.store.read() as tx:
        application = tx.get(Application, application_id)
        model = tx.get(ModelConfig, application.model_id)
    developer = _tests(application.assessment)
    combined = _tests(application.authority_assessment)
    flagged = {(d.metric, d.level): d for d in application.discrepancies}
    mine = {e.sha256 for e in application.authority_evidence}
    rows = [
        {
            "metric": metric,
            "level": level,
            "developer": test,
            "combined": combined.get((metric, level)),
            "authority_run": (combined.get((metric, level)) or {}).get("evidence") in mine,
            "discrepancy": flagged.get((metric, level)),
        }
        for (metric, level), test in developer.items()
    ]
    return page(
        request,
        "case.html",
        application=application,
        model=model.name,
        rows=rows,
        discrepancies=application.discrepancies,
    )
