"""Routes for API keys: revoke every key of a principal, rotate with a grace period, list them.

An administrator may do each for anyone; a principal for itself (`me` stands for the caller).
Keys are stored as SHA-256 digests; a new key is shown once, in the answer that made it. Ending
a key is an event, so the gateway's snapshot is compiled again at once and every replica
refuses the key as soon as it has that snapshot (as with a directive).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter

from clearance.api._auth import Caller, Ctx
from clearance.api._bodies import Rotation
from clearance.api._common import log_position
from clearance.register import Principal, issue_key, revoke_keys
from clearance.store import Transaction, new_api_key

router = APIRouter()


def _principal(tx: Transaction, principal_id: str, caller: Principal) -> Principal:
    return caller if principal_id in ("me", caller.id) else tx.get(Principal, principal_id)


@router.post("/principals/{principal_id}/revoke", tags=["parties"])
def revoke_principal_keys(principal_id: str, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """End every key of a principal now (administrators, or the principal itself via `me`).

    The principal keeps its record and roles; an administrator can give it a new key with
    POST /principals/{id}/keys.
    """
    now = ctx.clock()
    with ctx.store.transaction() as tx:
        principal = _principal(tx, principal_id, caller)
        revoke_keys(principal, caller, now, 0)  # refuses before anything is written
        ended = tx.end_keys(principal.id, now, dt.timedelta(0))
        tx.apply(revoke_keys(principal, caller, now, ended))
        position = log_position(tx, principal.id)
    return {"principal_id": principal.id, "revoked": ended, "at": now.isoformat()} | position


@router.post("/principals/{principal_id}/keys", status_code=201, tags=["parties"])
def rotate_principal_key(
    principal_id: str, body: Rotation, caller: Caller, ctx: Ctx
) -> dict[str, Any]:
    """A new key for a principal, shown this once; its other keys end after `grace_seconds`.

    Administrators, or the principal itself via `me`.
    """
    now = ctx.clock()
    with ctx.store.transaction() as tx:
        principal = _principal(tx, principal_id, caller)
        change = issue_key(principal, caller, now, body.grace_seconds)
        tx.end_keys(principal.id, now, dt.timedelta(seconds=body.grace_seconds))
        key_id, key_hash, api_key = new_api_key()
        tx.add_key(principal.id, key_id, key_hash, now)
        tx.apply(change)
        position = log_position(tx, principal.id)
    ends = now + dt.timedelta(seconds=body.grace_seconds)
    return {
        "principal_id": principal.id,
        "key_id": key_id,
        "api_key": api_key,
        "others_end_at": ends.isoformat(),
    } | position


@router.get("/principals/{principal_id}/keys", tags=["parties"])
def list_principal_keys(principal_id: str, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """A principal's keys with when each was made, last used, and ends; never a secret.

    `last_used_at` is the last use at the register (within a minute); `active` is whether it
    is valid now. Administrators, or the principal itself via `me`.
    """
    now = ctx.clock()
    with ctx.store.read() as tx:
        principal = _principal(tx, principal_id, caller)
        revoke_keys(principal, caller, now, 0)  # the same rule: the admin or oneself
        keys = tx.keys_of(principal.id)
    items = []
    for key in keys:
        ends = key["revoked_at"] or key["expires_at"]
        items.append(
            {name: (value.isoformat() if isinstance(value, dt.datetime) else value)
             for name, value in key.items()}
            | {"active": ends is None or ends > now}
        )  # fmt: skip
    return {"principal_id": principal.id, "items": items}
