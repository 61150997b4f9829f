"""The register's side of the gateway: the signed snapshot, its routes, and usage totals.

`SnapshotPublisher` compiles the policy snapshot from the store, signs it with the authority key
(a DSSE envelope) and hands it to the in-process gateway; a store hook marks it stale on every
change, so a directive reaches the gateway within a second. Replicas fetch the same envelope
from GET /api/v1/snapshot, which needs the gateway token (the snapshot carries each API key's
id, holder and secret digest: not secrets, but not for the public either).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from clearance.api import Context
from clearance.api._auth import Caller, Ctx
from clearance.api._errors import authenticates
from clearance.errors import InvalidInput, NotFound, Unauthorized
from clearance.framework import Framework
from clearance.gateway import (
    CHANNEL,
    DEFAULT_MAX_BODY,
    UPSTREAMS_FILE,
    Gateway,
    LocalLimiter,
    Meter,
    RedisLimiter,
    SharedLimiter,
    Spool,
    Upstream,
    Upstreams,
    UsageRow,
    error_json,
    metrics_registry,
    misdirected,
    redis_client,
    snapshot_etag,
)
from clearance.gateway._follow import PUSH_LIMIT
from clearance.ledger import SigningKey, sign_envelope
from clearance.policy import (
    PAYLOAD_TYPE,
    Snapshot,
    build_snapshot,
    compile_content,
)
from clearance.register import Grant, ModelConfig, ModelStatus, Organization
from clearance.server._datadir import DataDir
from clearance.server._usage import UsageReport, record_range, record_usage
from clearance.store import Store, Transaction
from clearance.store import _tables as t

log = logging.getLogger("clearance.server")

GATEWAY_TOKEN = "gateway.token"
DEFAULT_TTL = 300.0


def gateway_token(folder: Path) -> str:
    """The token replicas present to fetch the snapshot; made on first use, owner-readable."""
    path = folder / GATEWAY_TOKEN
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"clrgw_{secrets.token_urlsafe(32)}\n")
    return path.read_text().strip()


@dataclass
class GatewaySettings:
    """How the one-process server runs its gateway."""

    signing_key: Callable[[], SigningKey]
    token: str
    upstreams: Upstreams = field(default_factory=lambda: Upstreams({}))
    fake_upstream: bool = True
    """Start the packaged fake upstream for models with no upstream configured."""
    ttl: float = DEFAULT_TTL
    """Seconds a snapshot stays valid; a gateway that gets no newer one refuses after that."""
    max_body: int = DEFAULT_MAX_BODY
    redis_url: str | None = None
    clock: Callable[[], float] | None = None
    """The gateway's clock (epoch seconds); the register's clock by default."""
    spool_dir: Path | None = None
    """The usage journal's folder (each call counted once, a killed process included)."""
    shared_limits: SharedLimiter | None = None
    """Rate-limit counters shared by this server's workers (made before they fork)."""
    replica: str | None = None
    """This server's name among the replicas counted in Redis (its workers share it)."""
    watch_database: bool = False
    """Also look for changes in the database itself: other workers' acts raise no hook here."""


SNAPSHOT_NAME = "policy"
"""The row of `snapshot_versions` that keeps the policy snapshot's version."""
VERSION_RETRIES = 5


def _compile(tx: Transaction, context: Context, now: dt.datetime) -> tuple[dict[str, Any], int]:
    """The snapshot's content as the register stands in `tx`, and the newest event's number."""
    try:
        framework: Framework | None = context.framework(tx)[1]
    except NotFound:  # none published yet (`clearance init` without one)
        framework = None
    keys = tx.valid_keys(now)
    principals = [(p, key_id, digest) for p, key_id, digest, _ in keys]
    ending = {key_id: ends for _, key_id, _, ends in keys if ends is not None}
    content = compile_content(
        framework=framework,
        organizations=tx.find(Organization),
        principals=principals,
        models=tx.find(ModelConfig),
        statuses=tx.find(ModelStatus),
        grants=[g for g in tx.find(Grant) if g.state != "revoked"],
        now=now,
        key_expiry=ending,
    )
    seq = int(tx.connection.scalar(select(func.max(t.events.c.seq))) or 0)
    return content, seq


