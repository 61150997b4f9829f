"""Client operations on cases: applications, information requests, decisions, appeals, hearings."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal

from clearance.api._bodies import (
    Answer,
    Assignment,
    AuthorityEvidence,
    HearingOutcome,
    NewAppeal,
    NewApplication,
    NewDecision,
    NewEvaluation,
    NewSubmission,
    NewVote,
    Panel,
    Question,
    TestingAccess,
)
from clearance.client._http import Session, operation
from clearance.client._models import (
    Appeal,
    Application,
    Decision,
    Hearing,
    InformationRequest,
)
from clearance.framework import TierId
from clearance.register import HearingReason, Limits, Reason, Scope


class Cases(Session):
    """Applications through to decisions, appeals and hearings."""

    @operation("POST", "/applications")
    def file_application(
        self,
        model: str,
        requested_tier: TierId,
        requested_jurisdictions: list[str],
        *,
        evidence: Sequence[str] = (),
        safeguards: str | None = None,
        self_assessment: dict[str, Any] | None = None,
    ) -> Application:
        """File a release application citing uploaded evidence by digest (hex or `sha256:`)."""
        body = NewApplication(
            model=model,
            requested_tier=requested_tier,
            requested_jurisdictions=requested_jurisdictions,
            evidence=list(evidence),
            safeguards=safeguards,
            self_assessment=self_assessment,
        )
        return Application.model_validate(
            self.json("POST", "/applications", json=body.model_dump(mode="json"))
        )

    @operation("POST", "/applications/{application_id}/testing-access")
    def provide_testing_access(self, application_id: str, pre_release_upstream: str) -> Application:
        """Name the pre-release upstream of the authority's testing access (the applicant)."""
        body = TestingAccess(pre_release_upstream=pre_release_upstream)
        return Application.model_validate(
            self.json(
                "POST",
                f"/applications/{application_id}/testing-access",
                json=body.model_dump(mode="json"),
            )
        )

    @operation("POST", "/applications/{application_id}/authority-evidence")
    def file_authority_evidence(self, application_id: str, evidence: Sequence[str]) -> Application:
        """File uploaded logs as the authority's own evidence (a reviewer)."""
        body = AuthorityEvidence(evidence=list(evidence))
        return Application.model_validate(
            self.json(
                "POST",
                f"/applications/{application_id}/authority-evidence",
                json=body.model_dump(mode="json"),
            )
        )

    @operation("POST", "/applications/{application_id}/evaluations")
    def run_evaluation(
        self,
        application_id: str,
        task: str,
        *,
        epochs: int | None = None,
        limit: int | None = None,
        max_tokens: int | None = None,
    ) -> Application:
        """Run one of the framework's tasks on the server through its gateway (a reviewer)."""
        body = NewEvaluation(task=task, epochs=epochs, limit=limit, max_tokens=max_tokens)
        return Application.model_validate(
            self.json(
                "POST",
                f"/applications/{application_id}/evaluations",
                json=body.model_dump(mode="json"),
            )
        )

    @operation("GET", "/applications")
    def applications(
        self, *, model: str | None = None, state: str | None = None, page_size: int = 100
    ) -> Iterator[Application]:
        """Every application, optionally for one model or in one state."""
        return self.pages("/applications", Application, {"model": model, "state": state}, page_size)

    @operation("GET", "/applications/{application_id}")
    def application(self, application_id: str) -> Application:
        """An application with its information requests."""
        return Application.model_validate(self.json("GET", f"/applications/{application_id}"))

    @operation("POST", "/applications/{application_id}/assign")
    def assign(self, application_id: str, reviewer_id: str | None = None) -> Application:
        """Assign a reviewer (administrators), or take the case yourself (reviewers)."""
        body = Assignment(reviewer_id=reviewer_id)
        return Application.model_validate(
            self.json(
                "POST",
                f"/applications/{application_id}/assign",
                json=body.model_dump(mode="json"),
            )
        )

    @operation("POST", "/applications/{application_id}/information-requests")
    def request_information(self, application_id: str, question: str) -> InformationRequest:
        """Ask the applicant for information (the assigned reviewer)."""
        body = Question(question=question)
        return InformationRequest.model_validate(
            self.json(
                "POST",
                f"/applications/{application_id}/information-requests",
                json=body.model_dump(mode="json"),
            )
        )

    @operation("POST", "/information-requests/{request_id}/answer")
    def answer_information(self, request_id: str, response: str) -> InformationRequest:
        """Answer an information request (the applicant)."""
        body = Answer(response=response)
        return InformationRequest.model_validate(
            self.json(
                "POST",
                f"/information-requests/{request_id}/answer",
                json=body.model_dump(mode="json"),
            )
        )

    @operation("POST", "/applications/{application_id}/withdraw")
    def withdraw(self, application_id: str) -> Application:
        """Withdraw an undecided application (the applicant)."""
        return Application.model_validate(
            self.json("POST", f"/applications/{application_id}/withdraw")
        )

    @operation("POST", "/applications/{application_id}/decision")
    def decide(
        self,
        application_id: str,
        outcome: Literal["approved", "approved_with_conditions", "denied"],
        reasons: Sequence[Reason | dict[str, Any]],
        *,
        tier: TierId = "halted",
        jurisdictions: Sequence[str] = (),
        tiers: dict[str, TierId] | None = None,
        sector_tiers: dict[str, dict[str, TierId]] | None = None,
        conditions: Sequence[str] = (),
        justification: str | None = None,
    ) -> Decision:
        """Decide an application with reasons citing framework rules and evidence digests."""
        body = NewDecision(
            outcome=outcome,
            tier=tier,
            jurisdictions=list(jurisdictions),
            tiers=tiers,
            sector_tiers=sector_tiers or {},
            conditions=list(conditions),
            reasons=[Reason.model_validate(r) for r in reasons],
            justification=justification,
        )
        return Decision.model_validate(
            self.json(
                "POST",
                f"/applications/{application_id}/decision",
                json=body.model_dump(mode="json"),
            )
        )

    @operation("GET", "/decisions")
    def decisions(self, *, model: str | None = None, page_size: int = 100) -> Iterator[Decision]:
        """Every decision, optionally for one model."""
        return self.pages("/decisions", Decision, {"model": model}, page_size)

    @operation("GET", "/decisions/{decision_id}")
    def decision(self, decision_id: str) -> Decision:
        """A decision with its reasons, conditions and appeals."""
        return Decision.model_validate(self.json("GET", f"/decisions/{decision_id}"))

    def _appeal(self, path: str, grounds: str) -> Appeal:
        body = NewAppeal(grounds=grounds)
        return Appeal.model_validate(self.json("POST", path, json=body.model_dump(mode="json")))

    @operation("POST", "/decisions/{decision_id}/appeals")
    def appeal_decision(self, decision_id: str, grounds: str) -> Appeal:
        """Appeal a decision within its window (the applicant)."""
        return self._appeal(f"/decisions/{decision_id}/appeals", grounds)

    @operation("POST", "/directives/{directive_id}/appeals")
    def appeal_directive(self, directive_id: str, grounds: str) -> Appeal:
        """Appeal a directive in force (the model's developer)."""
        return self._appeal(f"/directives/{directive_id}/appeals", grounds)

    @operation("POST", "/access-requests/{request_id}/appeals")
    def appeal_refusal(self, request_id: str, grounds: str) -> Appeal:
        """Appeal an access refusal (the partner)."""
        return self._appeal(f"/access-requests/{request_id}/appeals", grounds)

    @operation("POST", "/grants/{grant_id}/appeals")
    def appeal_revocation(self, grant_id: str, grounds: str) -> Appeal:
        """Appeal a grant's revocation (the partner)."""
        return self._appeal(f"/grants/{grant_id}/appeals", grounds)

    @operation("GET", "/appeals/{appeal_id}")
    def appeal(self, appeal_id: str) -> Appeal:
        """An appeal and its ruling."""
        return Appeal.model_validate(self.json("GET", f"/appeals/{appeal_id}"))

    @operation("POST", "/appeals/{appeal_id}/panel")
    def appoint_panel(self, appeal_id: str, members: Sequence[str]) -> Appeal:
        """Appoint the appeal panel (administrators)."""
        body = Panel(members=list(members))
        return Appeal.model_validate(
            self.json("POST", f"/appeals/{appeal_id}/panel", json=body.model_dump(mode="json"))
        )

    @operation("POST", "/appeals/{appeal_id}/votes")
    def vote(self, appeal_id: str, vote: Literal["upheld", "overturned"], text: str) -> Appeal:
        """A panel member's vote, with reasons."""
        body = NewVote(vote=vote, text=text)
        return Appeal.model_validate(
            self.json("POST", f"/appeals/{appeal_id}/votes", json=body.model_dump(mode="json"))
        )

    @operation("GET", "/hearings")
    def hearings(
        self, *, model: str | None = None, state: str | None = None, act_id: str | None = None
    ) -> list[Hearing]:
        """Hearings the caller may see, optionally for a model, in a state, or of one act."""
        page = self.json(
            "GET", "/hearings", params={"model": model, "state": state, "act_id": act_id}
        )
        return [Hearing.model_validate(h) for h in page["items"]]

    @operation("GET", "/hearings/{hearing_id}")
    def hearing(self, hearing_id: str) -> Hearing:
        """A hearing with its submissions."""
        return Hearing.model_validate(self.json("GET", f"/hearings/{hearing_id}"))

    @operation("POST", "/hearings/{hearing_id}/submissions")
    def submit(self, hearing_id: str, text: str, *, evidence: Sequence[str] = ()) -> Hearing:
        """Make a submission to a hearing, citing evidence digests."""
        body = NewSubmission(text=text, evidence=list(evidence))
        return Hearing.model_validate(
            self.json(
                "POST", f"/hearings/{hearing_id}/submissions", json=body.model_dump(mode="json")
            )
        )

    @operation("POST", "/hearings/{hearing_id}/outcome")
    def close_hearing(
        self,
        hearing_id: str,
        outcome: Literal["confirm", "modify", "revoke"],
        reasons: Sequence[HearingReason | dict[str, Any]],
        *,
        scope: Scope | dict[str, Any] | None = None,
        limits: Limits | dict[str, Any] | None = None,
    ) -> Hearing:
        """Close a hearing: confirm, modify or revoke the act, answering every submission."""
        body = HearingOutcome(
            outcome=outcome,
            reasons=[HearingReason.model_validate(r) for r in reasons],
            scope=Scope.model_validate(scope) if scope is not None else None,
            limits=Limits.model_validate(limits) if limits is not None else None,
        )
        return Hearing.model_validate(
            self.json(
                "POST",
                f"/hearings/{hearing_id}/outcome",
                json=body.model_dump(mode="json", exclude_none=True),
            )
        )
