"""Who is calling: the API key in the Authorization header, checked against its stored hash."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Request

from clearance.api._context import Context
from clearance.api._errors import authenticates
from clearance.errors import Unauthorized
from clearance.register import Principal
from clearance.store import key_matches, split_key


async def context(request: Request) -> Context:
    """The register's context for this app (async: no thread hop for a dictionary read)."""
    ctx: Context = request.app.state.context
    return ctx


def presented_key(request: Request) -> str | None:
    """The bearer token, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def principal(request: Request, ctx: Annotated[Context, Depends(context)]) -> Principal:
    """The authenticated principal, or 401."""
    token = presented_key(request)
    if token is None:
        raise Unauthorized("this needs an API key: send 'Authorization: Bearer <key>'")
    return _check(token, ctx)


def principal_or_none(
    request: Request, ctx: Annotated[Context, Depends(context)]
) -> Principal | None:
    """The authenticated principal; None when no key was sent; 401 for a wrong key."""
    token = presented_key(request)
    return None if token is None else _check(token, ctx)


def _check(token: str, ctx: Context) -> Principal:
    parts = split_key(token)
    if parts is not None:
        now = ctx.clock()
        with ctx.store.read() as tx:
            found = tx.principal_by_key_id(parts[0], now)
        if found is not None and key_matches(parts[1], found[1]):
            last = found[2]
            if last is None or now - last >= LAST_USED_EVERY or now < last:
                with ctx.store.transaction() as tx:
                    tx.key_used(parts[0], now)
            return found[0]
    raise Unauthorized("the API key is not valid (or was revoked)")


LAST_USED_EVERY = dt.timedelta(seconds=60)
"""A key's last use is written down at most this often, not on every request."""


def _check_required(request: Request) -> None:
    principal(request, request.app.state.context)


def _check_optional(request: Request) -> None:
    principal_or_none(request, request.app.state.context)


authenticates(principal, _check_required)
authenticates(principal_or_none, _check_optional, required=False)

Caller = Annotated[Principal, Depends(principal)]
MaybeCaller = Annotated[Principal | None, Depends(principal_or_none)]
Ctx = Annotated[Context, Depends(context)]
