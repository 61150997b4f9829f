"""Fixtures for gateway tests: a real register + gateway on a port, and principals to call it."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from clearance.api import system_clock
from clearance.server import build_app, init_data_dir
from clearance.server._gateway import GatewaySettings, gateway_first, gateway_token
from tests.register_fixtures import FakeClock, Register

WEIGHTS = "cd" * 32
DEV_GROUP = ("tier-1", "tier-2")


class Served:
    """An ASGI app served by uvicorn on 127.0.0.1, port 0, in a thread of its own."""

    def __init__(self, app: Any, **options: Any) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", **options
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


@dataclass
class Deployment:
    """A register with its gateway at /v1, served on a real port, and the cast's keys."""

    reg: Register
    served: Served
    app: Any
    token: str
    data: Path

    @property
    def v1(self) -> str:
        return f"{self.served.url}/v1"

    def key(self, who: str) -> str:
        return self.reg.keys[who]

    def gateway_call(
        self, who: str | None, path: str, body: Any = None, **kwargs: Any
    ) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if who is not None:
            headers["Authorization"] = f"Bearer {self.reg.keys[who]}"
        use_case = kwargs.pop("use_case", None)
        if use_case is not None:
            headers["X-Clearance-Use-Case"] = use_case
        if body is None and "content" not in kwargs:
            return httpx.get(f"{self.v1}{path}", headers=headers, timeout=30, **kwargs)
        if body is not None:
            kwargs["json"] = body
        return httpx.post(f"{self.v1}{path}", headers=headers, timeout=30, **kwargs)

    def wait_for_snapshot_with(self, predicate: Any, timeout: float = 1.0) -> float:
        """Seconds until the gateway's snapshot satisfies `predicate`; fails after `timeout`."""
        gateway = self.app.state.gateway
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if gateway.snapshot is not None and predicate(gateway.snapshot):
                return time.monotonic() - start
            time.sleep(0.01)
        raise AssertionError("the gateway did not get the snapshot in time")


def chat(model: str, text: str = "hello there", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


def approve(
    reg: Register, model: str, tier: str, jurisdictions: tuple[str, ...], **config: Any
) -> None:
    """Register a model for Atlas Labs (`config`: more of its fields) and approve it at a tier
    through the API."""
    body = {"name": model, "version": "1.0", "weights_digest": WEIGHTS} | config
    reg.ok("dev", "POST", "/models", json=body)
    application = reg.ok(
        "dev",
        "POST",
        "/applications",
        json={"model": model, "requested_tier": tier, "requested_jurisdictions": list(DEV_GROUP)},
    )
    reg.ok("reviewer", "POST", f"/applications/{application['id']}/assign", json={})
    reg.ok(
        "reviewer",
        "POST",
        f"/applications/{application['id']}/decision",
        json={
            "outcome": "approved",
            "tier": tier,
            "jurisdictions": list(jurisdictions),
            "reasons": [{"text": "No evaluations filed yet.", "rules": ["evidence.missing"]}],
            "justification": "Gateway test fixture: the evaluations are out of scope here.",
        },
    )


def start_deployment(
    tmp_path: Path,
    *,
    ttl: float = 300.0,
    max_body: int = 64 * 1024,
    clock_offset: list[float],
    redis_url: str | None = None,
    database_url: str | None = None,
    register_clock: FakeClock | None = None,
) -> Deployment:
    """A served register and gateway; `register_clock` drives the register's clock by hand."""
    folder, admin_key = init_data_dir(
        tmp_path / "data",
        database_url=database_url,
        origin="test.example/log",
        now=dt.datetime.now(dt.UTC),
    )
    store = folder.open_store()
    token = gateway_token(folder.path)
    settings = GatewaySettings(
        signing_key=lambda: folder.signing_key,
        token=token,
        ttl=ttl,
        max_body=max_body,
        clock=lambda: time.time() + clock_offset[0],
        redis_url=redis_url,
    )
    clock = register_clock or system_clock
    app = build_app(store, clock=clock, clock_interval=None, gateway=settings)
    served = Served(gateway_first(app))
    client = httpx.Client(base_url=served.url, timeout=30)
    reg = Register(client, register_clock or FakeClock(), folder, keys={"admin": admin_key})  # type: ignore[arg-type]
    reg.ids["Release Authority"] = reg.ok("admin", "GET", "/principals/me")["organization_id"]
    reg.add_org("Atlas Labs", "developer")
    reg.add_org("Agency One", "partner", sector="government")
    reg.add_org("Far Partner", "partner", "BR")
    reg.add_org("Embargoed Co", "partner", "KP")
    reg.add_principal("dev", "Atlas Labs", "developer")
    reg.add_principal("reviewer", "Release Authority", "reviewer")
    reg.add_principal("partner", "Agency One", "partner")
    reg.add_principal("far", "Far Partner", "partner")
    reg.add_principal("embargoed", "Embargoed Co", "partner")
    approve(reg, "atlas-public", "public", ("tier-1", "tier-2"))
    approve(reg, "atlas-tier1", "public", ("tier-1",))
    approve(reg, "atlas-partners", "approved_partners", ("tier-1", "tier-2"))
    approve(reg, "atlas-internal", "internal", ("tier-1",))
    deployment = Deployment(reg, served, app, token, folder.path)
    # the last decision must be in the snapshot, not only the model it approves
    deployment.wait_for_snapshot_with(
        lambda s: "atlas-internal" in s.models and s.models["atlas-internal"].tier is not None,
        timeout=5,
    )
    return deployment


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    """A register with its gateway and the packaged fake upstream, on a real port."""
    offset = [0.0]
    deployed = start_deployment(tmp_path, clock_offset=offset)
    deployed.app.state.clock_offset = offset
    try:
        yield deployed
    finally:
        deployed.reg.client.close()
        deployed.served.stop()
        with contextlib.suppress(Exception):
            deployed.app.state.snapshots.context.store.engine.dispose()


@pytest.fixture
def clocked_deployment(tmp_path: Path) -> Iterator[Deployment]:
    """A register with its gateway on a real port, its clock a FakeClock the test advances."""
    clock = FakeClock(dt.datetime.now(dt.UTC))
    deployed = start_deployment(tmp_path, clock_offset=[0.0], register_clock=clock)
    try:
        yield deployed
    finally:
        deployed.reg.client.close()
        deployed.served.stop()


def run_async(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


class FakeUpstreamThread:
    """The packaged fake upstream in an event loop of its own thread."""

    def __init__(self, api_key: str = "") -> None:
        from clearance.gateway import fake_upstream

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(fake_upstream.start(api_key=api_key), self.loop)
        self.runner, self.url = future.result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
