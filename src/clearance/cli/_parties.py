"""`clearance org`, `principal`, `model`, `evidence` and `framework publish`: parties and what
they bring, on a running register."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.progress import Progress

from clearance.cli._client import LOGGED, JsonOption, KeyFileOption, UrlOption, calling, connect
from clearance.cli._client import output as show
from clearance.errors import InvalidInput
from clearance.register import Role

if TYPE_CHECKING:
    from clearance.client import Evidence, Register

org_app = typer.Typer(help="Organizations: the authority, developers, partners, reporters.")
principal_app = typer.Typer(help="Principals: people and systems holding API keys.")
model_app = typer.Typer(help="Model configurations.")
evidence_app = typer.Typer(help="Evidence files: upload and cite by digest.")

ORG_COLUMNS = ("id", "name", "kind", "jurisdiction", "sector", *LOGGED)
PROGRESS_FROM = 1 << 20
"""Uploads of at least this many bytes show a progress bar."""


@org_app.command("add")
def org_add(
    name: Annotated[str, typer.Argument(help="The organization's name.")],
    kind: Annotated[
        Literal["developer", "partner", "reporter", "authority"], typer.Option(help="Its kind.")
    ],
    jurisdiction: Annotated[str, typer.Option(help="ISO country code, e.g. US.")],
    sector: Annotated[str, typer.Option(help="End-user sector the framework lists.")] = "",
    withhold_name: Annotated[
        bool, typer.Option("--withhold-name", help="Log a commitment instead of the name.")
    ] = False,
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Add an organization (administrators)."""
    with calling():
        made = connect(url, key_file).add_organization(
            name, kind, jurisdiction, sector=sector, name_public=not withhold_name
        )
    show(made, json, ORG_COLUMNS)


@org_app.command("list")
def org_list(
    url: UrlOption = None, key_file: KeyFileOption = None, json: JsonOption = False
) -> None:
    """List organizations."""
    show(list(connect(url, key_file, key_needed=False).organizations()), json, ORG_COLUMNS[:5])


