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

from typing import Any


def serve(app: Any, host: str, port: int, log_level: str = "warning") -> None:
    """Run a gateway app with uvicorn on uvloop and httptools (both dependencies).

    No access log (a log line per call costs, and is the callers' traffic); no proxy-headers
    middleware (the gateway never reads the client address); no `server` header (one header
    less to build and check per answer, and nothing to advertise); no WebSocket support (the
    gateway has no WebSocket route).
    """
    import uvicorn

    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:  # pragma: no cover - Windows
        loop = "asyncio"
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        ws="none",
        loop=loop,
        http="httptools",
    )
