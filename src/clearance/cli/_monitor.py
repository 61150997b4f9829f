"""`clearance monitor URL`: follow a register's log and report every new statement."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from clearance.cli._log import Unavailable, _keys
from clearance.errors import InvalidInput

Fetch = Callable[[str], bytes | None]


def _http(base: str) -> Fetch:
    def fetch(path: str) -> bytes | None:
        try:
            with urllib.request.urlopen(base.rstrip("/") + path, timeout=30) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            detail = exc.read().decode(errors="replace")[:300]
            raise Unavailable(f"{base}{path}: HTTP {exc.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise Unavailable(f"{base}{path}: cannot be reached: {exc}") from None

    return fetch


def _source(value: str) -> Fetch:
    path = Path(value)
    if path.is_file():
        data = path.read_bytes()
        return lambda _path: data
    if value.startswith(("http://", "https://")):
        return _http(value)
    raise InvalidInput(f"--compare {value}: neither a file nor an http(s) URL")


def _since(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"--since {value!r}: give a date or time, e.g. 2026-06-01") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def monitor_command(
    url: Annotated[str, typer.Argument(help="The register's URL (http://host:port).")],
    state: Annotated[
        Path, typer.Option("--state", help="State file: where the monitor resumes from.")
    ],
    json_lines: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per statement.")
    ] = False,
    once: Annotated[
        bool, typer.Option("--once", help="Process what is there and exit (0, or 1 on failure).")
    ] = False,
    since: Annotated[
        str | None, typer.Option(help="Report only statements at or after this date/time.")
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(help="Report only these kinds, e.g. directive or grant.issued (repeatable)."),
    ] = None,
    model: Annotated[
        list[str] | None, typer.Option(help="Report only statements about this model (repeatable).")
    ] = None,
    key: Annotated[
        list[str] | None,
        typer.Option(
            "--key",
            help="The log's vkey, or a file of vkeys; without it the first run trusts /log/key.",
        ),
    ] = None,
    compare: Annotated[
        list[str] | None,
        typer.Option(
            help="Another view of the log's checkpoint (a URL or a checkpoint file) to compare.",
        ),
    ] = None,
    split_view: Annotated[
        Path | None,
        typer.Option(
            "--split-view",
            help="Where to write a split-view proof (default: STATE.split-view.json).",
        ),
    ] = None,
    interval: Annotated[float, typer.Option(help="Seconds between rounds when following.")] = 5.0,
) -> None:
    """Follow a register's log: verify each checkpoint and report every new statement."""
    from clearance.monitor import Filters, Monitor, Observed

    def report(observed: Observed) -> None:
        if json_lines:
            typer.echo(json.dumps(observed.to_json(), ensure_ascii=False))
        else:
            typer.echo(observed.words())

    monitor = Monitor(
        url=url.rstrip("/"),
        state_path=state,
        fetch=_http(url),
        report=report,
        pinned=_keys(key or []),
        filters=Filters(_since(since), tuple(kind or ()), tuple(model or ())),
        compare=[(value, _source(value)) for value in compare or []],
        split_view_path=split_view,
    )
    if once:
        monitor.run_once()
        return
    try:
        while True:
            try:
                monitor.run_once()
            except Unavailable as exc:
                typer.echo(f"warning: {exc.message}; trying again", err=True)
            time.sleep(interval)
    except KeyboardInterrupt:
        return
