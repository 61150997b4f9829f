"""`clearance local-model`: a small real model (SmolLM2-135M-Instruct) for the gateway to call."""

from __future__ import annotations

from typing import Annotated

import typer


def local_model_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8090,
    api_key: Annotated[str, typer.Option(help="Require this key from callers.")] = "",
) -> None:
    """Serve SmolLM2-135M-Instruct OpenAI-compatibly (needs the local-model extra).

    A warm-up generation runs first in a child process; if the build cannot run here, this
    exits with one error line naming the cause and the fix.
    """
    from clearance.local_model import MODEL_NAME, run, warm_up, weights_path

    typer.echo(f"loading {weights_path()}")
    warm_up()
    typer.echo(f"{MODEL_NAME} on http://{host}:{port}/v1")
    run(host, port, api_key)
