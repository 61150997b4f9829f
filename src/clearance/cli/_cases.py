"""`clearance application` and `clearance appeal`: filing, review and decisions on a running
register."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from clearance.cli._client import LOGGED, JsonOption, KeyFileOption, UrlOption, calling, connect
from clearance.cli._client import output as show
from clearance.cli._parties import evidence_files, upload
from clearance.cli._reasons import read_reasons

if TYPE_CHECKING:
    from clearance.client import Register

application_app = typer.Typer(help="Release applications: file, review, decide.")
appeal_app = typer.Typer(help="Appeals of decisions and other acts.")

APP_COLUMNS = ("id", "model_id", "state", "requested_tier", "deadline", "evidence", *LOGGED)
DECISION_COLUMNS = ("id", "application_id", "outcome", "tiers", "departure", *LOGGED)


def cited(register: Register, items: list[str]) -> list[str]:
    """Digests of the evidence named: a digest as given, a file or folder uploaded if missing."""
    from clearance.client import NotFound, digest_of

    digests = []
    for item in items:
        path = Path(item)
        if not path.exists() and len(digest_of(item)) == 64:
            digests.append(digest_of(item))
            continue
        for file in evidence_files([path]):
            digest = hashlib.sha256(file.read_bytes()).hexdigest()
            try:
                register.evidence_summary(digest)
            except NotFound:
                digest = upload(register, file).sha256
            digests.append(digest)
    return digests


@application_app.command("file")
def application_file(
    model: Annotated[str, typer.Argument(help="Model name or id.")],
    tier: Annotated[str, typer.Option(help="The tier requested, e.g. public.")],
    jurisdiction: Annotated[
        list[str], typer.Option(help="A jurisdiction group requested (repeatable).")
    ],
    evidence: Annotated[
        list[str] | None,
        typer.Option(help="Evidence: a file or folder (uploaded if missing) or a digest."),
    ] = None,
    safeguards: Annotated[
        str | None, typer.Option(help="Safeguards declaration: a file or a digest.")
    ] = None,
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """File a release application (developers), uploading the evidence not yet there."""
    register = connect(url, key_file)
    digests = cited(register, evidence or [])
    declaration = cited(register, [safeguards])[0] if safeguards else None
    with calling():
        filed = register.file_application(
            model,
            tier,  # type: ignore[arg-type]
            jurisdiction,
            evidence=digests,
            safeguards=declaration,
        )
    show(filed, json, APP_COLUMNS)


@application_app.command("list")
def application_list(
    model: Annotated[str | None, typer.Option(help="Only this model's.")] = None,
    state: Annotated[str | None, typer.Option(help="Only in this state.")] = None,
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """List applications."""
    found = connect(url, key_file, key_needed=False).applications(model=model, state=state)
    show(list(found), json, ("id", "model_id", "state", "requested_tier", "deadline"))


@application_app.command("show")
def application_show(
    application: Annotated[str, typer.Argument(help="Application id.")],
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Show an application, its assessment and information requests."""
    found = connect(url, key_file, key_needed=False).application(application)
    show(found, json, (*APP_COLUMNS[:-2], "assessment", "information_requests"))


