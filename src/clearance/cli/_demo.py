"""`clearance demo`: the June 2026 timeline, replayed for real, then served."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from clearance.errors import InvalidInput


def demo_command(
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Folder for the demo's register (new or empty).")
    ] = Path("clearance-demo"),
    port: Annotated[int, typer.Option(help="Port to serve on; 0 picks a free one.")] = 8080,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    exit_after: Annotated[
        bool, typer.Option("--exit", help="Stop after the story instead of serving.")
    ] = False,
    local_model: Annotated[
        bool,
        typer.Option(
            "--local-model",
            help="Run the authority's own evaluation against SmolLM2 on this machine "
            "(needs the local-model extra; the model is slow on a CPU: minutes).",
        ),
    ] = False,
) -> None:
    """Replay the June 2026 timeline on a fresh register, then serve it."""
    began = time.monotonic()
    from clearance.demo import (
        DEMO_FILE,
        EvalWorker,
        LocalModelProcess,
        listen,
        prepare,
        require_local_model,
        run_story,
        serving,
    )

    console = Console(highlight=False)
    sock = listen(host, port)  # a busy port is an error before anything is made
    fresh = not (data_dir / DEMO_FILE).exists()
    if local_model:  # before anything is made
        if not fresh:
            raise InvalidInput(
                f"{data_dir} holds a finished demo; --local-model needs a new --data-dir"
            )
        require_local_model()
    # Inspect starts in its own processes now, warm by the time the evals are asked for
    evals = EvalWorker() if fresh else None
    model: LocalModelProcess | None = None
    try:
        with console.status("Creating the register") as status:
            prepare(data_dir)
            if local_model:
                model = LocalModelProcess(data_dir / "local-model.log")
            with serving(data_dir, host, port, sock) as base_url:
                if evals is not None:

                    def say(line: str) -> None:
                        console.print(
                            f"[green]✓[/green] {line}" if not line.startswith(" ") else line
                        )
                        status.update(line.strip())

                    status.update("Starting the register")
                    summary = run_story(
                        data_dir, base_url, say, evals, status.update, local_model=model
                    )
                    status.stop()
                    console.print(f"Done in {time.monotonic() - began:.1f} s.")
                else:
                    status.stop()
                    console.print(f"{data_dir} holds a finished demo; serving it again.")
                    summary = json.loads((data_dir / DEMO_FILE).read_text())
                    summary["base_url"] = f"{base_url}/v1"
                _explain(console, base_url, data_dir / DEMO_FILE, summary)
                if exit_after:
                    return
                console.print("\nServing; press Ctrl-C to stop.")
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    console.print("Stopped.")
    finally:
        if evals is not None:
            evals.close()
        if model is not None:
            model.close()


def _explain(console: Console, base_url: str, demo_file: Path, summary: dict[str, object]) -> None:
    organizations = summary["organizations"]
    assert isinstance(organizations, list)
    agency = organizations[0]
    model = agency["may_call"][0]
    key = agency["api_key"]
    console.print(
        f"\nThe register: {base_url}/  (API: {base_url}/api/v1, OpenAPI: {base_url}/openapi.json)"
    )
    console.print(f"Who may call what, with keys: {demo_file}")
    console.print("\nCall a restored model as one of the agencies:")
    console.print(
        f"  curl -s {base_url}/v1/chat/completions -H 'Authorization: Bearer {key}' "
        f"-H 'Content-Type: application/json' "
        f'-d \'{{"model": "{model}", "messages": [{{"role": "user", "content": "hello"}}]}}\'',
        markup=False,
        soft_wrap=True,
    )
    console.print("\nOr with the openai client:", markup=False)
    console.print(
        f"  python -c \"from openai import OpenAI; c = OpenAI(base_url='{base_url}/v1', "
        f"api_key='{key}'); print(c.chat.completions.create(model='{model}', "
        "messages=[{'role': 'user', 'content': 'hello'}]).choices[0].message.content)\"",
        markup=False,
        soft_wrap=True,
    )
    console.print("\nAnd see a refusal (another lab's partners-only model):", markup=False)
    refused = next(iter(agency["may_not_call"]))
    console.print(
        f"  curl -s {base_url}/v1/chat/completions -H 'Authorization: Bearer {key}' "
        f"-H 'Content-Type: application/json' "
        f'-d \'{{"model": "{refused}", "messages": [{{"role": "user", "content": "hello"}}]}}\'',
        markup=False,
        soft_wrap=True,
    )
