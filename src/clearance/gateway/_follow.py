"""A replica follows the register: it fetches the signed snapshot, and reports usage totals.

Polling with an ETag is the floor (every `interval` seconds, 304 when nothing changed); with
Redis, the register also pushes each newly signed snapshot on a channel and the replica installs
it at once, verified like a fetched one (a snapshot too large to push is announced by its
version, and fetched). When the register cannot be reached the replica keeps its last
snapshot, which refuses every call once it expires: fail closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import aiohttp

from clearance.gateway._metering import UsageRow
from clearance.gateway._proxy import Gateway, SnapshotRefused
from clearance.gateway._spool import Spool
from clearance.policy import Snapshot

log = logging.getLogger("clearance.gateway")

SNAPSHOT_PATH = "/api/v1/snapshot"
USAGE_PATH = "/api/v1/usage"
CHANNEL = "clearance:snapshot"
PUSH_LIMIT = 1 << 20
"""A signed snapshot up to this size is pushed whole on Redis (a replica installs it without a
round trip to the register); a larger one is announced by its version, and fetched. A replica
parses nothing larger from the channel, whoever published it."""


def snapshot_etag(snapshot: Snapshot) -> str:
    """The ETag the register serves a snapshot under (a replica that installs a pushed one
    keeps it, so that its next poll is answered 304)."""
    return f'"{snapshot.version}.{snapshot.digest[:16]}.{int(snapshot.issued_at)}"'


class Follower:
    """Keeps a gateway's snapshot current from a register over HTTP (and Redis, if given)."""

    def __init__(
        self,
        gateway: Gateway,
        register_url: str,
        token: str,
        *,
        interval: float = 0.5,
        usage_interval: float = 5.0,
        redis_url: str | None = None,
    ) -> None:
        self.gateway = gateway
        self.register_url = register_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"}
        self.interval = interval
        self.usage_interval = usage_interval
        self.redis_url = redis_url
        self._etag = ""
        self._wake = asyncio.Event()
        self._reachable: bool | None = None

    async def fetch(self, session: aiohttp.ClientSession) -> bool:
        """Fetch the snapshot once; True when a new one was installed."""
        headers = dict(self.headers)
        if self._etag:
            headers["If-None-Match"] = self._etag
        async with session.get(self.register_url + SNAPSHOT_PATH, headers=headers) as response:
            if response.status == 304:
                return False
            if response.status != 200:
                raise RuntimeError(f"the register answered {response.status}")
            body = await response.read()
            etag = response.headers.get("ETag", "")
        installed = self.gateway.install(body)
        self._etag = etag
        return installed

    async def run(self) -> None:
        """Follow until cancelled."""
        timeout = aiohttp.ClientTimeout(total=max(2.0, self.interval * 4))
        async with aiohttp.ClientSession(timeout=timeout) as session:
            tasks = [asyncio.create_task(self._report(session))]
            if self.redis_url:
                tasks.append(asyncio.create_task(self._listen()))
            try:
                while True:
                    try:
                        if await self.fetch(session):
                            snapshot = self.gateway.snapshot
                            assert snapshot is not None
                            log.info("snapshot %s installed", snapshot.version)
                        self._mark(True)
                    except SnapshotRefused as exc:
                        log.error("%s", exc)
                    except Exception as exc:
                        self._mark(False, exc)
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.interval)
                    self._wake.clear()
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
                # shutting down: report what is left (a journal keeps it otherwise)
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(self.report(session), 5.0)

    def _mark(self, reachable: bool, exc: Exception | None = None) -> None:
        if reachable != self._reachable:
            if reachable:
                log.info("the register at %s is reachable", self.register_url)
            else:
                log.warning(
                    "the register at %s is unreachable (%s); serving the last snapshot until "
                    "it expires",
                    self.register_url,
                    type(exc).__name__ if exc else "?",
                )
        self._reachable = reachable

    async def _report(self, session: aiohttp.ClientSession) -> None:
        while True:
            await asyncio.sleep(self.usage_interval)
            await self.report(session)

    async def report(self, session: aiohttp.ClientSession) -> None:
        """Send the usage totals since the last report; keep them for later if it fails."""
        spool = self.gateway.meter.spool
        if isinstance(spool, Spool):

            async def send(source: str, start: int, end: int, rows: list[UsageRow]) -> int:
                payload = {
                    "source": source,
                    "from": start,
                    "to": end,
                    "rows": [r.to_json() for r in rows],
                }
                async with session.post(
                    self.register_url + USAGE_PATH,
                    data=json.dumps(payload),
                    headers={**self.headers, "Content-Type": "application/json"},
                ) as response:
                    if response.status >= 300:
                        raise RuntimeError(f"the register answered {response.status}")
                    return int((await response.json())["position"])

            try:
                await spool.report(send)
            except Exception as exc:
                log.warning("usage could not be reported (%s); it stays in the journal", exc)
            return
        rows = self.gateway.meter.drain()
        if not rows:
            return
        payload: dict[str, Any] = {"rows": [r.to_json() for r in rows]}
        try:
            async with session.post(
                self.register_url + USAGE_PATH,
                data=json.dumps(payload),
                headers={**self.headers, "Content-Type": "application/json"},
            ) as response:
                if response.status >= 300:
                    raise RuntimeError(f"the register answered {response.status}")
        except Exception:
            self.gateway.meter.restore(rows)

    def _pushed(self, data: Any) -> None:
        """A message on the channel: the signed snapshot itself (installed at once, verified
        like a fetched one) or a version number, or anything else (fetched)."""
        if isinstance(data, bytes) and data.startswith(b"{") and len(data) <= PUSH_LIMIT:
            try:
                if self.gateway.install(data):
                    snapshot = self.gateway.snapshot
                    assert snapshot is not None
                    self._etag = snapshot_etag(snapshot)
                    log.info("snapshot %s installed (pushed)", snapshot.version)
                return
            except SnapshotRefused as exc:
                log.warning("a pushed %s; fetching from the register", exc)
        self._wake.set()

    async def _listen(self) -> None:
        import redis.asyncio as aioredis

        health = self.gateway.health
        while True:
            client = aioredis.from_url(
                self.redis_url or "", socket_connect_timeout=1.0, health_check_interval=5
            )
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    if health.recover("snapshot_push"):
                        log.info("snapshot pushes through redis again")
                        self._wake.set()  # anything missed meanwhile
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._pushed(message.get("data"))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if health.degrade(
                    "snapshot_push",
                    f"the Redis subscription failed ({type(exc).__name__}); polling the "
                    f"register every {self.interval:g} s",
                ):
                    log.warning("redis subscription failed (%s); polling only", exc)
                await asyncio.sleep(min(1.0, self.interval * 4))
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()
