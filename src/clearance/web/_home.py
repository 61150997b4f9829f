"""The home page: every model with its status, the pending clocks, active directives, the log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from clearance.api import Context
from clearance.store import Transaction, TransparencyLog, published_checkpoint
from clearance.store import _tables as t
from clearance.web._render import HtmlRoute, days_until, page, tier_name

router = APIRouter(route_class=HtmlRoute)

PENDING = ("filed", "under_review", "information_requested")


def context(request: Request) -> Context:
    """The register's context for this app."""
    ctx: Context = request.app.state.context
    return ctx


Ctx = Annotated[Context, Depends(context)]


def organization_names(tx: Transaction) -> dict[str, str]:
    """Organization id to its public name ("an undisclosed partner" when it asked for that)."""
    names = {}
    for body in tx.connection.scalars(select(t.organizations.c.body)):
        public = body.get("name_public", True)
        names[body["id"]] = body["name"] if public else "an undisclosed organization"
    return names


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; the register writes UTC only.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def witnessing(tx: Transaction, log: TransparencyLog | None) -> dict[str, Any]:
    """The published checkpoint, and which of the log's witnesses cosigned it and when."""
    quorum = log.witness_quorum if log is not None else 0
    published = published_checkpoint(tx.connection, quorum)
    cosigned = {c.witness: c.cosigned_at for c in published.cosigned} if published else {}
    witnesses = [
        {
            "name": w.name,
            "vkey": w.vkey,
            "cosigned_at": (
                dt.datetime.fromtimestamp(cosigned[w.vkey], dt.UTC) if w.vkey in cosigned else None
            ),
        }
        for w in (log.witnesses if log is not None else ())
    ]
    return {
        "checkpoint": published.note if published is not None else None,
        "witnesses": witnesses,
        "cosigned_count": sum(1 for w in witnesses if w["cosigned_at"] is not None),
        "witness_quorum": quorum,
    }


def home_data(
    tx: Transaction, now: dt.datetime, log: TransparencyLog | None = None
) -> dict[str, Any]:
    """What the home page shows, read with a handful of indexed queries.

    Only the small status rows are read whole; applications (which carry their assessment) and
    directives are read by the few fields shown, so the page stays fast with 1,000s of models.
    """
    names = organization_names(tx)
    models = list(
        tx.connection.scalars(select(t.model_status.c.body).order_by(t.model_status.c.name))
    )
    model_names = {m["model_id"]: m["name"] for m in models}
    for model in models:
        model["organization"] = names.get(model["organization_id"], "")
        model["href"] = "/models/" + quote(model["name"], safe="/:")
        model["tier_name"] = tier_name(model["tier"]) if model["tier"] else None
    a = t.applications
    pending = []
    for row in tx.connection.execute(
        select(
            a.c.id,
            a.c.model_id,
            a.c.state,
            a.c.deadline,
            a.c.body["requested_tier"].as_string().label("requested_tier"),
            a.c.body["clock_stopped_at"].as_string().label("clock_stopped_at"),
        )
        .where(a.c.state.in_(PENDING))
        .order_by(a.c.deadline, a.c.id)
    ):
        deadline = _aware(row.deadline)
        stopped = row.clock_stopped_at
        since = dt.datetime.fromisoformat(stopped) if stopped else now
        name = model_names.get(row.model_id, row.model_id)
        pending.append(
            {
                "id": row.id,
                "model_name": name,
                "href": "/models/" + quote(name, safe="/:"),
                "state": row.state,
                "requested_tier": row.requested_tier,
                "deadline": deadline,
                "clock_stopped_at": stopped,
                "days_left": days_until(deadline, since),
                "stopped": bool(stopped),
            }
        )
    d = t.directives
    directives = []
    for row in tx.connection.execute(
        select(
            d.c.id,
            d.c.model_id,
            d.c.sunset_at,
            d.c.body["action"].as_string().label("action"),
            d.c.body["hearing_date"].as_string().label("hearing_date"),
            d.c.body["renewals"].label("renewals"),
        )
        .where(d.c.state == "active")
        .order_by(d.c.sunset_at, d.c.id)
    ):
        sunset = _aware(row.sunset_at)
        directives.append(
            {
                "id": row.id,
                "action": row.action,
                "model_name": model_names.get(row.model_id, row.model_id),
                "hearing_date": row.hearing_date,
                "sunset_at": sunset,
                "renewals": row.renewals or [],
                "days_left": days_until(sunset, now),
            }
        )
    counts: dict[str, int] = {}
    for model in models:
        counts[model["status"]] = counts.get(model["status"], 0) + 1
    return {
        "models": models,
        "counts": sorted(counts.items()),
        "pending": pending,
        "directives": directives,
        **witnessing(tx, log),
        "now": now,
    }


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, ctx: Ctx) -> HTMLResponse:
    """The register at a glance."""
    now = ctx.clock()
    log = next((h for h in ctx.store.hooks if isinstance(h, TransparencyLog)), None)
    with ctx.store.read() as tx:
        data = home_data(tx, now, log)
    return page(request, "home.html", **data)
