"""Routes for cases: applications, information requests, decisions and appeals."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from clearance.api._auth import Caller, Ctx
from clearance.api._bodies import (
    Answer,
    Assignment,
    NewAppeal,
    NewApplication,
    NewCondition,
    NewDecision,
    NewVote,
    Panel,
    Question,
)
from clearance.api._common import (
    Page,
    acted,
    find_model,
    model_id_or_none,
    new_id,
    page_params,
    paginate,
)
from clearance.errors import InvalidInput
from clearance.framework import (
    EvalRun,
    FindingsReport,
    SafeguardDeclaration,
    assess,
    assessment_to_dict,
    evidence_from_dict,
)
from clearance.register import (
    Appeal,
    Application,
    Condition,
    Decision,
    EvidenceRef,
    Grant,
    InformationRequest,
    Obligation,
    Principal,
    answer_information,
    appoint_panel,
    assign_reviewer,
    decide,
    end_obligations,
    file_appeal,
    file_application,
    request_information,
    vote_on_appeal,
    withdraw,
)
from clearance.register._duties import require_role
from clearance.store import (
    Transaction,
    appeal_framework,
    appealed_act,
    find_evidence,
    interested,
    link_application,
    may_read,
)

router = APIRouter()
OPEN = ("open", "under_review")
"""The states of an obligation still in force."""
Paging = Annotated[tuple[int, str | None], Depends(page_params)]


def _readable(tx: Transaction, caller: Principal, digests: list[str]) -> dict[str, Any]:
    """Parsed evidence by digest, of the files the caller may read (no one cites bytes they
    could not read: confidential evidence of another organization is not there for them)."""
    found = {}
    for digest in digests:
        stored = find_evidence(tx, digest)
        if stored is not None and may_read(tx, caller, stored):
            found[digest] = stored.parsed
    return found


def _evidence(
    tx: Transaction, caller: Principal, digests: list[str]
) -> list[EvalRun | FindingsReport]:
    rows = _readable(tx, caller, digests)
    missing = [d for d in digests if d not in rows]
    if missing:
        raise InvalidInput(f"evidence: not uploaded: {', '.join(d[:16] + '...' for d in missing)}")
    items = []
    for digest in digests:
        item = evidence_from_dict(rows[digest])
        if isinstance(item, SafeguardDeclaration):
            raise InvalidInput("evidence: a safeguards declaration goes in `safeguards`")
        items.append(item)
    return items


def _safeguards(
    tx: Transaction, caller: Principal, digest: str | None
) -> SafeguardDeclaration | None:
    if digest is None:
        return None
    parsed = _readable(tx, caller, [digest]).get(digest)
    if parsed is None:
        raise InvalidInput(f"safeguards: no uploaded declaration {digest[:16]}...")
    declaration = evidence_from_dict(parsed)
    if not isinstance(declaration, SafeguardDeclaration):
        raise InvalidInput("safeguards: that upload is not a safeguards declaration")
    return declaration


@router.post("/applications", status_code=201, tags=["applications"])
def add_application(body: NewApplication, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """File a release application; the register runs the framework's assessor on its evidence."""
    now = ctx.clock()
    with ctx.store.transaction() as tx:
        model = find_model(tx, body.model)
        digest, framework = ctx.framework(tx)
        evidence = _evidence(tx, caller, sorted(set(body.evidence)))
        declaration = _safeguards(tx, caller, body.safeguards)
        assessment = assessment_to_dict(assess(framework, evidence, declaration))
        testing = framework.procedure.testing_access_days is not None
        authority = tx.authority() if testing else None
        change = file_application(
            new_id=new_id("app"),
            model=model,
            principal=caller,
            framework=framework,
            framework_digest=digest,
            requested_tier=body.requested_tier,
            requested_jurisdictions=tuple(body.requested_jurisdictions),
            evidence=tuple(
                EvidenceRef(sha256=e.digest, name=e.name, kind=e.kind) for e in evidence
            ),
            safeguards=tuple(c.id for c in declaration.safeguards) if declaration else (),
            safeguards_declaration=declaration.digest if declaration else None,
            assessment=assessment,
            self_assessment=body.self_assessment,
            now=now,
            authority=authority,
            testing_grant_id=new_id("tst") if testing else None,
            pre_release_upstream=body.pre_release_upstream,
        )
        tx.apply(change)
        application = change.records[0]
        assert isinstance(application, Application)
        filed = [e.digest for e in evidence] + ([declaration.digest] if declaration else [])
        link_application(tx, application.id, filed)
    return acted(tx, application)


