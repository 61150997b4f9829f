"""What the register commands share: the register's URL and key, the client, and the output
(a table for people, `--json` for scripts)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import httpx
import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table

from clearance.cli._files import read_text
from clearance.errors import InvalidInput

if TYPE_CHECKING:  # the client (and the API's models) load only when a command calls
    from clearance.client import Register

UrlOption = Annotated[
    str | None,
    typer.Option("--url", envvar="CLEARANCE_URL", help="The register's URL ($CLEARANCE_URL)."),
]
KeyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--key-file", help="A file holding the API key (else $CLEARANCE_API_KEY).", dir_okay=False
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def connect(url: str | None, key_file: Path | None, *, key_needed: bool = True) -> Register:
    """A client for the register named by --url/$CLEARANCE_URL, with the key from
    --key-file or $CLEARANCE_API_KEY."""
    if not url:
        raise InvalidInput("no register: give --url or set CLEARANCE_URL")
    key = read_text(key_file).strip() if key_file else os.environ.get("CLEARANCE_API_KEY")
    if key_needed and not key:
        raise InvalidInput("no API key: give --key-file or set CLEARANCE_API_KEY")
    from clearance.client import Register

    # one command, a few calls: no connection is kept open after each
    http = httpx.Client(
        base_url=url.rstrip("/"), timeout=120, limits=httpx.Limits(max_keepalive_connections=0)
    )
    return Register(url, key or None, http=http)


@contextmanager
def calling() -> Iterator[None]:
    """A body the client refuses before sending is an input error (one line), not a traceback."""
    try:
        yield
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise InvalidInput(f"{where}: {first.get('msg', 'invalid')}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=False)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    if key in ("sha256", "weights_digest") and isinstance(value, str):
        return f"sha256:{value.removeprefix('sha256:')}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(key, v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def output(
    value: BaseModel | dict[str, Any] | Sequence[Any] | Iterable[Any],
    as_json: bool,
    columns: Sequence[str],
    title: str | None = None,
) -> None:
    """Print a record or a list: JSON with --json, else a table of `columns`."""
    many = not isinstance(value, (BaseModel, dict))
    items = [_plain(v) for v in value] if many else [_plain(value)]
    if as_json:
        typer.echo(json.dumps(items if many else items[0], indent=2))
        return
    console = Console(highlight=False, soft_wrap=True)
    if not many:
        table = Table(show_header=False, title=title, box=None)
        body = items[0]
        for key in columns:
            if key in body and body[key] not in (None, [], ""):
                table.add_row(key.replace("_", " "), _cell(key, body[key]))
        console.print(table)
        return
    table = Table(title=title)
    for column in columns:
        cells = [_cell(column, item.get(column)) for item in items]
        if column.endswith("id"):  # ids are copied into the next command: never cut
            widest = max((len(c) for c in cells), default=0)
            table.add_column(column.replace("_", " "), no_wrap=True, min_width=widest)
        else:
            table.add_column(column.replace("_", " "), overflow="fold")
    for item in items:
        table.add_row(*[_cell(c, item.get(c)) for c in columns])
    console.print(table)
    if not items:
        console.print("(none)")


LOGGED = ("log_index", "bundle_url")
"""Every act's place in the log, shown after its own fields."""
