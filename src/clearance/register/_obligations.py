"""Obligations: a decision's conditions as typed records, fulfilled on evidence or breached.

Each condition of a decision becomes an obligation: its text, the framework finding rule that
requires it (if any), a due date or none (continuing), what evidence fulfils it, and the
consequence of breach. A condition a rule requires takes the rule's terms; dropping it, rewording
it, giving it more time, making it continuing or softening its consequence is a departure that
needs a written justification, recorded condition by condition.

The developer files fulfilment evidence; a reviewer accepts it (the obligation is met) or rejects
it with reasons (it is open again). An obligation still open at its due date is breached once,
by the scheduler: the breach is logged, and its consequence is an urgent directive (a halt, or a
restriction that caps the tier) with its hearing, appealable like any directive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from clearance.errors import Conflict, InvalidInput
from clearance.framework import Framework, OnBreach, RequiredCondition, most_closed, tier_rank
from clearance.register._clock import Due
from clearance.register._duties import require_independent, require_member, require_role
from clearance.register._events import SCHEDULER, Change, Event
from clearance.register._hearings import open_hearing
from clearance.register._records import (
    ConditionDeparture,
    Consequence,
    Decision,
    Directive,
    Fulfilment,
    Obligation,
    Principal,
    Record,
    Scope,
)
from clearance.register._values import Text


class Condition(Record):
    """A condition as a reviewer states it; a field left out takes the framework rule's term.

    `due_days` null (given) makes it continuing; `on_breach` null (given) removes the consequence.
    """

    text: Text
    rule: str | None = None
    """The finding rule that requires it, when the text is reworded (else matched by text)."""
    due_days: int | None = Field(default=None, ge=1)
    evidence: str = ""
    on_breach: Consequence | None = None


@dataclass(frozen=True)
class Settled:
    """A condition with its final terms, ready to become an obligation."""

    text: str
    rule: str | None
    due_days: int | None
    evidence: str
    on_breach: Consequence | None


def required_conditions(
    assessment: Mapping[str, Any], framework: Framework
) -> dict[str, tuple[str, RequiredCondition]]:
    """Condition text -> (rule id, terms) for every condition the assessment's findings require."""
    rules = {rule.id: rule for rule in framework.finding_rules}
    required: dict[str, tuple[str, RequiredCondition]] = {}
    for effect in sorted(assessment.get("findings", ()), key=lambda e: str(e.get("rule"))):
        rule = rules.get(str(effect.get("rule")))
        if rule is None:
            continue
        for condition in rule.required():
            required.setdefault(condition.text, (rule.id, condition))
    return required


def settle_conditions(
    given: Sequence[str | Condition], assessment: Mapping[str, Any], framework: Framework
) -> tuple[tuple[Settled, ...], tuple[ConditionDeparture, ...]]:
    """The decision's conditions with their terms, and the departures from required ones."""
    required = required_conditions(assessment, framework)
    unmatched = dict(required)
    settled: list[Settled] = []
    departures: list[ConditionDeparture] = []
    for index, item in enumerate(given):
        condition = Condition(text=item) if isinstance(item, str) else item
        match = _match(condition, unmatched, required, index)
        if match is None:
            settled.append(
                Settled(
                    condition.text,
                    None,
                    condition.due_days,
                    condition.evidence,
                    condition.on_breach,
                )
            )
            continue
        text, (rule, terms) = match
        del unmatched[text]
        chosen = _with_terms(condition, rule, terms)
        settled.append(chosen)
        departures.extend(_weakening(chosen, text, rule, terms))
    for text, (rule, _) in unmatched.items():
        departures.append(
            ConditionDeparture(
                rule=rule, text=text, change="dropped", detail="not among the decision's conditions"
            )
        )
    return tuple(settled), tuple(departures)


def impose(
    *,
    decision: Decision,
    organization_id: str,
    settled: Sequence[Settled],
    now: dt.datetime,
) -> tuple[Obligation, ...]:
    """One obligation per condition of a decision, due `due_days` after it (or continuing)."""
    base = decision.id.removeprefix("dec_")
    return tuple(
        Obligation(
            id=f"obl_{base}_{index}",
            decision_id=decision.id,
            model_id=decision.model_id,
            organization_id=organization_id,
            text=condition.text,
            rule=condition.rule,
            due_at=None
            if condition.due_days is None
            else now + dt.timedelta(days=condition.due_days),
            evidence=condition.evidence,
            on_breach=condition.on_breach,
            created_at=now,
        )
        for index, condition in enumerate(settled, start=1)
    )


