"""`clearance directive`, `access`, `grant`, `report` and `clock`: orders and access on a running
register."""

from __future__ import annotations

from typing import Annotated

import typer

from clearance.cli._client import LOGGED, JsonOption, KeyFileOption, UrlOption, calling, connect
from clearance.cli._client import output as show
from clearance.register import Limits

directive_app = typer.Typer(help="Directives: halt, restrict or restore a model.")
access_app = typer.Typer(help="Access requests: ask, grant, refuse.")
grant_app = typer.Typer(help="Grants of access.")
report_app = typer.Typer(help="Risk reports.")
clock_app = typer.Typer(help="The register's clock: deadlines, expiries, hearings.")

DIRECTIVE_COLUMNS = ("id", "action", "model_id", "state", "grounds", "expires_at", *LOGGED)
GrantsOption = Annotated[str, typer.Option("--grounds", help="The grounds, as logged.")]
UrgentOption = Annotated[
    bool, typer.Option("--urgent", help="In effect at once, the hearing after it.")
]


def _directive(
    action: str,
    model: str,
    grounds: str,
    urgent: bool,
    jurisdiction: list[str] | None,
    group: list[str] | None,
    url: str | None,
    key_file: object,
    json: bool,
) -> None:
    with calling():
        issued = connect(url, key_file).issue_directive(  # type: ignore[arg-type]
            action,  # type: ignore[arg-type]
            model,
            grounds,
            urgent=urgent,
            jurisdictions=jurisdiction or [],
            groups=group or [],
        )
    show(issued, json, DIRECTIVE_COLUMNS)
    if not json and issued.state == "proposed":
        typer.echo(
            "proposed: in effect only if the hearing confirms it (or use --urgent)", err=True
        )


JurisdictionOption = Annotated[
    list[str] | None, typer.Option("--jurisdiction", help="Country it applies to (repeatable).")
]


@directive_app.command("halt")
def directive_halt(
    model: Annotated[str, typer.Argument(help="Model name or id.")],
    grounds: GrantsOption,
    urgent: UrgentOption = False,
    jurisdiction: JurisdictionOption = None,
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Halt a model (administrators): proposed until its hearing unless --urgent."""
    _directive("halt", model, grounds, urgent, jurisdiction, None, url, key_file, json)


@directive_app.command("restrict")
def directive_restrict(
    model: Annotated[str, typer.Argument(help="Model name or id.")],
    grounds: GrantsOption,
    group: Annotated[
        list[str] | None, typer.Option(help="A jurisdiction group still served (repeatable).")
    ] = None,
    urgent: UrgentOption = False,
    jurisdiction: JurisdictionOption = None,
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Restrict a model (administrators): proposed until its hearing unless --urgent."""
    _directive("restrict", model, grounds, urgent, jurisdiction, group, url, key_file, json)


@directive_app.command("restore")
def directive_restore(
    model: Annotated[str, typer.Argument(help="Model name or id.")],
    grounds: GrantsOption,
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Restore a halted or restricted model (administrators)."""
    _directive("restore", model, grounds, False, None, None, url, key_file, json)


@directive_app.command("list")
def directive_list(
    model: Annotated[str | None, typer.Option(help="Only this model's.")] = None,
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """List directives."""
    found = list(connect(url, key_file, key_needed=False).directives(model=model))
    show(found, json, DIRECTIVE_COLUMNS[:-2])


ACCESS_COLUMNS = ("id", "model_id", "organization_id", "use_case", "state", *LOGGED)


@access_app.command("request")
def access_request(
    model: Annotated[str, typer.Argument(help="Model name or id.")],
    use_case: Annotated[str, typer.Option(help="The use case, as the framework names it.")],
    jurisdiction: JurisdictionOption = None,
    channel: Annotated[list[str] | None, typer.Option(help="api or app (repeatable).")] = None,
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Ask for access to a model (partners)."""
    with calling():
        asked = connect(url, key_file).request_access(
            model, use_case, channels=channel or ["api"], jurisdictions=jurisdiction or []
        )
    show(asked, json, ACCESS_COLUMNS)


@access_app.command("list")
def access_list(
    url: UrlOption = None, key_file: KeyFileOption = None, json: JsonOption = False
) -> None:
    """List access requests (all for the authority, your own otherwise)."""
    show(list(connect(url, key_file).access_requests()), json, ACCESS_COLUMNS[:-2])


@access_app.command("grant")
def access_grant(
    request: Annotated[str, typer.Argument(help="Access request id.")],
    reasons: Annotated[str, typer.Option(help="Why.")],
    requests_per_minute: Annotated[int | None, typer.Option(help="Rate limit.")] = None,
    tokens_per_minute: Annotated[int | None, typer.Option(help="Token limit.")] = None,
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Grant an access request (reviewers, administrators)."""
    limits = Limits(requests_per_minute=requests_per_minute, tokens_per_minute=tokens_per_minute)
    with calling():
        decided = connect(url, key_file).decide_access(request, True, reasons, limits=limits)
    show(decided.grant or decided.access_request, json, ("id", "state", "model_id", "use_case"))
    if not json:
        typer.echo(f"log index {decided.log_index}, bundle {decided.bundle_url}")


@access_app.command("refuse")
def access_refuse(
    request: Annotated[str, typer.Argument(help="Access request id.")],
    reasons: Annotated[str, typer.Option(help="Why.")],
    urgent: UrgentOption = False,
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Refuse an access request: proposed until the hearing unless --urgent."""
    with calling():
        decided = connect(url, key_file).decide_access(request, False, reasons, urgent=urgent)
    show(decided.access_request, json, ACCESS_COLUMNS[:-2])


@grant_app.command("list")
def grant_list(
    url: UrlOption = None, key_file: KeyFileOption = None, json: JsonOption = False
) -> None:
    """List grants (all for the authority, your own otherwise)."""
    found = list(connect(url, key_file).grants())
    show(found, json, ("id", "model_id", "organization_id", "use_case", "state", "expires_at"))


@grant_app.command("revoke")
def grant_revoke(
    grant: Annotated[str, typer.Argument(help="Grant id.")],
    grounds: GrantsOption,
    urgent: UrgentOption = False,
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Revoke a grant: at the hearing's outcome, or at once with --urgent."""
    with calling():
        revoked = connect(url, key_file).revoke_grant(grant, grounds, urgent=urgent)
    show(revoked, json, ("grant", "hearing", *LOGGED))


@report_app.command("file")
def report_file(
    model: Annotated[str, typer.Argument(help="Model name or id.")],
    title: Annotated[str, typer.Option(help="A title.")],
    summary: Annotated[str, typer.Option(help="What was found.")],
    conflict: Annotated[str, typer.Option(help="Conflict of interest.")] = "None",
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """File a risk report about a model."""
    with calling():
        filed = connect(url, key_file).file_report(model, title, summary, conflict)
    show(filed, json, ("id", "model_id", "title", *LOGGED))


@report_app.command("list")
def report_list(
    model: Annotated[str | None, typer.Option(help="Only about this model.")] = None,
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """List risk reports."""
    found = list(connect(url, key_file, key_needed=False).reports(model=model))
    show(found, json, ("id", "model_id", "title", "filed_at"))


@clock_app.command("run")
def clock_run(
    url: UrlOption = None, key_file: KeyFileOption = None, json: JsonOption = False
) -> None:
    """Apply every due clock transition now (administrators)."""
    applied = connect(url, key_file).run_clock()
    show(applied, json, ("kind", "subject"))
