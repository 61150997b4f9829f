"""Client operations on obligations: a decision's conditions, their fulfilment and its review."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clearance.api._bodies import FulfilmentReview, NewFulfilment
from clearance.client._http import Session, operation
from clearance.client._models import Obligation


class Obligations(Session):
    """Obligations: read them, file their fulfilment (developers), review it (reviewers)."""

    @operation("GET", "/models/{name}/obligations")
    def obligations(self, model: str) -> list[Obligation]:
        """A model's obligations, oldest first."""
        found = self.json("GET", f"/models/{model}/obligations")
        return [Obligation.model_validate(o) for o in found["items"]]

    @operation("GET", "/obligations/{obligation_id}")
    def obligation(self, obligation_id: str) -> Obligation:
        """One obligation: its terms, fulfilments and their review, its breach."""
        return Obligation.model_validate(self.json("GET", f"/obligations/{obligation_id}"))

    @operation("POST", "/obligations/{obligation_id}/fulfilments")
    def fulfil(self, obligation_id: str, text: str, evidence: Sequence[str]) -> Obligation:
        """File evidence (uploaded digests, hex or `sha256:`) that an obligation is met."""
        body = NewFulfilment(text=text, evidence=list(evidence))
        return Obligation.model_validate(
            self.json(
                "POST",
                f"/obligations/{obligation_id}/fulfilments",
                json=body.model_dump(mode="json"),
            )
        )

    @operation("POST", "/obligations/{obligation_id}/fulfilments/{fulfilment_id}/review")
    def review_fulfilment(
        self, obligation_id: str, fulfilment_id: str, accepted: bool, reasons: str
    ) -> Obligation:
        """Accept a fulfilment (the obligation is met) or reject it, with reasons."""
        body = FulfilmentReview(accepted=accepted, reasons=reasons)
        found: dict[str, Any] = self.json(
            "POST",
            f"/obligations/{obligation_id}/fulfilments/{fulfilment_id}/review",
            json=body.model_dump(mode="json"),
        )
        return Obligation.model_validate(found)
