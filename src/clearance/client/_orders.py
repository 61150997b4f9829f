"""Client operations on orders and access: directives, access requests, grants, reports, the
clock, webhooks, and the transparency log's public files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from clearance.api._bodies import (
    AccessDecision as AccessDecisionBody,
)
from clearance.api._bodies import (
    NewAccessRequest,
    NewDirective,
    NewReport,
    NewWebhook,
    Renewal,
)
from clearance.api._bodies import (
    Revocation as RevocationBody,
)
from clearance.client._http import Session, operation
from clearance.client._models import (
    AccessDecision,
    AccessRequest,
    Directive,
    Grant,
    Report,
    Revocation,
)
from clearance.framework import TierId
from clearance.register import Limits


class Orders(Session):
    """Directives, access and grants, reports, the clock, webhooks and the log."""

    @operation("POST", "/directives")
    def issue_directive(
        self,
        action: Literal["halt", "restrict", "restore"],
        model: str,
        grounds: str,
        *,
        urgent: bool = False,
        organizations: Sequence[str] = (),
        jurisdictions: Sequence[str] = (),
        channels: Sequence[str] = (),
        tiers: Sequence[TierId] = (),
        groups: Sequence[str] = (),
        limits: Limits | dict[str, Any] | None = None,
    ) -> Directive:
        """Halt, restrict or restore a model; proposed until its hearing unless `urgent`."""
        body = NewDirective(
            action=action,
            model=model,
            grounds=grounds,
            urgent=urgent,
            organizations=list(organizations),
            jurisdictions=list(jurisdictions),
            channels=list(channels),
            tiers=list(tiers),
            groups=list(groups),
            limits=Limits.model_validate(limits) if limits is not None else Limits(),
        )
        return Directive.model_validate(
            self.json("POST", "/directives", json=body.model_dump(mode="json"))
        )

    @operation("GET", "/directives")
    def directives(
        self, *, model: str | None = None, state: str | None = None, page_size: int = 100
    ) -> Iterator[Directive]:
        """Every directive, optionally for one model or in one state."""
        return self.pages("/directives", Directive, {"model": model, "state": state}, page_size)

    @operation("GET", "/directives/{directive_id}")
    def directive(self, directive_id: str) -> Directive:
        """A directive."""
        return Directive.model_validate(self.json("GET", f"/directives/{directive_id}"))

    @operation("POST", "/directives/{directive_id}/renew")
    def renew_directive(self, directive_id: str, grounds: str) -> Directive:
        """Renew a directive before it expires, with grounds."""
        body = Renewal(grounds=grounds)
        return Directive.model_validate(
            self.json(
                "POST", f"/directives/{directive_id}/renew", json=body.model_dump(mode="json")
            )
        )

    @operation("POST", "/access-requests")
    def request_access(
        self,
        model: str,
        use_case: str,
        *,
        channels: Sequence[str] = ("api",),
        jurisdictions: Sequence[str] = (),
    ) -> AccessRequest:
        """Ask for access to a model for a use case (partners)."""
        body = NewAccessRequest(
            model=model,
            use_case=use_case,
            channels=list(channels),
            jurisdictions=list(jurisdictions),
        )
        return AccessRequest.model_validate(
            self.json("POST", "/access-requests", json=body.model_dump(mode="json"))
        )

    @operation("GET", "/access-requests")
    def access_requests(self, *, page_size: int = 100) -> Iterator[AccessRequest]:
        """Access requests: all for the authority, one's own otherwise."""
        return self.pages("/access-requests", AccessRequest, page_size=page_size)

    @operation("POST", "/access-requests/{request_id}/decision")
    def decide_access(
        self,
        request_id: str,
        granted: bool,
        reasons: str,
        *,
        limits: Limits | dict[str, Any] | None = None,
        expires_at: dt.datetime | None = None,
        urgent: bool = False,
    ) -> AccessDecision:
        """Grant (within limits) or refuse an access request, with reasons."""
        body = AccessDecisionBody(
            granted=granted,
            reasons=reasons,
            limits=Limits.model_validate(limits) if limits is not None else Limits(),
            expires_at=expires_at,
            urgent=urgent,
        )
        return AccessDecision.model_validate(
            self.json(
                "POST",
                f"/access-requests/{request_id}/decision",
                json=body.model_dump(mode="json"),
            )
        )

    @operation("GET", "/grants")
    def grants(self, *, page_size: int = 100) -> Iterator[Grant]:
        """Grants: all for the authority, one's own otherwise."""
        return self.pages("/grants", Grant, page_size=page_size)

    @operation("GET", "/models/{name}/grants")
    def grant_count(self, model: str) -> dict[str, Any]:
        """How many grants a model has, by state (public)."""
        found: dict[str, Any] = self.json("GET", f"/models/{model}/grants")
        return found

    @operation("POST", "/grants/{grant_id}/revoke")
    def revoke_grant(self, grant_id: str, grounds: str, *, urgent: bool = False) -> Revocation:
        """Revoke a grant: at the hearing's outcome, or at once when `urgent`."""
        body = RevocationBody(grounds=grounds, urgent=urgent)
        return Revocation.model_validate(
            self.json("POST", f"/grants/{grant_id}/revoke", json=body.model_dump(mode="json"))
        )

    @operation("POST", "/reports")
    def file_report(
        self, model: str, title: str, summary: str, conflict_of_interest: str = "None"
    ) -> Report:
        """File a risk report about a model (reporters, partners, developers)."""
        body = NewReport(
            model=model, title=title, summary=summary, conflict_of_interest=conflict_of_interest
        )
        return Report.model_validate(
            self.json("POST", "/reports", json=body.model_dump(mode="json"))
        )

    @operation("GET", "/reports")
    def reports(self, *, model: str | None = None, page_size: int = 100) -> Iterator[Report]:
        """Every risk report, optionally about one model."""
        return self.pages("/reports", Report, {"model": model}, page_size)

    @operation("GET", "/reports/{report_id}")
    def report(self, report_id: str) -> Report:
        """A risk report."""
        return Report.model_validate(self.json("GET", f"/reports/{report_id}"))

    @operation("POST", "/clock/run")
    def run_clock(self) -> list[dict[str, Any]]:
        """Apply every due clock transition now (administrators); what was applied."""
        applied: list[dict[str, Any]] = self.json("POST", "/clock/run")["applied"]
        return applied

    @operation("POST", "/organizations/{organization}/webhooks")
    def add_webhook(self, organization: str, url: str) -> dict[str, Any]:
        """Register a webhook for an organization; the answer carries its secret, shown once."""
        body = NewWebhook(url=url)
        found: dict[str, Any] = self.json(
            "POST", f"/organizations/{organization}/webhooks", json=body.model_dump(mode="json")
        )
        return found

    @operation("GET", "/organizations/{organization}/webhooks")
    def webhooks(self, organization: str) -> list[dict[str, Any]]:
        """An organization's webhook endpoints."""
        items: list[dict[str, Any]] = self.json("GET", f"/organizations/{organization}/webhooks")[
            "items"
        ]
        return items

    @operation("GET", "/organizations/{organization}/webhooks/messages")
    def webhook_messages(
        self, organization: str, *, state: str | None = None
    ) -> list[dict[str, Any]]:
        """Messages posted (or to post) to an organization's webhooks."""
        items: list[dict[str, Any]] = self.json(
            "GET",
            f"/organizations/{organization}/webhooks/messages",
            params={"state": state, "limit": 500},
        )["items"]
        return items

    @operation("POST", "/organizations/{organization}/webhooks/messages/{message_id}/redeliver")
    def redeliver(self, organization: str, message_id: str) -> dict[str, Any]:
        """Queue a message for delivery again."""
        found: dict[str, Any] = self.json(
            "POST", f"/organizations/{organization}/webhooks/messages/{message_id}/redeliver"
        )
        return found

    @operation("GET", "/usage")
    def usage(self) -> list[dict[str, Any]]:
        """Gateway usage totals: all for the authority, one's own otherwise (with a gateway)."""
        items: list[dict[str, Any]] = self.json("GET", "/usage")["items"]
        return items