def _stored_version(tx: Transaction, *, lock: bool = False) -> tuple[int, str] | None:
    query = select(t.snapshot_versions.c.version, t.snapshot_versions.c.digest).where(
        t.snapshot_versions.c.name == SNAPSHOT_NAME
    )
    row = tx.connection.execute(query.with_for_update() if lock else query).first()
    return None if row is None else (int(row.version), str(row.digest))


def _next_version(
    store: Store, context: Context, now: dt.datetime, expires: dt.datetime
) -> Snapshot:
    """Compile again holding the version row, and give new content the next version.

    SQLite's writers are serialized (BEGIN IMMEDIATE); on PostgreSQL the row is locked (FOR
    UPDATE), and two processes inserting the first row at once clash on its key: the loser
    tries again. So compilers take turns, each reads the register as the last one left it, and
    a version is never given to two contents.
    """
    for attempt in range(VERSION_RETRIES):
        try:
            with store.transaction() as tx:
                stored = _stored_version(tx, lock=True)
                content, seq = _compile(tx, context, now)
                snapshot = build_snapshot(content, version=0, issued_at=now, expires_at=expires)
                if stored is not None and stored[1] == snapshot.digest:
                    return replace(snapshot, version=stored[0])
                version = max(seq, 1 if stored is None else stored[0] + 1)
                row = {"version": version, "digest": snapshot.digest, "updated_at": now}
                if stored is None:
                    tx.connection.execute(
                        insert(t.snapshot_versions).values(name=SNAPSHOT_NAME, **row)
                    )
                else:
                    tx.connection.execute(
                        update(t.snapshot_versions)
                        .where(t.snapshot_versions.c.name == SNAPSHOT_NAME)
                        .values(**row)
                    )
                return replace(snapshot, version=version)
        except IntegrityError:
            if attempt == VERSION_RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def compile_snapshot(store: Store, context: Context, *, ttl: float) -> Snapshot:
    """The snapshot of the register as it stands now.

    Its version is kept in the database (`snapshot_versions`) with the content's digest: the
    same content keeps its version, new content takes the next one (and never less than the
    newest event's number). A restarted register, or another worker of the same server, so
    signs what replicas will take: never an older version for newer content, never one version
    for two contents. Only new content costs a write; the common case is one read transaction.
    """
    now = context.clock()
    expires = now + dt.timedelta(seconds=ttl)
    with store.read() as tx:
        content, _ = _compile(tx, context, now)
        stored = _stored_version(tx)
    snapshot = build_snapshot(content, version=0, issued_at=now, expires_at=expires)
    if stored is not None and stored[1] == snapshot.digest:
        return replace(snapshot, version=stored[0])
    return _next_version(store, context, now, expires)