def file_fulfilment(
    *,
    obligation: Obligation,
    principal: Principal,
    new_id: str,
    text: str,
    evidence: tuple[str, ...],
    now: dt.datetime,
) -> Change:
    """The developer files evidence that an obligation is met; a reviewer then answers."""
    require_role(principal, "developer")
    require_member(principal, obligation.organization_id, f"obligation {obligation.id}")
    if obligation.state != "open":
        raise Conflict(
            f"obligation {obligation.id} is {obligation.state}; fulfilment evidence is filed only "
            "while it is open"
        )
    if obligation.due_at is not None and now >= obligation.due_at:
        raise Conflict(
            f"obligation {obligation.id} was due on {obligation.due_at.isoformat()}; it is "
            "overdue and counts as breached"
        )
    fulfilment = Fulfilment(
        id=new_id, text=text, evidence=evidence, filed_by=principal.id, filed_at=now
    )
    updated = obligation.model_copy(
        update={"state": "under_review", "fulfilments": (*obligation.fulfilments, fulfilment)}
    )
    event = _event(
        "obligation.fulfilment_filed", updated, principal.id, now,
        {"fulfilment": new_id, "evidence": list(evidence)},
    )  # fmt: skip
    return Change((updated,), (event,))


def review_fulfilment(
    *,
    obligation: Obligation,
    fulfilment_id: str,
    reviewer: Principal,
    accepted: bool,
    reasons: str,
    now: dt.datetime,
) -> Change:
    """A reviewer accepts the evidence (met) or rejects it with reasons (open again)."""
    require_role(reviewer, "reviewer")
    require_independent(reviewer, obligation.organization_id, f"obligation {obligation.id}")
    index = next((i for i, f in enumerate(obligation.fulfilments) if f.id == fulfilment_id), None)
    if index is None:
        raise InvalidInput(
            f"fulfilment: obligation {obligation.id} has no fulfilment {fulfilment_id!r}"
        )
    fulfilment = obligation.fulfilments[index]
    if obligation.state != "under_review" or fulfilment.state != "filed":
        raise Conflict(f"fulfilment {fulfilment_id} was already answered")
    answered = fulfilment.model_copy(
        update={
            "state": "accepted" if accepted else "rejected",
            "reasons": reasons,
            "reviewed_by": reviewer.id,
            "reviewed_at": now,
        }
    )
    fulfilments = (*obligation.fulfilments[:index], answered, *obligation.fulfilments[index + 1 :])
    met = accepted and obligation.due_at is not None
    updated = obligation.model_copy(
        update={
            "fulfilments": fulfilments,
            "state": "met" if met else "open",
            "met_at": now if met else None,
        }
    )
    kind = "obligation.fulfilment_accepted" if accepted else "obligation.fulfilment_rejected"
    event = _event(kind, updated, reviewer.id, now, {"fulfilment": fulfilment_id, "met": met})
    return Change((updated,), (event,))


def obligation_due(obligation: Obligation, now: dt.datetime) -> Due | None:
    """An obligation still open at its due date is breached (a pending fulfilment holds it)."""
    if obligation.state == "open" and obligation.due_at is not None and obligation.due_at <= now:
        return Due(obligation.due_at, "obligation_breached", obligation.id)
    return None


def breach_obligation(
    *,
    obligation: Obligation,
    standing: bool,
    active: Sequence[Directive],
    framework: Framework,
    directive_id: str,
    hearing_id: str,
    now: dt.datetime,
) -> Change:
    """The due date passed unmet: the breach is recorded and its consequence applied, once.

    `standing` is False when the obligation's decision no longer stands (set aside, lapsed or
    replaced): the obligation then ends without consequence. `active` are the model's directives
    in force: the consequence never opens what they close (a halt stays a halt; a restriction
    keeps its scope, its tier capped).
    """
    due = obligation_due(obligation, now)
    if due is None:
        raise Conflict(f"obligation {obligation.id} is not overdue")
    if not standing:
        ended = obligation.model_copy(update={"state": "ended"})
        return Change(
            (ended,),
            (
                _event(
                    "obligation.ended", ended, SCHEDULER, now, {"reason": "decision not standing"}
                ),
            ),
        )
    consequence = obligation.on_breach
    breached = obligation.model_copy(
        update={
            "state": "breached",
            "breached_at": now,
            "consequence_id": directive_id if consequence else None,
        }
    )
    data: dict[str, Any] = {
        "due_at": due.at.isoformat(),
        "rule": obligation.rule,
        "consequence": consequence.model_dump(mode="json") if consequence else None,
        "directive": directive_id if consequence else None,
    }
    change = Change((breached,), (_event("obligation.breached", breached, SCHEDULER, now, data),))
    if consequence is None:
        return change
    return change + _consequence(
        obligation, consequence, active, framework, directive_id, hearing_id, now
    )


def end_obligations(
    obligations: Sequence[Obligation], decision_id: str, actor: str, now: dt.datetime
) -> Change:
    """A new decision on the model replaces the one these belong to: the open ones end."""
    records: list[Record] = []
    events: list[Event] = []
    for obligation in obligations:
        if (
            obligation.state not in ("open", "under_review")
            or obligation.decision_id == decision_id
        ):
            continue
        ended = obligation.model_copy(update={"state": "ended"})
        records.append(ended)
        events.append(
            _event("obligation.ended", ended, actor, now, {"reason": f"replaced by {decision_id}"})
        )
    return Change(tuple(records), tuple(events))