@principal_app.command("add")
def principal_add(
    organization: Annotated[str, typer.Argument(help="Organization id or name.")],
    name: Annotated[str, typer.Argument(help="The principal's name.")],
    role: Annotated[list[str], typer.Option("--role", help="A role (repeatable).")],
    expertise: Annotated[list[str] | None, typer.Option(help="Expertise (repeatable).")] = None,
    conflict: Annotated[
        list[str] | None, typer.Option(help="An organization it has a conflict with.")
    ] = None,
    key_out: Annotated[
        Path | None, typer.Option("--key-out", help="Write the new API key to this file too.")
    ] = None,
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Add a principal (administrators); its API key is shown this once."""
    roles: list[Role] = []
    for r in role:
        if r not in ("admin", "reviewer", "appeal_panel", "developer", "partner", "reporter"):
            raise InvalidInput(f"--role {r}: not a role")
        roles.append(r)  # type: ignore[arg-type]
    with calling():
        made = connect(url, key_file).add_principal(
            organization, name, roles, expertise=expertise, conflicts=conflict
        )
    if key_out is not None and made.api_key:
        key_out.write_text(made.api_key + "\n")
        key_out.chmod(0o600)
    show(made, json, ("id", "name", "organization_id", "roles", "api_key", *LOGGED))
    if not json:
        typer.echo("the API key is shown this once: keep it now", err=True)


@principal_app.command("me")
def principal_me(
    url: UrlOption = None, key_file: KeyFileOption = None, json: JsonOption = False
) -> None:
    """Show the principal your key belongs to."""
    show(connect(url, key_file).me(), json, ("id", "name", "organization_id", "roles"))


KEY_COLUMNS = ("key_id", "created_at", "last_used_at", "revoked_at", "expires_at", "active")


@principal_app.command("keys")
def principal_keys(
    principal: Annotated[str, typer.Argument(help="Principal id, or `me`.")] = "me",
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """List a principal's keys with when each was last used (never a secret)."""
    with calling():
        found = connect(url, key_file).list_keys(principal)
    show(found, json, KEY_COLUMNS)


@principal_app.command("rotate")
def principal_rotate(
    principal: Annotated[str, typer.Argument(help="Principal id, or `me`.")] = "me",
    grace_seconds: Annotated[
        int, typer.Option(help="Seconds the present keys stay valid beside the new one.")
    ] = 0,
    key_out: Annotated[
        Path | None, typer.Option("--key-out", help="Write the new API key to this file too.")
    ] = None,
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Issue a new key (shown this once); the principal's other keys end after the grace."""
    with calling():
        made = connect(url, key_file).rotate_key(principal, grace_seconds=grace_seconds)
    if key_out is not None:
        key_out.write_text(made["api_key"] + "\n")
        key_out.chmod(0o600)
    show(made, json, ("principal_id", "key_id", "api_key", "others_end_at", *LOGGED))
    if not json:
        typer.echo("the API key is shown this once: keep it now", err=True)


@principal_app.command("revoke")
def principal_revoke(
    principal: Annotated[str, typer.Argument(help="Principal id, or `me`.")],
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """End every key of a principal now (administrators, or yourself with `me`)."""
    with calling():
        ended = connect(url, key_file).revoke_keys(principal)
    show(ended, json, ("principal_id", "revoked", "at", *LOGGED))


MODEL_COLUMNS = ("id", "name", "version", "variant", "weights_digest", "channels", *LOGGED)


@model_app.command("add")
def model_add(
    name: Annotated[str, typer.Argument(help="The model's name at the gateway.")],
    version: Annotated[str, typer.Option(help="Its version.")],
    weights: Annotated[str, typer.Option(help="Weights digest: sha256:<hex> or hex.")],
    variant: Annotated[str, typer.Option(help="Variant name.")] = "standard",
    channel: Annotated[list[str] | None, typer.Option(help="api or app (repeatable).")] = None,
    upstream: Annotated[
        str | None,
        typer.Option(
            help="Base URL of the model's server (…/v1); the gateway calls it unless its "
            "upstreams file names the model."
        ),
    ] = None,
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Register a model configuration of your organization (developers)."""
    with calling():
        made = connect(url, key_file).add_model(
            name, version, weights, variant=variant, channels=channel, upstream_url=upstream
        )
    show(made, json, MODEL_COLUMNS)


@model_app.command("list")
def model_list(
    status: Annotated[str | None, typer.Option(help="Only models in this status.")] = None,
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """List models and their status."""
    found = list(connect(url, key_file, key_needed=False).models(status=status))
    show(found, json, ("name", "status", "tier", "jurisdictions"))


@model_app.command("show")
def model_show(
    name: Annotated[str, typer.Argument(help="Model name or id.")],
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Show a model and its status."""
    show(connect(url, key_file, key_needed=False).model(name), json, (*MODEL_COLUMNS, "status"))


def evidence_files(paths: list[Path]) -> list[Path]:
    """The files named, a folder standing for the files in it (sorted, not hidden)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
            )
        elif path.is_file():
            found.append(path)
        else:
            raise InvalidInput(f"{path}: no such file or folder")
    if not found:
        raise InvalidInput("no evidence files")
    return found


def upload(register: Register, path: Path, confidential: bool | None = None) -> Evidence:
    """Upload one file, with a progress bar when it is long."""
    size = path.stat().st_size
    if size < PROGRESS_FROM:
        return register.upload_evidence(path, confidential=confidential)
    with Progress(transient=True) as progress:
        task = progress.add_task(f"uploading {path.name}", total=size)
        return register.upload_evidence(
            path, confidential=confidential, progress=lambda n: progress.advance(task, n)
        )


@evidence_app.command("upload")
def evidence_upload(
    paths: Annotated[list[Path], typer.Argument(help="Evidence files, or folders of them.")],
    confidential: Annotated[
        bool | None,
        typer.Option(
            "--confidential/--public", help="Withhold the bytes (default: the framework's)."
        ),
    ] = None,
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Upload evidence files (Inspect logs, lm-eval results, findings, safeguards); print the
    digests to cite."""
    register = connect(url, key_file)
    done = [upload(register, path, confidential) for path in evidence_files(paths)]
    if json:
        show(done, True, ())
        return
    for item in done:
        secret = " (confidential)" if item.confidential else ""
        typer.echo(f"{item.digest}  {item.name}  {item.kind}{secret}")


@evidence_app.command("show")
def evidence_show(
    digest: Annotated[str, typer.Argument(help="sha256:<hex> or hex.")],
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Show what anyone may know of an evidence file."""
    summary = connect(url, key_file, key_needed=False).evidence_summary(digest)
    show(summary, json, ("sha256", "name", "kind", "confidential", "tasks"))


def framework_publish(
    file: Annotated[Path, typer.Argument(help="Framework YAML file.")],
    url: UrlOption = None,
    key_file: KeyFileOption = None,
    json: JsonOption = False,
) -> None:
    """Publish a framework version on a running register (administrators)."""
    from clearance.cli._files import read_framework

    read_framework(file)  # the usual one-line error for a bad file, before any call
    published = connect(url, key_file).publish_framework(file)
    show(published, json, ("id", "version", "state", "sha256", *LOGGED))