class SnapshotPublisher:
    """Keeps a signed snapshot of the register current and hands it to listeners."""

    def __init__(
        self,
        context: Context,
        signing_key: Callable[[], SigningKey],
        *,
        ttl: float = DEFAULT_TTL,
        listeners: list[Callable[[bytes], None]] | None = None,
    ) -> None:
        self.context = context
        self.signing_key = signing_key
        self.ttl = ttl
        self.listeners = listeners or []
        self.snapshot: Snapshot | None = None
        self.envelope = b""
        self.signed = 0
        """How many snapshots this publisher has signed."""
        self._changes = 0
        self._compiled = -1
        """The count of changes the last compile began after (-1: none yet)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._signed = asyncio.Event()

    def changed(self) -> None:
        """The register committed a change, so the snapshot is stale (called from any thread)."""
        self._changes += 1
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nothing waits
                loop.call_soon_threadsafe(self._wake.set)

    async def published(self, after: int) -> int:
        """Wait until more than `after` snapshots have been signed; returns how many have.

        Counted, not told apart by `issued_at`: two signed within the same instant (a clock
        that does not move) are two to announce.
        """
        while self.signed == after:
            self._signed.clear()
            await self._signed.wait()
        return self.signed

    def refresh(self) -> bool:
        """Compile, and sign when the snapshot changed or half the validity has passed."""
        self._compiled = self._changes  # what this compile sees at the least
        current = self.snapshot
        fresh = compile_snapshot(self.context.store, self.context, ttl=self.ttl)
        if current is not None:
            if fresh.version < current.version:  # the database went back (a restored backup)
                log.warning(
                    "the register's snapshot version %d is older than the one signed here (%d); "
                    "keeping this one",
                    fresh.version,
                    current.version,
                )
                return False
            if (fresh.version, fresh.digest) == (current.version, current.digest):
                half = current.issued_at + (current.expires_at - current.issued_at) / 2
                if fresh.issued_at < half:
                    return False
        envelope = sign_envelope(fresh.payload(), PAYLOAD_TYPE, self.signing_key()).to_json()
        self.snapshot, self.envelope = fresh, envelope
        self.signed += 1
        for listener in self.listeners:
            try:
                listener(envelope)
            except Exception:
                log.exception("a snapshot listener failed")
        return True

    def _newest_event(self) -> int:
        with self.context.store.read() as tx:
            return int(tx.connection.scalar(select(func.max(t.events.c.seq))) or 0)

    async def run(
        self,
        *,
        recheck: float = 0.3,
        periodic: float | None = None,
        watch_database: float | None = None,
    ) -> None:
        """Recompile as soon as a change commits (and once more `recheck` s after, for a commit
        made by another process), and every `periodic` s to keep the signature fresh.

        With `watch_database` (seconds), changes are also found by the newest event's number
        in the database: acts applied by another process raise no callback in this one.
        """
        self._loop = asyncio.get_running_loop()
        self._wake, self._signed = asyncio.Event(), asyncio.Event()  # this loop's
        if periodic is None:
            periodic = min(5.0, self.ttl / 4)
        # a change committed since the last compile (the one at start-up) is not yet seen
        seen = self._compiled
        recheck_at = 0.0
        last = time.monotonic()
        newest = -1
        looked = 0.0
        while True:
            now = time.monotonic()
            deadlines = [last + periodic]
            if recheck_at:
                deadlines.append(recheck_at)
            if watch_database is not None:
                deadlines.append(looked + watch_database)
            if self._changes == seen:  # else a change is waiting already: no sleep
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), max(0.0, min(deadlines) - now))
            self._wake.clear()
            now = time.monotonic()
            if watch_database is not None and now - looked >= watch_database:
                looked = now
                with contextlib.suppress(Exception):
                    found = await asyncio.to_thread(self._newest_event)
                    if found != newest:
                        if newest >= 0:
                            self._changes += 1
                        newest = found
            changed = self._changes != seen
            due = changed or (recheck_at and now >= recheck_at) or now - last >= periodic
            if not due:
                continue
            seen = self._changes
            recheck_at = now + recheck if changed else 0.0
            last = now
            try:
                if await asyncio.to_thread(self.refresh):
                    self._signed.set()
            except Exception:
                log.exception("the snapshot could not be compiled; the last one stays")


def gateway_routes(publisher: SnapshotPublisher, token: str) -> APIRouter:
    """GET /snapshot and POST /usage for replicas (gateway token); GET /usage for principals."""
    router = APIRouter()

    def require_gateway(request: Request) -> None:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            presented.strip().encode(), token.encode()
        ):
            raise Unauthorized("this needs the gateway token (gateway.token in the data folder)")

    authenticates(require_gateway, require_gateway)

    @router.get("/snapshot", tags=["gateway"], dependencies=[Depends(require_gateway)])
    def snapshot(request: Request) -> Response:
        """The signed policy snapshot (DSSE envelope) for gateway replicas (gateway token)."""
        current = publisher.snapshot
        if current is None:
            publisher.refresh()
            current = publisher.snapshot
        assert current is not None
        etag = snapshot_etag(current)
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(
            publisher.envelope,
            media_type="application/json",
            headers={"ETag": etag, "Cache-Control": "no-store"},
        )

    @router.post("/usage", tags=["gateway"], dependencies=[Depends(require_gateway)])
    def report_usage(body: UsageReport, ctx: Ctx) -> dict[str, int | None]:
        """Usage totals from a gateway replica (gateway token).

        With `source`, `from` and `to` (a range of the replica's usage journal) the rows are
        added only if `from` is where that source's last applied range ended; `position` is where
        the source stands afterwards, so a repeated report counts once. Without them the rows
        are added as sent (`position` null).
        """
        if body.source is None:
            record_usage(ctx.store, body.usage_rows(), ctx.clock())
            return {"position": None}
        if body.end < body.start:
            raise InvalidInput("'to' must not be before 'from'")
        position = record_range(
            ctx.store, body.source, body.start, body.end, body.usage_rows(), ctx.clock()
        )
        return {"position": position}

    @router.get("/usage", tags=["gateway"])
    def usage(caller: Caller, ctx: Ctx) -> dict[str, Any]:
        """Gateway usage totals: all of them for the authority, one's own otherwise."""
        query = select(t.usage).order_by(t.usage.c.model, t.usage.c.organization_id)
        if not {"admin", "reviewer"} & set(caller.roles):
            query = query.where(t.usage.c.organization_id == caller.organization_id)
        with ctx.store.read() as tx:
            rows = list(tx.connection.execute(query))
        return {
            "items": [
                {
                    "model": r.model,
                    "organization_id": r.organization_id,
                    "grant_id": None if r.grant_id == "-" else r.grant_id,
                    "calls": r.calls,
                    "failures": r.failures,
                    "prompt_tokens": r.prompt_tokens,
                    "completion_tokens": r.completion_tokens,
                    "refusals": r.refusals,
                }
                for r in rows
            ]
        }

    return router


def install_gateway(
    app: FastAPI, context: Context, settings: GatewaySettings
) -> Callable[[], contextlib.AbstractAsyncContextManager[None]]:
    """Mount the gateway at /v1, its routes and /metrics; returns the context to run it in."""
    from prometheus_client import generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    register_clock = context.clock
    limiter: Any = settings.shared_limits or LocalLimiter()
    if settings.redis_url:
        limiter = RedisLimiter(
            redis_client(settings.redis_url),
            fallback=settings.shared_limits,
            replica=settings.replica,
        )
    spool = Spool(settings.spool_dir) if settings.spool_dir is not None else None
    key = settings.signing_key()
    gateway = Gateway(
        upstreams=settings.upstreams,
        trusted=[key.verifier],
        limiter=limiter,
        meter=Meter(spool),
        clock=settings.clock or (lambda: register_clock().timestamp()),
        max_body=settings.max_body,
    )

    def install(envelope: bytes) -> None:
        gateway.trusted = (settings.signing_key().verifier,)
        gateway.install(envelope)

    publisher = SnapshotPublisher(
        context, settings.signing_key, ttl=settings.ttl, listeners=[install]
    )
    context.store.committed.append(publisher.changed)
    app.state.gateway = gateway
    app.state.snapshots = publisher
    app.include_router(gateway_routes(publisher, settings.token), prefix="/api/v1")
    registry = metrics_registry(gateway)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.mount("/v1", gateway)

    @contextlib.asynccontextmanager
    async def running() -> AsyncIterator[None]:
        runner = None
        if settings.fake_upstream and settings.upstreams.for_model("*") is None:
            from clearance.gateway import fake_upstream

            runner, url = await fake_upstream.start()
            gateway.set_upstreams(settings.upstreams.with_default(Upstream(url)))
        await asyncio.to_thread(publisher.refresh)
        watch = 0.2 if settings.watch_database else None
        tasks = [asyncio.create_task(publisher.run(watch_database=watch))]
        tasks.append(asyncio.create_task(_flush_usage(gateway, context)))
        if isinstance(limiter, RedisLimiter):
            tasks.append(asyncio.create_task(limiter.run()))
        if settings.redis_url:
            tasks.append(asyncio.create_task(_announce(publisher, settings.redis_url)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            with contextlib.suppress(Exception):
                await _report_usage(gateway, context)
            if spool is not None:
                spool.close()
            await gateway.close()
            if runner is not None:
                await runner.cleanup()

    return running


class GatewayFirst:
    """ASGI: /v1 calls go straight to the gateway; everything else to the register's app.

    The gateway is mounted in the FastAPI app as well (for in-process clients); served this way,
    a model call skips Starlette's middleware and routing, which cost more than the decision.
    """

    def __init__(self, app: FastAPI, gateway: Gateway) -> None:
        self.app = app
        self.gateway = gateway

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path.startswith("/v1/"):
                return await self.gateway(scope, receive, send)
            hint = misdirected(path, scope["method"])
            if hint is not None:  # an OpenAI client given the wrong base URL
                body = error_json(404, "unknown_url", hint)
                headers = [(b"content-type", b"application/json")]
                await send({"type": "http.response.start", "status": 404, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return None
        return await self.app(scope, receive, send)


def gateway_first(app: FastAPI) -> Any:
    """The app to serve: with its gateway (if installed) dispatched ahead of FastAPI."""
    gateway = getattr(app.state, "gateway", None)
    return app if gateway is None else GatewayFirst(app, gateway)


async def _report_usage(gateway: Gateway, context: Context) -> None:
    spool = gateway.meter.spool
    if isinstance(spool, Spool):

        async def send(source: str, start: int, end: int, rows: list[UsageRow]) -> int:
            return await asyncio.to_thread(
                record_range, context.store, source, start, end, rows, context.clock()
            )

        await spool.report(send)
        return
    rows = gateway.meter.drain()
    try:
        await asyncio.to_thread(record_usage, context.store, rows, context.clock())
    except Exception:
        gateway.meter.restore(rows)
        raise


async def _flush_usage(gateway: Gateway, context: Context, interval: float = 2.0) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await _report_usage(gateway, context)
        except Exception:
            log.exception("usage totals could not be written; they will be retried")


async def _announce(publisher: SnapshotPublisher, redis_url: str) -> None:
    """Push each newly signed snapshot to the replicas on Redis as soon as it is signed."""
    client = redis_client(redis_url)
    announced = 0
    try:
        while True:
            signed = await publisher.published(announced)
            current, envelope = publisher.snapshot, publisher.envelope
            assert current is not None
            message = envelope if len(envelope) <= PUSH_LIMIT else str(current.version).encode()
            try:
                await client.publish(CHANNEL, message)
                announced = signed
            except Exception as exc:
                log.warning("could not announce the snapshot on redis: %s", exc)
                await asyncio.sleep(1.0)
    finally:
        await client.aclose()


def gateway_settings(data_dir: DataDir, *, redis_url: str | None = None) -> GatewaySettings:
    """The gateway's settings from a data folder: upstreams.json, the token, clearance.json.

    clearance.json may carry `"gateway": {"snapshot_ttl": 300, "max_body": 4194304}`. The usage
    journal is kept in the folder's `spool/`.
    """
    import json

    settings = json.loads((data_dir.path / "clearance.json").read_text()).get("gateway", {})
    return GatewaySettings(
        signing_key=lambda: data_dir.signing_key,
        token=gateway_token(data_dir.path),
        upstreams=Upstreams.load(data_dir.path / UPSTREAMS_FILE),
        ttl=float(settings.get("snapshot_ttl", DEFAULT_TTL)),
        max_body=int(settings.get("max_body", DEFAULT_MAX_BODY)),
        redis_url=redis_url or settings.get("redis_url"),
        spool_dir=data_dir.path / "spool",
    )
