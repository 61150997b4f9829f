"""`clearance witness`: a C2SP tlog-witness for one or more logs, on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def witness_command(
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Folder for the witness key and its database.")
    ],
    name: Annotated[
        str, typer.Option("--name", help="The witness's name (its key name), e.g. example.org/w1.")
    ],
    log_key: Annotated[
        list[Path],
        typer.Option(
            "--log-key",
            help="A file of a log's verifier key(s), e.g. authority.vkey (repeatable).",
        ),
    ],
    port: Annotated[int, typer.Option(help="Port to listen on.")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Run a witness: cosign each checkpoint that extends the last one seen of its log."""
    from clearance.gateway import serve
    from clearance.witness import (
        WITNESS_DB,
        WITNESS_VKEY,
        WitnessApp,
        WitnessStore,
        open_witness_folder,
        read_log_keys,
    )

    logs = read_log_keys(log_key)
    cosigner = open_witness_folder(data_dir, name)
    store = WitnessStore(data_dir / WITNESS_DB, cosigner, lambda origin: logs.get(origin, ()))
    typer.echo(f"witness {name} on http://{host}:{port}/add-checkpoint")
    typer.echo(f"  verifier key ({data_dir / WITNESS_VKEY}): {cosigner.verifier.vkey}")
    for origin in sorted(logs):
        typer.echo(f"  follows {origin}")
    try:
        serve(WitnessApp(store, logs), host, port)
    finally:
        store.close()
