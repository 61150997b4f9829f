"""The gateway as its own server: /v1 for model calls, /metrics, /healthz."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from clearance.gateway._metering import MeterCollector
from clearance.gateway._proxy import Gateway, Receive, Scope, Send, _send

Task = Callable[[], Coroutine[Any, Any, None]]


def metrics_registry(gateway: Gateway) -> CollectorRegistry:
    """A Prometheus registry exposing the gateway's meter."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(MeterCollector(gateway.meter))
    return registry


class GatewayServer:
    """ASGI app for a standalone gateway, running background tasks (the follower) with it."""

    def __init__(self, gateway: Gateway, tasks: Sequence[Task] = ()) -> None:
        self.gateway = gateway
        self.tasks = tuple(tasks)
        self.registry = metrics_registry(gateway)
        self._running: list[asyncio.Task[None]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        if scope["type"] != "http":
            return None
        path = scope["path"]
        if path.startswith("/v1/"):
            return await self.gateway(scope, receive, send)
        if path == "/metrics":
            body = generate_latest(self.registry)
            return await _send(send, 200, [(b"content-type", CONTENT_TYPE_LATEST.encode())], body)
        if path == "/healthz":
            snapshot = self.gateway.snapshot
            now = self.gateway.clock()
            fresh = snapshot is not None and now < snapshot.expires_at
            body = json.dumps(
                {
                    "snapshot": None if snapshot is None else snapshot.version,
                    "expires_at": None if snapshot is None else snapshot.expires_at,
                    "serving": fresh,
                }
            ).encode()
            status = 200 if fresh else 503
            return await _send(send, status, [(b"content-type", b"application/json")], body)
        return await self.gateway(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._running = [asyncio.create_task(task()) for task in self.tasks]
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for running in self._running:
                    running.cancel()
                for running in self._running:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await running
                await self.gateway.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
