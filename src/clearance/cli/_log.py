"""`clearance bundle`, `verify`, `consistency` and `key rotate`: the log, checked offline."""

from __future__ import annotations

import datetime as dt
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from clearance.cli._files import read_text
from clearance.errors import ClearanceError, InvalidInput, NotFound
from clearance.ledger import (
    Bundle,
    ConsistencyProof,
    MalformedData,
    VerifierKey,
    WitnessKey,
    make_consistency,
    parse_checkpoint,
    verify_bundle,
)

DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Read the log from this register's folder.")
]
UrlOption = Annotated[
    str | None, typer.Option("--url", help="Read the log from a running register at this URL.")
]
OutputOption = Annotated[Path, typer.Option("--output", "-o", help="File to write.")]

key_app = typer.Typer(help="The authority's signing key.", no_args_is_help=True)


class Unavailable(ClearanceError):
    """A register URL that could not be read."""

    exit_code = 1


def _fetch(url: str, path: str) -> bytes:
    try:
        with urllib.request.urlopen(url.rstrip("/") + path, timeout=30) as response:
            return bytes(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:300]
        raise Unavailable(f"{url}{path}: HTTP {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise Unavailable(f"{url}{path}: cannot be reached: {exc}") from None


def _write_from(
    output: Path,
    data_dir: Path | None,
    url: str | None,
    path: str,
    parse: Callable[[bytes], object],
    local: Callable[[Path], bytes],
) -> None:
    """Fetch `path` from a register URL (checked by parsing it) or build it from a data folder."""
    if (data_dir is None) == (url is None):
        raise InvalidInput("give either --data-dir or --url")
    if url is not None:
        data = _fetch(url, path)
        parse(data)
    else:
        assert data_dir is not None
        data = local(data_dir)
    output.write_bytes(data)


def bundle_command(
    entry: Annotated[
        str,
        typer.Argument(
            help="The log index of the statement, or the id of a decision, directive, grant... "
            "(the act that made it)."
        ),
    ],
    output: OutputOption,
    data_dir: DataDirOption = None,
    url: UrlOption = None,
) -> None:
    """Write an offline bundle: the statement's envelope, its tlog proof and the checkpoint."""
    entry = entry.strip()
    if not entry or (not entry.isdigit() and not entry.replace("_", "").isalnum()):
        raise InvalidInput(f"{entry!r}: give a log index or a record id")
    _write_from(
        output,
        data_dir,
        url,
        f"/log/bundle/{entry}",
        Bundle.from_json,
        lambda folder: _local_bundle(folder, entry).to_json(),
    )
    index = Bundle.from_json(output.read_bytes()).index
    typer.echo(f"wrote the bundle of entry {index} to {output}")


def _local_bundle(data_dir: Path, reference: str) -> Bundle:
    from clearance.server import entry_index, make_bundle, open_data_dir

    folder = open_data_dir(data_dir)
    store = folder.open_store()
    try:
        # A checkpoint may lag the entry when checkpoints are signed on an interval; holding
        # the key here, sign one now rather than refuse.
        with store.transaction() as tx:
            folder.transparency_log().checkpoint(tx.connection, dt.datetime.now(dt.UTC))
        return make_bundle(store, entry_index(store, reference))
    finally:
        store.engine.dispose()


def consistency_command(
    old_size: Annotated[int, typer.Argument(help="The tree size of the earlier checkpoint.")],
    output: OutputOption,
    data_dir: DataDirOption = None,
    url: UrlOption = None,
) -> None:
    """Write a consistency file: the latest checkpoint and the proof it extends OLD_SIZE."""
    _write_from(
        output,
        data_dir,
        url,
        f"/log/proof/consistency?old={old_size}",
        ConsistencyProof.from_json,
        lambda folder: _local_consistency(folder, old_size).to_json(),
    )
    typer.echo(f"wrote the consistency proof from size {old_size} to {output}")


def _local_consistency(data_dir: Path, old_size: int) -> ConsistencyProof:
    from clearance.server import open_data_dir
    from clearance.store import SqlTileStore, latest_checkpoint

    folder = open_data_dir(data_dir)
    store = folder.open_store()
    try:
        with store.read() as tx:
            note = latest_checkpoint(tx.connection)
            if note is None:
                raise NotFound("the log has no signed checkpoint yet")
            if old_size > parse_checkpoint(note).size:
                raise InvalidInput(f"{old_size} is beyond the latest checkpoint's tree size")
            return make_consistency(SqlTileStore(tx.connection), old_size, note)
    finally:
        store.engine.dispose()


def _keys(values: list[str]) -> list[VerifierKey]:
    keys = []
    for value in values:
        text = read_text(Path(value)) if Path(value).is_file() else value
        for line in text.splitlines():
            if line.strip():
                try:
                    keys.append(VerifierKey.parse(line))
                except MalformedData as exc:
                    raise InvalidInput(f"--key {value}: {exc.message}") from None
    return keys


def witness_keys(values: list[str]) -> list[WitnessKey]:
    """Witness vkeys from the command line: each a vkey, or a file of vkeys one per line."""
    keys = []
    for value in values:
        text = read_text(Path(value)) if Path(value).is_file() else value
        for line in text.splitlines():
            if line.strip():
                try:
                    keys.append(WitnessKey.parse(line))
                except MalformedData as exc:
                    raise InvalidInput(f"--witness {value}: {exc.message}") from None
    return keys


def witness_policy(values: list[str], required: int | None) -> tuple[list[WitnessKey], int]:
    """The named witnesses and how many must have cosigned (all of them by default)."""
    named = witness_keys(values)
    if required is None:
        return named, len(named)
    if not named:
        raise InvalidInput("--witnesses-required needs the witnesses' keys: --witness VKEY")
    if not 1 <= required <= len(named):
        raise InvalidInput(
            f"--witnesses-required {required}: give a number from 1 to the {len(named)} "
            "witness key(s) named"
        )
    return named, required


WitnessOption = Annotated[
    list[str] | None,
    typer.Option(
        "--witness",
        help="A witness's vkey (cosignature/v1), or a file of them, one per line (repeatable).",
    ),
]
WitnessesRequiredOption = Annotated[
    int | None,
    typer.Option(
        "--witnesses-required",
        help="How many of the named witnesses must have cosigned (default: all of them).",
    ),
]


def verify_command(
    file: Annotated[Path, typer.Argument(help="A bundle written by `clearance bundle`.")],
    key: Annotated[
        list[str],
        typer.Option(
            "--key", help="The log's vkey, or a file holding vkeys one per line (repeatable)."
        ),
    ],
    newer_checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--newer-checkpoint",
            help="A consistency file (`clearance consistency`), or a checkpoint of the same size.",
        ),
    ] = None,
    witness: WitnessOption = None,
    witnesses_required: WitnessesRequiredOption = None,
) -> None:
    """Check a bundle offline: the signature, the inclusion, consistency with a later head, and
    (with --witness) that enough independent witnesses cosigned its checkpoint."""
    trusted = _keys(key)
    named, required = witness_policy(witness or [], witnesses_required)
    newer: ConsistencyProof | str | None = None
    if newer_checkpoint is not None:
        text = read_text(newer_checkpoint)
        newer = ConsistencyProof.from_json(text) if text.lstrip().startswith("{") else text
    verified = verify_bundle(
        read_text(file).encode(),
        trusted,
        newer=newer,
        witnesses=named,
        witnesses_required=required,
    )
    subject = verified.statement.subjects[0]
    typer.echo(
        f"verified: entry {verified.index} ({verified.leaf.kind}) about {subject.name} "
        f"sha256:{subject.sha256}"
    )
    typer.echo(f"  predicate: {verified.statement.predicate_type}")
    typer.echo(f"  in log {verified.checkpoint.origin} of {verified.checkpoint.size} entries")
    if verified.newer is not None:
        typer.echo(f"  consistent with its checkpoint of {verified.newer.size} entries")
    if named:
        typer.echo(
            f"  cosigned by {len(verified.cosignatures)} of the {len(named)} named witnesses "
            f"({required} required):"
        )
        for cosignature in verified.cosignatures:
            at = dt.datetime.fromtimestamp(cosignature.timestamp, dt.UTC).isoformat()
            typer.echo(f"    {cosignature.witness.name} at {at}")


@key_app.command("rotate")
def rotate_command(
    data_dir: Annotated[Path, typer.Option("--data-dir", help="The register's folder.")],
    reason: Annotated[str, typer.Option(help="Why the key changes (logged).")] = "",
) -> None:
    """Replace the authority key; the rotation is logged, signed by the old key."""
    from clearance.server import open_data_dir, rotate_authority_key

    rotation = rotate_authority_key(open_data_dir(data_dir), dt.datetime.now(dt.UTC), reason)
    at = (
        "finished an interrupted rotation"
        if rotation.index is None
        else f"log entry {rotation.index}"
    )
    typer.echo(f"rotated the authority key ({at})")
    typer.echo(f"  old: {rotation.old.vkey}")
    typer.echo(f"  new: {rotation.new.vkey}")