@router.get("/applications", tags=["applications"])
def list_applications(
    ctx: Ctx,
    paging: Paging,
    model: str | None = Query(None, description="Model name or id."),
    state: str | None = Query(None),
) -> Page:
    """Applications, optionally for one model or in one state."""
    with ctx.store.read() as tx:
        model_id = model_id_or_none(tx, model)
        return paginate(tx, Application, *paging, model_id=model_id, state=state)


@router.get("/applications/{application_id}", tags=["applications"])
def get_application(application_id: str, ctx: Ctx) -> dict[str, Any]:
    """An application with its information requests."""
    with ctx.store.read() as tx:
        application = tx.get(Application, application_id)
        requests = tx.find(InformationRequest, application_id=application_id)
    return application.model_dump(mode="json") | {
        "information_requests": [r.model_dump(mode="json") for r in requests]
    }


@router.post("/applications/{application_id}/assign", tags=["applications"])
def assign(application_id: str, body: Assignment, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """Assign a reviewer (administrators), or take the case (reviewers)."""
    with ctx.store.transaction() as tx:
        application = tx.get(Application, application_id)
        reviewer = tx.get(Principal, body.reviewer_id) if body.reviewer_id else caller
        change = assign_reviewer(application, reviewer, caller, ctx.clock())
        tx.apply(change)
    return acted(tx, change.records[0])


@router.post(
    "/applications/{application_id}/information-requests", status_code=201, tags=["applications"]
)
def ask(application_id: str, body: Question, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """The assigned reviewer asks the applicant for information; the clock may stop."""
    with ctx.store.transaction() as tx:
        _, framework = ctx.framework(tx, tx.get(Application, application_id).framework_digest)
        change = request_information(
            new_id=new_id("inf"),
            application=tx.get(Application, application_id),
            reviewer=caller,
            question=body.question,
            framework=framework,
            now=ctx.clock(),
        )
        tx.apply(change)
    return acted(tx, change.records[1])


@router.post("/information-requests/{request_id}/answer", tags=["applications"])
def answer(request_id: str, body: Answer, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """The applicant answers; the clock restarts with the deadline moved."""
    with ctx.store.transaction() as tx:
        request = tx.get(InformationRequest, request_id)
        change = answer_information(
            application=tx.get(Application, request.application_id),
            request=request,
            principal=caller,
            response=body.response,
            now=ctx.clock(),
        )
        tx.apply(change)
    return acted(tx, change.records[1])


@router.post("/applications/{application_id}/withdraw", tags=["applications"])
def withdraw_application(application_id: str, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """The applicant withdraws an undecided application; the authority's testing grant issued
    with it ends."""
    with ctx.store.transaction() as tx:
        application = tx.get(Application, application_id)
        testing = (
            tx.get(Grant, application.testing_grant_id) if application.testing_grant_id else None
        )
        change = withdraw(application, caller, ctx.clock(), testing)
        tx.apply(change)
    return acted(tx, change.records[0])


@router.post("/applications/{application_id}/decision", status_code=201, tags=["decisions"])
def add_decision(
    application_id: str, body: NewDecision, caller: Caller, ctx: Ctx
) -> dict[str, Any]:
    """The assigned reviewer decides, with reasons citing framework rules and evidence."""
    with ctx.store.transaction() as tx:
        application = tx.get(Application, application_id)
        _, framework = ctx.framework(tx, application.framework_digest)
        change = decide(
            new_id=new_id("dec"),
            application=application,
            reviewer=caller,
            framework=framework,
            outcome=body.outcome,
            tier=body.tier,
            jurisdictions=tuple(body.jurisdictions),
            conditions=tuple(_condition(c) for c in body.conditions),
            reasons=tuple(body.reasons),
            justification=body.justification,
            now=ctx.clock(),
            tiers=body.tiers,
            sector_tiers=body.sector_tiers,
        )
        decision = change.records[1]
        assert isinstance(decision, Decision)
        replaced = tx.find(Obligation, model_id=application.model_id, state=OPEN)
        change += end_obligations(replaced, decision.id, caller.id, ctx.clock())
        tx.apply(change)
    obligations = [
        r.model_dump(mode="json")
        for r in change.records
        if isinstance(r, Obligation) and r.decision_id == decision.id
    ]
    return acted(tx, decision) | {"obligations": obligations}


def _condition(body: str | NewCondition) -> str | Condition:
    if isinstance(body, str):
        return body
    # only the fields given: a left-out term is taken from the framework rule
    return Condition.model_validate(body.model_dump(exclude_unset=True))


@router.get("/decisions", tags=["decisions"])
def list_decisions(
    ctx: Ctx, paging: Paging, model: str | None = Query(None, description="Model name or id.")
) -> Page:
    """Decisions, optionally for one model."""
    with ctx.store.read() as tx:
        model_id = model_id_or_none(tx, model)
        return paginate(tx, Decision, *paging, model_id=model_id)


@router.get("/decisions/{decision_id}", tags=["decisions"])
def get_decision(decision_id: str, ctx: Ctx) -> dict[str, Any]:
    """A decision with its reasons, conditions and appeals."""
    with ctx.store.read() as tx:
        decision = tx.get(Decision, decision_id)
        appeals = tx.find(Appeal, decision_id=decision_id)
        obligations = tx.find(Obligation, decision_id=decision_id)
    return decision.model_dump(mode="json") | {
        "appeals": [a.model_dump(mode="json") for a in appeals],
        "obligations": [o.model_dump(mode="json") for o in obligations],
    }


@router.post("/decisions/{decision_id}/appeals", status_code=201, tags=["appeals"])
def add_appeal(decision_id: str, body: NewAppeal, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """The applicant appeals a decision within the appeal window."""
    with ctx.store.transaction() as tx:
        decision = tx.get(Decision, decision_id)
        application = tx.get(Application, decision.application_id)
        _, framework = ctx.framework(tx, application.framework_digest)
        change = file_appeal(
            new_id=new_id("apl"),
            decision=decision,
            application=application,
            principal=caller,
            grounds=body.grounds,
            framework=framework,
            pending=any(a.state == "filed" for a in tx.find(Appeal, decision_id=decision_id)),
            now=ctx.clock(),
            framework_digest=application.framework_digest,
        )
        tx.apply(change)
    return acted(tx, change.records[0])


@router.get("/appeals/{appeal_id}", tags=["appeals"])
def get_appeal(appeal_id: str, ctx: Ctx) -> dict[str, Any]:
    """An appeal and its ruling."""
    with ctx.store.read() as tx:
        return tx.get(Appeal, appeal_id).model_dump(mode="json")


@router.post("/appeals/{appeal_id}/panel", tags=["appeals"])
def set_panel(appeal_id: str, body: Panel, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """An administrator appoints the panel: the framework's size, none who took part in the act."""
    with ctx.store.transaction() as tx:
        appeal = tx.get(Appeal, appeal_id)
        members = tuple(tx.get(Principal, member) for member in body.members)
        _, framework = ctx.framework(tx, appeal_framework(tx, appeal))
        change = appoint_panel(
            appeal=appeal,
            admin=caller,
            members=members,
            interested=interested(tx, appeal),
            framework=framework,
            now=ctx.clock(),
        )
        tx.apply(change)
    return acted(tx, change.records[0])


@router.post("/appeals/{appeal_id}/votes", tags=["appeals"])
def add_vote(appeal_id: str, body: NewVote, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """A panel member votes once; when all have voted, the majority rules (every vote recorded)."""
    require_role(caller, "appeal_panel")
    with ctx.store.transaction() as tx:
        appeal = tx.get(Appeal, appeal_id)
        _, framework = ctx.framework(tx, appeal_framework(tx, appeal))
        change = vote_on_appeal(
            appeal=appeal,
            member=caller,
            vote=body.vote,
            text=body.text,
            act=appealed_act(tx, appeal),
            framework=framework,
            now=ctx.clock(),
        )
        tx.apply(change)
    return acted(tx, change.records[0])