@application_app.command("assign")
def application_assign(
    application: Annotated[str, typer.Argument(help="Application id.")],
    reviewer: Annotated[
        str | None, typer.Option(help="Reviewer principal id (administrators); omit: yourself.")
    ] = None,
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Assign a reviewer, or take the case yourself."""
    show(connect(url, key_file).assign(application, reviewer), json, APP_COLUMNS)


@application_app.command("ask")
def application_ask(
    application: Annotated[str, typer.Argument(help="Application id.")],
    question: Annotated[str, typer.Argument(help="The question.")],
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Ask the applicant for information (the assigned reviewer)."""
    with calling():
        asked = connect(url, key_file).request_information(application, question)
    show(asked, json, ("id", "application_id", "question", *LOGGED))


@application_app.command("answer")
def application_answer(
    request: Annotated[str, typer.Argument(help="Information request id.")],
    response: Annotated[str, typer.Argument(help="The answer.")],
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Answer an information request (the applicant)."""
    with calling():
        answered = connect(url, key_file).answer_information(request, response)
    show(answered, json, ("id", "application_id", "response", *LOGGED))


@application_app.command("withdraw")
def application_withdraw(
    application: Annotated[str, typer.Argument(help="Application id.")],
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Withdraw an undecided application (the applicant)."""
    show(connect(url, key_file).withdraw(application), json, APP_COLUMNS)


@application_app.command("decide")
def application_decide(
    application: Annotated[str, typer.Argument(help="Application id.")],
    reasons: Annotated[
        Path, typer.Option(help="YAML or Markdown file of reasons citing rules and digests.")
    ],
    outcome: Annotated[
        Literal["approved", "approved_with_conditions", "denied"] | None,
        typer.Option(help="The outcome (else the file's `outcome`)."),
    ] = None,
    tier: Annotated[str | None, typer.Option(help="One tier for the jurisdictions.")] = None,
    jurisdiction: Annotated[
        list[str] | None, typer.Option(help="A jurisdiction group (repeatable).")
    ] = None,
    condition: Annotated[list[str] | None, typer.Option(help="A condition (repeatable).")] = None,
    justification: Annotated[
        str | None, typer.Option(help="Why the decision departs from the assessment.")
    ] = None,
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Decide an application (the assigned reviewer), with reasons from a file."""
    fields: dict[str, Any] = read_reasons(reasons)
    given = {
        "outcome": outcome,
        "tier": tier,
        "jurisdictions": jurisdiction,
        "conditions": condition,
        "justification": justification,
    }
    fields |= {k: v for k, v in given.items() if v}
    if "outcome" not in fields:
        from clearance.errors import InvalidInput

        raise InvalidInput("give --outcome (or `outcome` in the reasons file)")
    outcome_given = fields.pop("outcome")
    reason_list = fields.pop("reasons")
    with calling():
        decided = connect(url, key_file).decide(application, outcome_given, reason_list, **fields)
    show(decided, json, DECISION_COLUMNS)


@appeal_app.command("file")
def appeal_file(
    act: Annotated[str, typer.Argument(help="A decision, directive, access request or grant id.")],
    grounds: Annotated[str, typer.Option(help="The grounds of the appeal.")],
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Appeal an act: a decision, a directive, an access refusal or a grant's revocation."""
    register = connect(url, key_file)
    filing = {
        "dec": register.appeal_decision,
        "dir": register.appeal_directive,
        "acr": register.appeal_refusal,
        "grt": register.appeal_revocation,
    }.get(act.split("_", 1)[0])
    if filing is None:
        from clearance.errors import InvalidInput

        raise InvalidInput(f"{act}: give a decision, directive, access request or grant id")
    with calling():
        filed = filing(act, grounds)
    show(filed, json, ("id", "act", "act_id", "state", *LOGGED))


@appeal_app.command("show")
def appeal_show(
    appeal: Annotated[str, typer.Argument(help="Appeal id.")],
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Show an appeal and its ruling."""
    found = connect(url, key_file, key_needed=False).appeal(appeal)
    show(found, json, ("id", "act", "act_id", "state", "panel", "votes"))


@appeal_app.command("panel")
def appeal_panel(
    appeal: Annotated[str, typer.Argument(help="Appeal id.")],
    member: Annotated[list[str], typer.Option(help="A panel member's principal id.")],
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Appoint the appeal panel (administrators)."""
    found = connect(url, key_file).appoint_panel(appeal, member)
    show(found, json, ("id", "state", "panel", *LOGGED))


@appeal_app.command("vote")
def appeal_vote(
    appeal: Annotated[str, typer.Argument(help="Appeal id.")],
    vote: Annotated[Literal["upheld", "overturned"], typer.Argument(help="upheld or overturned.")],
    text: Annotated[str, typer.Option(help="Your reasons.")],
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Vote on an appeal (panel members)."""
    with calling():
        found = connect(url, key_file).vote(appeal, vote, text)
    show(found, json, ("id", "state", "votes", *LOGGED))
