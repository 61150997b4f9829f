"""Routes for obligations: a decision's conditions, their fulfilment evidence and its review."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from clearance.api._auth import Caller, Ctx
from clearance.api._bodies import FulfilmentReview, NewFulfilment
from clearance.api._common import acted, find_model, new_id
from clearance.errors import InvalidInput
from clearance.register import Obligation, file_fulfilment, review_fulfilment
from clearance.store import find_evidence, may_read

router = APIRouter()

STATES = ("open", "under_review", "met", "breached", "ended")


@router.get("/models/{name}/obligations", tags=["obligations"])
def model_obligations(name: str, ctx: Ctx) -> dict[str, Any]:
    """A model's obligations, oldest first, with how many are open, met and breached."""
    with ctx.store.read() as tx:
        model = find_model(tx, name)
        found = tx.find(Obligation, model_id=model.id)
    items = sorted(found, key=lambda o: (o.created_at, o.id))
    counts = {state: sum(1 for o in items if o.state == state) for state in STATES}
    return {"items": [o.model_dump(mode="json") for o in items], "counts": counts}


@router.get("/obligations/{obligation_id}", tags=["obligations"])
def get_obligation(obligation_id: str, ctx: Ctx) -> dict[str, Any]:
    """One obligation: its terms, its fulfilments and their review, its breach."""
    with ctx.store.read() as tx:
        return tx.get(Obligation, obligation_id).model_dump(mode="json")


@router.post("/obligations/{obligation_id}/fulfilments", status_code=201, tags=["obligations"])
def add_fulfilment(
    obligation_id: str, body: NewFulfilment, caller: Caller, ctx: Ctx
) -> dict[str, Any]:
    """The developer files evidence (uploaded digests) that an open obligation is met."""
    with ctx.store.transaction() as tx:
        obligation = tx.get(Obligation, obligation_id)
        for index, digest in enumerate(body.evidence):
            stored = find_evidence(tx, digest)
            if stored is None or not may_read(tx, caller, stored):
                raise InvalidInput(
                    f"evidence[{index}]: no uploaded evidence {digest[:16]}...; upload it first "
                    "(POST /api/v1/evidence)"
                )
        change = file_fulfilment(
            obligation=obligation,
            principal=caller,
            new_id=new_id("ful"),
            text=body.text,
            evidence=tuple(dict.fromkeys(body.evidence)),
            now=ctx.clock(),
        )
        tx.apply(change)
    return acted(tx, change.records[0])


@router.post(
    "/obligations/{obligation_id}/fulfilments/{fulfilment_id}/review", tags=["obligations"]
)
def review(
    obligation_id: str, fulfilment_id: str, body: FulfilmentReview, caller: Caller, ctx: Ctx
) -> dict[str, Any]:
    """A reviewer accepts the fulfilment (the obligation is met) or rejects it, with reasons."""
    with ctx.store.transaction() as tx:
        change = review_fulfilment(
            obligation=tx.get(Obligation, obligation_id),
            fulfilment_id=fulfilment_id,
            reviewer=caller,
            accepted=body.accepted,
            reasons=body.reasons,
            now=ctx.clock(),
        )
        tx.apply(change)
    return acted(tx, change.records[0])
