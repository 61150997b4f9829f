"""`clearance init` and `clearance serve`: a register on this machine in two commands."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from clearance.api._limits import DEFAULT_MAX_BODY, DEFAULT_MAX_UPLOAD
from clearance.cli._files import read_text

DataDirOption = Annotated[
    Path, typer.Option("--data-dir", help="Folder for the database, keys and settings.")
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="PostgreSQL URL (postgresql://user@host/db); SQLite in the data folder by default.",
    ),
]


def init_command(
    data_dir: DataDirOption,
    database_url: DatabaseOption = None,
    framework: Annotated[
        Path | None,
        typer.Option(
            "--framework",
            help="Framework YAML to publish as the first version; without it (and without "
            "--example-framework) none is published, and applications wait until one is.",
        ),
    ] = None,
    example_framework: Annotated[
        bool,
        typer.Option(
            "--example-framework",
            help="Publish the shipped example framework (marked as an example: not any "
            "authority's policy), to try the register out.",
        ),
    ] = False,
    authority: Annotated[str, typer.Option(help="The authority's name.")] = "Release Authority",
    jurisdiction: Annotated[str, typer.Option(help="The authority's country code.")] = "US",
    origin: Annotated[
        str | None, typer.Option(help="The transparency log's origin (its key name).")
    ] = None,
) -> None:
    """Create a register: database, authority signing key, first administrator key, and the
    first framework when one is given."""
    from clearance.errors import InvalidInput
    from clearance.examples import example_path
    from clearance.framework import framework_digest, parse_framework
    from clearance.server import ADMIN_KEY, AUTHORITY_VKEY, init_data_dir

    if framework is not None and example_framework:
        raise InvalidInput("give --framework FILE or --example-framework, not both")
    if framework is not None:
        text: str | None = read_text(framework)
        source = str(framework)
    elif example_framework:
        text, source = example_path().read_text(), "example"
    else:
        text, source = None, ""
    published = parse_framework(text, source) if text is not None else None
    folder, _ = init_data_dir(
        data_dir,
        database_url=database_url,
        framework_text=text,
        authority_name=authority,
        jurisdiction=jurisdiction,
        origin=origin,
        now=dt.datetime.now(dt.UTC),
    )
    typer.echo(f"initialized {data_dir}")
    typer.echo(f"  database: {folder.database_url}")
    typer.echo(f"  log origin: {folder.origin}; verifier key in {data_dir / AUTHORITY_VKEY}")
    typer.echo(f"  first administrator's API key: {data_dir / ADMIN_KEY} (readable by you only)")
    if published is None:
        typer.echo(
            "  framework: none published; applications are refused until the administrator "
            "publishes one (POST /api/v1/frameworks with the YAML text)"
        )
    else:
        example = " (the shipped example: not any authority's policy)" if published.example else ""
        typer.echo(
            f"  framework: {published.id} {published.version}{example}, from {source}, "
            f"sha256:{framework_digest(published)}"
        )
    typer.echo(f"\nNext: clearance serve --data-dir {data_dir}")


def serve_command(
    data_dir: DataDirOption,
    database_url: DatabaseOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on; 0 picks a free one.")] = 8080,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Processes sharing the port; the first alone runs the clock and timed "
            "checkpoints.",
        ),
    ] = 1,
    redis: Annotated[
        str | None,
        typer.Option(
            help="Redis URL: rate limits shared with the replicas, snapshot pushes "
            "(overrides clearance.json's gateway.redis_url).",
        ),
    ] = None,
    max_body: Annotated[
        int,
        typer.Option(
            min=1024,
            help="Largest request body in bytes, on every REST endpoint but evidence uploads "
            "(413 beyond it).",
        ),
    ] = DEFAULT_MAX_BODY,
    max_upload: Annotated[
        int,
        typer.Option(min=1024, help="Largest evidence file in bytes (POST /api/v1/evidence)."),
    ] = DEFAULT_MAX_UPLOAD,
) -> None:
    """Serve the register on one address until Ctrl-C.

    The web pages at /, the REST API under /api/v1 (OpenAPI at /openapi.json, docs at
    /api/docs), the OpenAI-compatible gateway at /v1 (base URL http://HOST:PORT/v1), the
    transparency log under /log, /metrics and /healthz. It also runs the clock (deadlines,
    expiries, scheduled framework versions) and delivers webhook notices.
    """
    import dataclasses
    import uuid
    from typing import Any

    from clearance.api import InputLimits
    from clearance.api._testing import OWN_URL, own_url
    from clearance.gateway import SharedLimiter, run_workers
    from clearance.server import app_for, open_data_dir
    from clearance.server._access_log import log_config
    from clearance.server._gateway import gateway_first, gateway_settings

    folder = open_data_dir(data_dir, database_url)
    # migrated once here, before any worker opens the database
    folder.open_store().engine.dispose()
    shared = SharedLimiter() if workers > 1 else None
    replica = uuid.uuid4().hex
    bound_port = [port]

    def make(index: int) -> Any:
        settings = dataclasses.replace(
            gateway_settings(folder, redis_url=redis),
            shared_limits=shared,
            replica=replica,
            watch_database=workers > 1,
        )
        limits = InputLimits(max_body=max_body, max_upload=max_upload)
        app = app_for(folder, gateway=settings, leader=index == 0, limits=limits)
        # the authority's REST evaluations call this server's gateway here (every worker
        # shares the port), never where a request's Host header points
        setattr(app.state, OWN_URL, own_url(host, bound_port[0]))
        return gateway_first(app)

    def announce(bound: int) -> None:
        bound_port[0] = bound
        # only once the port is ours: a busy port is one error line, no address announced
        typer.echo(
            f"clearance register on http://{host}:{bound}/ (API: /api/v1, OpenAPI: "
            f"/openapi.json, gateway base URL: http://{host}:{bound}/v1)"
            + (f", {workers} workers" if workers > 1 else "")
        )
        if folder.witnesses:
            typer.echo(
                f"  checkpoints go to {len(folder.witnesses)} witness(es) for cosigning; "
                f"published once {folder.witness_quorum} have cosigned"
            )

    run_workers(
        make, host, port, workers, on_bound=announce, log_level="info", log_config=log_config()
    )
