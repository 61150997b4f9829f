"""Reading what a hearing or an appeal acts on, for the API and the scheduler alike."""

from __future__ import annotations

from clearance.register import (
    AccessRequest,
    Appeal,
    AppealedAct,
    Application,
    Decision,
    Directive,
    Grant,
    HeardAct,
    Hearing,
    ModelConfig,
    ModelStatus,
    Organization,
)
from clearance.store._store import Transaction


def heard_act(tx: Transaction, hearing: Hearing) -> HeardAct:
    """The records the outcome of `hearing` acts on."""
    model = tx.get(ModelConfig, hearing.model_id)
    if hearing.act == "directive":
        return HeardAct(
            model=model,
            directive=tx.get(Directive, hearing.act_id),
            active=tuple(tx.find(Directive, model_id=model.id, state="active")),
        )
    status = tx.get(ModelStatus, model.id)
    if hearing.act == "access_refusal":
        request = tx.get(AccessRequest, hearing.act_id)
        organization = tx.get(Organization, request.organization_id)
        return HeardAct(model=model, request=request, status=status, organization=organization)
    grant = tx.get(Grant, hearing.act_id)
    organization = tx.get(Organization, grant.organization_id)
    return HeardAct(model=model, grant=grant, status=status, organization=organization)


def appealed_act(tx: Transaction, appeal: Appeal) -> AppealedAct:
    """The records the ruling on `appeal` acts on."""
    if appeal.act == "decision":
        decision = tx.get(Decision, appeal.act_id or str(appeal.decision_id))
        return AppealedAct(
            decision=decision, application=tx.get(Application, decision.application_id)
        )
    act_id = str(appeal.act_id)
    if appeal.act == "directive":
        return AppealedAct(directive=tx.get(Directive, act_id))
    if appeal.act == "access_refusal":
        return AppealedAct(request=tx.get(AccessRequest, act_id))
    return AppealedAct(grant=tx.get(Grant, act_id))


def appeal_framework(tx: Transaction, appeal: Appeal) -> str:
    """The digest of the framework whose procedure governs the appeal."""
    if appeal.framework_digest is not None:
        return appeal.framework_digest
    decision = tx.get(Decision, appeal.act_id or str(appeal.decision_id))
    return tx.get(Application, decision.application_id).framework_digest


def interested(tx: Transaction, appeal: Appeal) -> tuple[str, ...]:
    """The organizations an appeal concerns: the appellant and the model's developer."""
    model = tx.get(ModelConfig, appeal.model_id)
    return tuple(sorted({appeal.organization_id, model.organization_id}))
