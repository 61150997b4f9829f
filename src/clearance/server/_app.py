"""One process: the REST API, the clock, and (as they arrive) the gateway, log and web pages."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from fastapi import FastAPI

from clearance.api import Clock, Context, InputLimits, create_app, system_clock
from clearance.server._datadir import DataDir, WitnessConfig
from clearance.server._gateway import GatewaySettings, gateway_settings, install_gateway
from clearance.server._log_routes import find_log, log_router, run_checkpoints
from clearance.server._notices import run_notices
from clearance.server._witnessing import run_witnessing
from clearance.store import Store, run_due
from clearance.web import mount_web

log = logging.getLogger("clearance.server")


async def run_clock(context: Context, interval: float) -> None:
    """Apply due clock transitions every `interval` seconds until cancelled."""
    while True:
        try:
            applied = await asyncio.to_thread(
                run_due, context.store, context.framework_of, context.clock()
            )
            for due in applied:
                log.info("clock applied %s to %s", due.kind, due.subject)
        except Exception:
            log.exception("the clock could not run; it will try again")
        await asyncio.sleep(interval)


def build_app(
    store: Store,
    *,
    clock: Clock = system_clock,
    clock_interval: float | None = 1.0,
    gateway: GatewaySettings | None = None,
    witnesses: Sequence[WitnessConfig] = (),
    witness_poll: float = 0.25,
    witness_interval: float = 1.0,
    leader: bool = True,
    limits: InputLimits | None = None,
) -> FastAPI:
    """The register's app on a store; the clock runs in the background unless interval is None.

    With the clock, a worker delivers webhook notices from the outbox at the same interval.

    With `gateway` settings, the OpenAI-compatible gateway is mounted at /v1 as well; with
    `witnesses`, each new checkpoint is sent to them for cosigning, in the background. Of several
    workers serving one register, only the `leader` runs the clock, the notices, the cosigning
    and timed checkpoints (the clock would apply each transition once anyway: `run_due` claims
    each in the database).
    """
    context = Context(store, clock)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = (
            asyncio.create_task(run_clock(context, clock_interval))
            if clock_interval is not None and leader
            else None
        )
        notices = (
            asyncio.create_task(run_notices(context, clock_interval))
            if clock_interval is not None and leader
            else None
        )
        signer = (
            asyncio.create_task(run_checkpoints(store, transparency, clock))
            if transparency is not None and transparency.checkpoint_interval > 0 and leader
            else None
        )
        cosigning = (
            asyncio.create_task(
                run_witnessing(
                    store, witnesses, clock, poll=witness_poll, interval=witness_interval
                )
            )
            if witnesses and leader
            else None
        )
        async with contextlib.AsyncExitStack() as stack:
            if gateway_running is not None:
                await stack.enter_async_context(gateway_running())
            try:
                yield
            finally:
                for running in (task, notices, signer, cosigning):
                    if running is not None:
                        running.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await running

    transparency = find_log(store)
    app = create_app(context, lifespan=lifespan, limits=limits)
    if transparency is not None:
        app.include_router(log_router(store, transparency))
    gateway_running = install_gateway(app, context, gateway) if gateway is not None else None
    install_health(app, context)
    mount_web(app)
    return app


def install_health(app: FastAPI, context: Context) -> None:
    """GET /healthz: 200 when the database answers (with the gateway's state), else 503."""
    from fastapi.responses import JSONResponse
    from sqlalchemy import text

    def database_answers() -> bool:
        try:
            with context.store.read() as tx:
                tx.connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        body: dict[str, Any] = {"database": await asyncio.to_thread(database_answers)}
        gateway = getattr(app.state, "gateway", None)
        if gateway is not None:
            from clearance.gateway._app import health_body

            body["gateway"] = json.loads(health_body(gateway)[1])
        body["status"] = "serving" if body["database"] else "degraded"
        return JSONResponse(body, status_code=200 if body["database"] else 503)


def app_for(
    data_dir: DataDir,
    *,
    clock_interval: float | None = 1.0,
    gateway: GatewaySettings | None = None,
    leader: bool = True,
    limits: InputLimits | None = None,
) -> FastAPI:
    """The app for an initialized data folder (its gateway settings unless others are given)."""
    return build_app(
        data_dir.open_store(),
        clock_interval=clock_interval,
        gateway=gateway or gateway_settings(data_dir),
        witnesses=data_dir.witnesses,
        leader=leader,
        limits=limits,
    )
