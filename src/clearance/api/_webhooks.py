"""Routes for notices: an organization's webhook endpoints, its delivery log, redelivery."""

from __future__ import annotations

import ipaddress
import json
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from sqlalchemy import insert, select

from clearance.api._auth import Caller, Ctx
from clearance.api._bodies import NewWebhook
from clearance.api._common import find_organization, new_id
from clearance.errors import Forbidden, InvalidInput
from clearance.register import Principal
from clearance.store import _tables as t
from clearance.store import new_secret, redeliver

router = APIRouter()

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _require_own(caller: Principal, organization_id: str) -> None:
    if caller.organization_id != organization_id and "admin" not in caller.roles:
        raise Forbidden("only the organization itself or an administrator may do this")


def _port(scheme: str, port: int | None) -> int:
    return port if port is not None else (443 if scheme == "https" else 80)


def _loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, register: str) -> str:
    """The URL if notices may go there: http(s), a host, and not the register itself."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput(f"url: {url!r} is not a URL") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidInput(f"url: webhooks are delivered over http or https, not {parts.scheme!r}")
    host = (parts.hostname or "").lower()
    if not host:
        raise InvalidInput("url: the URL has no host")
    if parts.username or parts.password:
        raise InvalidInput("url: the URL may not carry credentials")
    own = urlsplit(register)
    own_host = (own.hostname or "").lower()
    same_port = _port(parts.scheme, port) == _port(own.scheme, own.port)
    if same_port and (host == own_host or (_loopback(host) and _loopback(own_host))):
        raise InvalidInput("url: the URL points at this register itself")
    return url


@router.post("/organizations/{organization}/webhooks", status_code=201, tags=["notices"])
def add_webhook(
    organization: str, body: NewWebhook, request: Request, caller: Caller, ctx: Ctx
) -> dict[str, Any]:
    """Register a webhook endpoint; the answer carries its signing secret, shown this once only.

    Every act that touches the organization is posted there as a Standard Webhooks message
    (headers `webhook-id`, `webhook-timestamp`, `webhook-signature`; body `{"type",
    "timestamp", "data"}`).
    """
    with ctx.store.transaction() as tx:
        found = find_organization(tx, organization)
        _require_own(caller, found.id)
        url = check_url(body.url, str(request.base_url))
        endpoint = {
            "id": new_id("whk"),
            "organization_id": found.id,
            "url": url,
            "created_at": ctx.clock(),
        }
        secret = new_secret()
        tx.connection.execute(insert(t.webhook_endpoints).values(**endpoint, secret=secret))
    return _endpoint(endpoint) | {"secret": secret}


def _endpoint(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "organization_id": row["organization_id"],
        "url": row["url"],
        "created_at": row["created_at"].isoformat(),
    }


@router.get("/organizations/{organization}/webhooks", tags=["notices"])
def list_webhooks(organization: str, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """The organization's webhook endpoints (their secrets are never shown again)."""
    with ctx.store.read() as tx:
        found = find_organization(tx, organization)
        _require_own(caller, found.id)
        rows = tx.connection.execute(
            select(
                t.webhook_endpoints.c.id,
                t.webhook_endpoints.c.organization_id,
                t.webhook_endpoints.c.url,
                t.webhook_endpoints.c.created_at,
            )
            .where(t.webhook_endpoints.c.organization_id == found.id)
            .order_by(t.webhook_endpoints.c.created_at, t.webhook_endpoints.c.id)
        )
        return {"items": [_endpoint(row._mapping) for row in rows]}


@router.get("/organizations/{organization}/webhooks/messages", tags=["notices"])
def list_messages(
    organization: str,
    caller: Caller,
    ctx: Ctx,
    limit: int = Query(100, ge=1, le=500),
    state: str | None = Query(None, description="pending, delivered or failed."),
) -> dict[str, Any]:
    """The delivery log: each notice sent to the organization, newest first, with every attempt."""
    with ctx.store.read() as tx:
        found = find_organization(tx, organization)
        _require_own(caller, found.id)
        query = (
            select(t.outbox)
            .where(t.outbox.c.organization_id == found.id)
            .order_by(t.outbox.c.created_at.desc(), t.outbox.c.id)
            .limit(limit)
        )
        if state is not None:
            query = query.where(t.outbox.c.state == state)
        messages = list(tx.connection.execute(query))
        attempts: dict[str, list[dict[str, Any]]] = {}
        if messages:
            for row in tx.connection.execute(
                select(t.webhook_deliveries)
                .where(t.webhook_deliveries.c.message_id.in_([m.id for m in messages]))
                .order_by(t.webhook_deliveries.c.id)
            ):
                attempts.setdefault(row.message_id, []).append(
                    {
                        "attempt": row.attempt,
                        "at": _iso(row.at),
                        "status": row.status,
                        "error": row.error,
                    }
                )
    return {
        "items": [
            {
                "id": m.id,
                "endpoint_id": m.endpoint_id,
                "type": m.kind,
                "state": m.state,
                "created_at": _iso(m.created_at),
                "next_attempt_at": _iso(m.next_attempt_at),
                "delivered_at": _iso(m.delivered_at),
                "attempts": attempts.get(m.id, []),
                "payload": json.loads(m.payload),
            }
            for m in messages
        ]
    }


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return str(value.isoformat()) if value.tzinfo else str(value.isoformat()) + "+00:00"


@router.post(
    "/organizations/{organization}/webhooks/messages/{message_id}/redeliver", tags=["notices"]
)
def redeliver_message(
    organization: str, message_id: str, caller: Caller, ctx: Ctx
) -> dict[str, Any]:
    """Send a notice that was not delivered again now (one delivered with 2xx is never resent)."""
    with ctx.store.transaction() as tx:
        found = find_organization(tx, organization)
        _require_own(caller, found.id)
        redeliver(tx, found.id, message_id, ctx.clock())
    return {"id": message_id, "state": "pending"}
