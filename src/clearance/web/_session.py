"""Signing in without JavaScript: a form takes the API key and keeps it in an HttpOnly cookie.

The cookie holds only the key, is sent back only to this site (SameSite=Strict, which also keeps
other sites from posting forms as the reader) and never reaches scripts (HttpOnly). Each request
checks it against the store exactly as the API checks a bearer key.
"""

from __future__ import annotations

from fastapi import Request, Response

from clearance.api import Context
from clearance.register import Principal
from clearance.store import key_matches, split_key

COOKIE = "clearance_key"
MAX_AGE = 8 * 3600


def principal_for_key(context: Context, key: str) -> Principal | None:
    """The principal holding this API key, or None."""
    parts = split_key(key.strip())
    if parts is None:
        return None
    with context.store.read() as tx:
        found = tx.principal_by_key_id(parts[0], context.clock())
    if found is not None and key_matches(parts[1], found[1]):
        return found[0]
    return None


def signed_in(request: Request) -> Principal | None:
    """Who the cookie says is signed in (checked against the store), or None."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    key = request.cookies.get(COOKIE)
    if not key:
        return None
    context: Context = request.app.state.context
    found = principal_for_key(context, key)
    request.state.principal = found
    return found


def remember(request: Request, response: Response, key: str) -> None:
    """Set the session cookie."""
    response.set_cookie(
        COOKIE,
        key.strip(),
        max_age=MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def forget(response: Response) -> None:
    """Clear the session cookie."""
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
