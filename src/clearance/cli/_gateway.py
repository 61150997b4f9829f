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
        Path | None, typer.Option(help="upstreams.json: model name to {base_url, api_key}.")
    ] = None,
    redis: Annotated[
        str | None, typer.Option(help="Redis URL: shared rate limits and snapshot pushes.")
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8081,
    poll: Annotated[float, typer.Option(help="Seconds between snapshot polls.")] = 0.5,
    max_body: Annotated[int, typer.Option(help="Largest request body, in bytes.")] = 4194304,
) -> None:
    """Run a gateway replica: it follows the register's signed snapshot and serves /v1."""
    from clearance.gateway import (
        Follower,
        Gateway,
        GatewayServer,
        LocalLimiter,
        RedisLimiter,
        Upstreams,
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
    limiter = LocalLimiter() if redis is None else RedisLimiter(_redis(redis))
    gateway = Gateway(upstreams=routes, trusted=[trusted], limiter=limiter, max_body=max_body)
    follower = Follower(gateway, register, token, interval=poll, redis_url=redis)
    app = GatewayServer(gateway, [follower.run])
    typer.echo(f"clearance gateway on http://{host}:{port}/v1, following {register}")
    serve(app, host, port)


def _redis(url: str) -> object:
    import redis.asyncio as aioredis

    return aioredis.from_url(url)


def fake_upstream_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8090,
    api_key: Annotated[str, typer.Option(help="Require this key from callers.")] = "",
) -> None:
    """Run the deterministic fake OpenAI-compatible upstream (for trials and tests; no model)."""
    from clearance.gateway import fake_upstream

    typer.echo(f"fake upstream (not a model) on http://{host}:{port}/v1")
    fake_upstream.run(host, port, api_key)
