"""`clearance gateway` (a replica following a register) and `clearance fake-upstream`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from clearance.errors import InvalidInput


def gateway_command(
    register: Annotated[str, typer.Option(help="The register's URL (http://host:port).")],
    vkey: Annotated[Path, typer.Option(help="The authority's verifier key (authority.vkey).")],
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            help="The register's gateway token (gateway.token); or CLEARANCE_GATEWAY_TOKEN.",
        ),
    ] = None,
    upstreams: Annotated[
        Path | None,
        typer.Option(help="upstreams.json: model name to {base_url, api_key, organization}."),
    ] = None,
    redis: Annotated[
        str | None, typer.Option(help="Redis URL: shared rate limits and snapshot pushes.")
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8081,
    poll: Annotated[float, typer.Option(help="Seconds between snapshot polls.")] = 0.5,
    max_body: Annotated[int, typer.Option(help="Largest request body, in bytes.")] = 4194304,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Processes sharing the port (default: the number of cores)."),
    ] = None,
    spool: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the usage journal, so that each call is metered exactly once "
            "(default: clearance-spool-PORT in the temporary folder).",
        ),
    ] = None,
    min_replicas: Annotated[
        int,
        typer.Option(
            min=1,
            help="While Redis is unreachable, divide each rate limit by at least this many "
            "replicas (the number last seen alive in Redis, when larger).",
        ),
    ] = 1,
) -> None:
    """Run a gateway replica: it follows the register's signed snapshot and serves /v1."""
    import tempfile
    import uuid

    from clearance.gateway import (
        Follower,
        Gateway,
        GatewayServer,
        Limiter,
        Meter,
        PerWorker,
        RedisLimiter,
        SharedLimiter,
        Spool,
        Upstreams,
        default_workers,
        redis_client,
        serve,
    )
    from clearance.ledger import VerifierKey

    token = os.environ.get("CLEARANCE_GATEWAY_TOKEN", "")
    if token_file is not None:
        token = token_file.read_text().strip()
    if not token:
        raise InvalidInput("the gateway needs the register's token: --token-file gateway.token")
    trusted = VerifierKey.parse(vkey.read_text().strip())
    routes = Upstreams.load(upstreams) if upstreams is not None else Upstreams({})
    count = workers or default_workers()
    # made before the workers fork: their rate-limit counters (exact across them without
    # Redis, the fallback with it) and their name among the replicas
    shared = SharedLimiter()
    replica = uuid.uuid4().hex
    folder = spool or Path()

    def make(_: int) -> GatewayServer:
        limiter: Limiter = shared
        tasks = []
        if redis is not None:
            limiter = RedisLimiter(
                redis_client(redis), fallback=shared, replica=replica, min_share=min_replicas
            )
            tasks.append(limiter.run)
        journal = Spool(folder)
        gateway = Gateway(
            upstreams=routes,
            trusted=[trusted],
            limiter=limiter,
            meter=Meter(journal),
            max_body=max_body,
        )
        follower = Follower(gateway, register, token, interval=poll, redis_url=redis)
        return GatewayServer(gateway, [follower.run, *tasks])

    def bound(actual: int) -> None:
        nonlocal folder
        if spool is None:
            folder = Path(tempfile.gettempdir()) / f"clearance-spool-{actual}"
        typer.echo(
            f"clearance gateway on http://{host}:{actual}/v1 ({count} "
            f"worker{'s' if count > 1 else ''}), following {register}"
        )

    serve(PerWorker(make), host, port, workers=count, on_bound=bound)


def fake_upstream_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8090,
    api_key: Annotated[str, typer.Option(help="Require this key from callers.")] = "",
) -> None:
    """Run the deterministic fake OpenAI-compatible upstream (for trials and tests; no model)."""
    from clearance.gateway import fake_upstream

    typer.echo(f"fake upstream (not a model) on http://{host}:{port}/v1")
    fake_upstream.run(host, port, api_key)
