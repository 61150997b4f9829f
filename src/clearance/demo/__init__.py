"""`clearance demo`: the June 2026 timeline replayed for real on a fresh register, then served.

Everything runs on this machine with nothing else installed: SQLite, the gateway with the
packaged fake upstream, real Inspect evals through the gateway, the REST API and the web pages.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from clearance.api._testing import OWN_URL, own_url
from clearance.demo._evals import EvalWorker, framework_text
from clearance.demo._local import (
    LocalModelProcess,
    LocalModelUnavailable,
    require_local_model,
)
from clearance.demo._story import Api, DemoFailed, play
from clearance.errors import InvalidInput
from clearance.server import ADMIN_KEY, app_for, init_data_dir, open_data_dir
from clearance.server._datadir import write_private
from clearance.server._gateway import gateway_first

DEMO_FILE = "demo.json"


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listen(host: str, port: int) -> socket.socket:
    """The demo's listening socket, bound before anything else is done (0 picks a free port)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        hint = "; is another server there? choose another --port" if port else ""
        reason = (exc.strerror or str(exc)).lower()
        raise InvalidInput(f"cannot listen on {host}:{port}: {reason}{hint}") from None
    sock.listen(2048)
    return sock


@contextmanager
def serving(
    data_dir: Path, host: str, port: int, sock: socket.socket | None = None
) -> Iterator[str]:
    """The one-process server for a data folder, in a background thread, on `sock` or a port."""
    sock = sock or listen(host, port)
    port = int(sock.getsockname()[1])
    register = app_for(open_data_dir(data_dir))
    setattr(register.state, OWN_URL, own_url(host, port))
    app = gateway_first(register)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="clearance-demo-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise InvalidInput(f"the server could not start on {host}:{port}")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def prepare(data_dir: Path) -> bool:
    """Create the demo's register; False when the folder already holds a finished demo."""
    if (data_dir / DEMO_FILE).exists():
        return False
    if data_dir.exists() and any(data_dir.iterdir()):
        raise InvalidInput(
            f"{data_dir}: exists and holds something other than a finished demo; "
            "choose a new folder"
        )
    init_data_dir(
        data_dir,
        framework_text=framework_text(),
        origin="demo.clearance.local/log",
        now=dt.datetime.now(dt.UTC),
    )
    return True


def run_story(
    data_dir: Path,
    base_url: str,
    say: Callable[[str], None],
    evals: EvalWorker | None = None,
    progress: Callable[[str], None] | None = None,
    local_model: LocalModelProcess | None = None,
) -> dict[str, Any]:
    """Play the story against a running server and write demo.json; returns its content.

    `evals`: the Inspect processes, started early (see EvalWorker); `progress`: passing status;
    `local_model`: SmolLM2 served in a child process, which the authority's own run then
    reaches as the tested model's pre-release server.
    """
    admin_key = (data_dir / ADMIN_KEY).read_text().strip()
    api = Api(base_url, admin_key)
    try:
        summary = play(api, data_dir, say, evals, progress, local_model)
    finally:
        api.client.close()
    # it holds every principal's key
    write_private(data_dir / DEMO_FILE, json.dumps(summary, indent=2) + "\n")
    return summary


__all__ = [
    "DEMO_FILE",
    "DemoFailed",
    "EvalWorker",
    "LocalModelProcess",
    "LocalModelUnavailable",
    "framework_text",
    "free_port",
    "listen",
    "prepare",
    "require_local_model",
    "run_story",
    "serving",
]