def _consequence(
    obligation: Obligation,
    consequence: Consequence,
    active: Sequence[Directive],
    framework: Framework,
    directive_id: str,
    hearing_id: str,
    now: dt.datetime,
) -> Change:
    latest = max(active, key=lambda d: d.issued_at, default=None)
    scope = Scope()
    if consequence.action == "halt" or (latest is not None and latest.action == "halt"):
        action = "halt"
    else:
        action = "restrict"
        base = latest.scope if latest is not None else Scope()
        cap = consequence.tier or "approved_partners"
        scope = base.model_copy(update={"tiers": (most_closed(cap, *base.tiers),)})
    due = obligation.due_at.date().isoformat() if obligation.due_at else ""
    what = "halted" if action == "halt" else f"capped at {scope.tiers[0]}"
    grounds = (
        f"Obligation {obligation.id} of decision {obligation.decision_id} was not met by {due}: "
        f"{obligation.text} Under the framework the model is {what} until the authority "
        "decides otherwise."
    )
    directive = Directive(
        id=directive_id,
        model_id=obligation.model_id,
        action=action,
        grounds=grounds[:20_000],
        scope=scope,
        issued_by=SCHEDULER,
        issued_at=now,
        hearing_date=now + dt.timedelta(days=framework.procedure.hearing_within_days),
        sunset_at=now + dt.timedelta(days=framework.procedure.directive.sunset_days),
        urgent=True,
        hearing_id=hearing_id,
    )
    event = Event(
        kind="directive.issued",
        subject=directive_id,
        model_id=obligation.model_id,
        actor=SCHEDULER,
        at=now,
        data={
            "action": action,
            "organizations": len(scope.organizations),
            "sunset_at": directive.sunset_at.isoformat(),
            "obligation": obligation.id,
        },
    )
    hearing = open_hearing(
        new_id=hearing_id, act="directive", act_id=directive_id, model_id=obligation.model_id,
        organization_ids=(obligation.organization_id,), grounds=directive.grounds, urgent=True,
        opener=SCHEDULER, framework=framework, now=now,
    )  # fmt: skip
    return Change((directive,), (event,)) + hearing


def _match(
    condition: Condition,
    unmatched: Mapping[str, tuple[str, RequiredCondition]],
    required: Mapping[str, tuple[str, RequiredCondition]],
    index: int,
) -> tuple[str, tuple[str, RequiredCondition]] | None:
    if condition.text in unmatched:
        return condition.text, unmatched[condition.text]
    if condition.rule is None:
        return None
    for text, (rule, terms) in unmatched.items():
        if rule == condition.rule:
            return text, (rule, terms)
    if any(rule == condition.rule for rule, _ in required.values()):
        raise InvalidInput(
            f"conditions[{index}].rule: every condition rule {condition.rule!r} requires is "
            "already stated"
        )
    raise InvalidInput(
        f"conditions[{index}].rule: {condition.rule!r} requires no condition in this "
        "application's assessment"
    )


def _with_terms(condition: Condition, rule: str, terms: RequiredCondition) -> Settled:
    given = condition.model_fields_set
    return Settled(
        text=condition.text,
        rule=rule,
        due_days=condition.due_days if "due_days" in given else terms.due_days,
        evidence=condition.evidence if "evidence" in given else terms.evidence,
        on_breach=condition.on_breach if "on_breach" in given else _consequence_of(terms.on_breach),
    )


def _consequence_of(on_breach: OnBreach | None) -> Consequence | None:
    if on_breach is None:
        return None
    return Consequence(action=on_breach.action, tier=on_breach.tier)


def _weakening(
    chosen: Settled, text: str, rule: str, terms: RequiredCondition
) -> list[ConditionDeparture]:
    found: list[str] = []
    if chosen.text != text:
        found.append(f"reworded (the rule requires: {text})")
    if terms.due_days is not None and chosen.due_days is None:
        found.append(f"made continuing (the rule requires it within {terms.due_days} days)")
    elif (
        terms.due_days is not None
        and chosen.due_days is not None
        and chosen.due_days > terms.due_days
    ):
        found.append(f"due in {chosen.due_days} days (the rule requires {terms.due_days})")
    if _softer(chosen.on_breach, terms.on_breach):
        required = _describe(_consequence_of(terms.on_breach))
        found.append(f"breach brings {_describe(chosen.on_breach)} (the rule requires {required})")
    return [
        ConditionDeparture(rule=rule, text=text, change="weakened", detail=detail)
        for detail in found
    ]


def _softer(given: Consequence | None, required: OnBreach | None) -> bool:
    if required is None:
        return False
    if given is None:
        return True
    if required.action == "halt":
        return given.action != "halt"
    if given.action == "halt":
        return False
    return tier_rank(given.tier or "public") < tier_rank(required.tier or "public")


def _describe(consequence: Consequence | None) -> str:
    if consequence is None:
        return "no consequence"
    if consequence.action == "halt":
        return "a halt"
    return f"a tier cap at {consequence.tier}"


def _event(
    kind: str, obligation: Obligation, actor: str, now: dt.datetime, data: dict[str, Any]
) -> Event:
    return Event.model_validate(
        {
            "kind": kind,
            "subject": obligation.id,
            "model_id": obligation.model_id,
            "actor": actor,
            "at": now,
            "data": {"decision": obligation.decision_id, "state": obligation.state} | data,
        }
    )
