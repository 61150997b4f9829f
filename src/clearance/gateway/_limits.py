"""Rate limits per grant: requests and tokens per minute, in this process or shared in Redis.

Fixed one-minute windows: cheap, exact within a window, and the same rule in every counter.
A refusal says how many seconds remain until the window turns (the Retry-After header).

When Redis cannot be reached, `RedisLimiter` falls back to counting in this replica (shared by
its workers) against a conservative share of each limit: the limit divided by the number of
replicas last seen alive in Redis (rounded down; a limit smaller than that count refuses until
Redis is back), so that the replicas together never exceed it. It tries Redis again after
`retry_after_failure` seconds, and the gateway's `/healthz` says `degraded` meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from typing import TYPE_CHECKING, Any, Protocol

from clearance.gateway._health import Health

if TYPE_CHECKING:
    from clearance.gateway._shared_limits import SharedLimiter

log = logging.getLogger("clearance.gateway")

WINDOW = 60.0
HEARTBEAT = 5.0
"""Seconds between a replica's announcements in Redis; one missing for 3 of them is gone."""


class Limiter(Protocol):
    """Admits a call under a grant's limits, and adds the tokens it used afterwards."""

    async def admit(
        self, grant_id: str, rpm: int | None, tpm: int | None, now: float
    ) -> float | None:
        """None when admitted (and counted), else the seconds to wait."""

    async def add_tokens(self, grant_id: str, tokens: int, now: float) -> None:
        """Count tokens a call used toward the grant's tokens per minute."""


def retry_after(now: float) -> float:
    """Seconds until the current window turns (at least 1)."""
    return max(1.0, math.ceil(WINDOW - (now % WINDOW)))


class LocalLimiter:
    """Counters in this process: exact for one gateway."""

    def __init__(self) -> None:
        self._windows: dict[str, list[float]] = {}

    def _window(self, grant_id: str, now: float) -> list[float]:
        start = now - (now % WINDOW)
        window = self._windows.get(grant_id)
        if window is None or window[0] != start:
            window = [start, 0, 0]
            self._windows[grant_id] = window
        return window

    async def admit(
        self, grant_id: str, rpm: int | None, tpm: int | None, now: float
    ) -> float | None:
        window = self._window(grant_id, now)
        if (rpm is not None and window[1] >= rpm) or (tpm is not None and window[2] >= tpm):
            return retry_after(now)
        window[1] += 1
        return None

    async def add_tokens(self, grant_id: str, tokens: int, now: float) -> None:
        self._window(grant_id, now)[2] += tokens


class RedisLimiter:
    """Counters in Redis, shared by every gateway replica (INCR on a per-window key).

    `fallback` counts while Redis is unreachable, against each limit divided by the number of
    replicas seen alive (`replica` announces this one every HEARTBEAT seconds from `run`).
    """

    def __init__(
        self,
        client: Any,
        prefix: str = "clearance:limits",
        *,
        fallback: SharedLimiter | None = None,
        replica: str | None = None,
        health: Health | None = None,
        min_share: int = 1,
        retry_after_failure: float = 1.0,
    ) -> None:
        if fallback is None:
            from clearance.gateway._shared_limits import SharedLimiter

            fallback = SharedLimiter()
        self._redis = client
        self._prefix = prefix
        self.fallback = fallback
        self.replica = replica or uuid.uuid4().hex
        self.health = health or Health()
        self.replicas = max(1, min_share)
        """Replicas seen alive at the last announcement: the fallback's divisor."""
        self.min_share = max(1, min_share)
        self.retry_after_failure = retry_after_failure
        self._down_until = 0.0

    def _keys(self, grant_id: str, now: float) -> tuple[str, str]:
        window = int(now // WINDOW)
        return (
            f"{self._prefix}:{grant_id}:{window}:requests",
            f"{self._prefix}:{grant_id}:{window}:tokens",
        )

    @property
    def down(self) -> bool:
        """True while the limiter counts in the fallback."""
        return time.monotonic() < self._down_until

    def _failed(self, exc: BaseException) -> None:
        self.health.redis_errors += 1
        self._down_until = time.monotonic() + self.retry_after_failure
        self.fallback.share = max(self.replicas, self.min_share)
        if self.health.degrade(
            "redis",
            f"Redis is unreachable ({type(exc).__name__}); rate limits count in this replica "
            f"against 1/{self.fallback.share} of each limit",
        ):
            log.warning(
                "redis is unreachable (%s); rate limits fall back to 1/%d of each limit in "
                "this replica",
                exc,
                self.fallback.share,
            )

    def _recovered(self) -> None:
        if self.health.recover("redis"):
            log.info("redis is reachable again; rate limits are shared again")

    async def admit(
        self, grant_id: str, rpm: int | None, tpm: int | None, now: float
    ) -> float | None:
        if not self.down:
            try:
                wait = await self._admit(grant_id, rpm, tpm, now)
            except Exception as exc:
                self._failed(exc)
            else:
                self._recovered()
                return wait
        self.health.fallback_admissions += 1
        return await self.fallback.admit(grant_id, rpm, tpm, now)

    async def _admit(
        self, grant_id: str, rpm: int | None, tpm: int | None, now: float
    ) -> float | None:
        requests_key, tokens_key = self._keys(grant_id, now)
        if tpm is not None:
            used = await self._redis.get(tokens_key)
            if used is not None and int(used) >= tpm:
                return retry_after(now)
        pipe = self._redis.pipeline()
        pipe.incr(requests_key)
        pipe.expire(requests_key, int(WINDOW * 2))
        count, _ = await pipe.execute()
        if rpm is not None and int(count) > rpm:
            return retry_after(now)
        return None

    async def add_tokens(self, grant_id: str, tokens: int, now: float) -> None:
        if not self.down:
            try:
                _, tokens_key = self._keys(grant_id, now)
                pipe = self._redis.pipeline()
                pipe.incrby(tokens_key, tokens)
                pipe.expire(tokens_key, int(WINDOW * 2))
                await pipe.execute()
                return
            except Exception as exc:
                self._failed(exc)
        await self.fallback.add_tokens(grant_id, tokens, now)

    async def announce(self, now: float) -> int:
        """Say this replica is alive; returns how many replicas are (Redis errors propagate)."""
        key = f"{self._prefix}:replicas"
        pipe = self._redis.pipeline()
        pipe.zadd(key, {self.replica: now})
        pipe.zremrangebyscore(key, 0, now - 3 * HEARTBEAT)
        pipe.zcard(key)
        _, _, count = await pipe.execute()
        self.replicas = max(1, int(count))
        return self.replicas

    async def run(self) -> None:
        """Announce this replica every HEARTBEAT seconds, and probe Redis, until cancelled;
        then close the client (the gateway is shutting down)."""
        try:
            while True:
                try:
                    await self.announce(time.time())
                except Exception as exc:
                    self._failed(exc)
                else:
                    if not self.down:
                        self._recovered()
                await asyncio.sleep(HEARTBEAT)
        finally:
            with contextlib.suppress(Exception):
                await self._redis.aclose()


def redis_client(url: str) -> Any:
    """An asyncio Redis client for the hot path: short timeouts and no retries of its own.

    A call must not wait on a Redis that is gone: after a failure the limiter counts in its
    fallback and tries Redis again a second later, which is the retry.
    """
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return aioredis.from_url(
        url, socket_timeout=0.5, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
