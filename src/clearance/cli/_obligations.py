"""`clearance obligation`: a decision's conditions as obligations, fulfilled and reviewed."""

from __future__ import annotations

from typing import Annotated

import typer

from clearance.cli._client import LOGGED, JsonOption, KeyFileOption, UrlOption, calling, connect
from clearance.cli._client import output as show

obligation_app = typer.Typer(help="Obligations: a decision's conditions, fulfilled and reviewed.")

COLUMNS = ("id", "decision_id", "text", "state", "due_at", *LOGGED)


@obligation_app.command("list")
def obligation_list(
    model: Annotated[str, typer.Argument(help="Model name or id.")],
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """List a model's obligations."""
    found = connect(url, key_file, key_needed=False).obligations(model)
    show(found, json, COLUMNS[:-2])


@obligation_app.command("show")
def obligation_show(
    obligation: Annotated[str, typer.Argument(help="Obligation id.")],
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Show an obligation, its fulfilments and their review."""
    found = connect(url, key_file, key_needed=False).obligation(obligation)
    show(found, json, (*COLUMNS[:-2], "fulfilments"))


@obligation_app.command("fulfil")
def obligation_fulfil(
    obligation: Annotated[str, typer.Argument(help="Obligation id.")],
    text: Annotated[str, typer.Option(help="How the obligation is met.")],
    evidence: Annotated[
        list[str],
        typer.Option(help="Evidence: a file or folder (uploaded if missing) or a digest."),
    ],
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """File evidence that an obligation is met (developers)."""
    from clearance.cli._cases import cited

    register = connect(url, key_file)
    with calling():
        found = register.fulfil(obligation, text, cited(register, evidence))
    show(found, json, (*COLUMNS, "fulfilments"))


@obligation_app.command("review")
def obligation_review(
    obligation: Annotated[str, typer.Argument(help="Obligation id.")],
    fulfilment: Annotated[str, typer.Argument(help="Fulfilment id.")],
    reasons: Annotated[str, typer.Option(help="Why.")],
    accept: Annotated[bool, typer.Option("--accept/--reject", help="Accept or reject it.")],
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Accept or reject a fulfilment (reviewers)."""
    with calling():
        found = connect(url, key_file).review_fulfilment(obligation, fulfilment, accept, reasons)
    show(found, json, COLUMNS)
