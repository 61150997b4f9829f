"""Serving the standalone gateway with uvicorn, set for the hot path.

`clearance gateway` and bench/gateway.py both serve through `serve`, so that the benchmark
measures the settings that ship.

Tried and left out (profiled at one connection, 2026-11-29): a transport gathering the response
head and body into one `send` (uvicorn writes them separately). It took one `write` per call off
(strace: 3 writes to 2) but added an event-loop turn (`call_soon`, one more `epoll_wait`), and in
interleaved A/B runs against the gateway without it p50 and CPU per call did not move (262 vs
264 µs, 186 µs each), so it was not worth subclassing uvicorn's protocol for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clearance.gateway._workers import AppFactory, run_workers


@dataclass(frozen=True)
class PerWorker:
    """An app built by `make(index)` in each worker process, after the fork."""

    make: AppFactory


def serve(
    app: Any,
    host: str,
    port: int,
    log_level: str = "warning",
    *,
    workers: int = 1,
    on_bound: Callable[[int], None] | None = None,
) -> None:
    """Run a gateway app with uvicorn on uvloop and httptools (both dependencies).

    `app` is an ASGI app, or `PerWorker(make)` to build each worker's app in that worker (its
    own follower, connections and spool); an app built before the fork is copied into each.

    No access log (a log line per call costs, and is the callers' traffic); no proxy-headers
    middleware (the gateway never reads the client address); no `server` header (one header
    less to build and check per answer, and nothing to advertise); no WebSocket support (the
    gateway has no WebSocket route).
    """
    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:  # pragma: no cover - Windows
        loop = "asyncio"
    factory: AppFactory = app.make if isinstance(app, PerWorker) else (lambda _: app)
    run_workers(
        factory,
        host,
        port,
        workers,
        on_bound=on_bound,
        log_level=log_level,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        ws="none",
        loop=loop,
        http="httptools",
    )
