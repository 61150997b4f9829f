"""The gateway as its own server: /v1 for model calls, /metrics, /healthz."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from clearance.gateway._health import Health
from clearance.gateway._metering import MeterCollector
from clearance.gateway._proxy import Gateway, Receive, Scope, Send, _send

Task = Callable[[], Coroutine[Any, Any, None]]
PARTS = ("redis", "snapshot_push")


class HealthCollector(Collector):
    """Exposes a gateway's degraded parts and fallback counts to Prometheus."""

    def __init__(self, health: Health) -> None:
        self._health = health

    def collect(self) -> Iterator[Any]:
        degraded = GaugeMetricFamily(
            "clearance_gateway_degraded",
            "1 while the gateway serves without a part (and falls back), else 0.",
            labels=["part"],
        )
        for part in sorted({*PARTS, *self._health.degraded}):
            degraded.add_metric([part], 1 if part in self._health.degraded else 0)
        errors = CounterMetricFamily(
            "clearance_gateway_redis_errors", "Redis calls that failed (rate limits, heartbeats)."
        )
        errors.add_metric([], self._health.redis_errors)
        fallback = CounterMetricFamily(
            "clearance_gateway_fallback_admissions",
            "Rate-limit decisions taken in the per-replica fallback while Redis was unreachable.",
        )
        fallback.add_metric([], self._health.fallback_admissions)
        yield from (degraded, errors, fallback)


def metrics_registry(gateway: Gateway) -> CollectorRegistry:
    """A Prometheus registry exposing the gateway's meter and health."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(MeterCollector(gateway.meter))
    registry.register(HealthCollector(gateway.health))
    return registry


def health_body(gateway: Gateway) -> tuple[int, bytes]:
    """/healthz: 200 while the snapshot is valid (degraded or not), else 503."""
    snapshot = gateway.snapshot
    now = gateway.clock()
    fresh = snapshot is not None and now < snapshot.expires_at
    degraded = dict(gateway.health.degraded)
    state = "refusing" if not fresh else "degraded" if degraded else "serving"
    body = json.dumps(
        {
            "status": state,
            "snapshot": None if snapshot is None else snapshot.version,
            "expires_at": None if snapshot is None else snapshot.expires_at,
            "serving": fresh,
            "degraded": degraded,
        }
    ).encode()
    return (200 if fresh else 503), body


class GatewayServer:
    """ASGI app for a standalone gateway, running background tasks (the follower) with it."""

    def __init__(
        self, gateway: Gateway, tasks: Sequence[Task] = (), *, startup_wait: float = 10.0
    ) -> None:
        self.gateway = gateway
        self.tasks = tuple(tasks)
        self.startup_wait = startup_wait
        """Seconds startup waits for a first snapshot (a worker takes no connection before)."""
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
            status, body = health_body(self.gateway)
            return await _send(send, status, [(b"content-type", b"application/json")], body)
        return await self.gateway(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._running = [asyncio.create_task(task()) for task in self.tasks]
                if self.tasks:
                    deadline = time.monotonic() + self.startup_wait
                    while self.gateway.snapshot is None and time.monotonic() < deadline:
                        await asyncio.sleep(0.02)
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
