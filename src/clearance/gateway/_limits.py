"""Rate limits per grant: requests and tokens per minute, in this process or shared in Redis.

Fixed one-minute windows: cheap, exact within a window, and the same rule in both counters.
A refusal says how many seconds remain until the window turns (the Retry-After header).
"""

from __future__ import annotations

import math
from typing import Any, Protocol

WINDOW = 60.0


class Limiter(Protocol):
    """Admits a call under a grant's limits, and adds the tokens it used afterwards."""

    async def admit(
        self, grant_id: str, rpm: int | None, tpm: int | None, now: float
    ) -> float | None:
        """None when admitted (and counted), else the seconds to wait."""

    async def add_tokens(self, grant_id: str, tokens: int, now: float) -> None:
        """Count tokens a call used toward the grant's tokens per minute."""


def _retry_after(now: float) -> float:
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
            return _retry_after(now)
        window[1] += 1
        return None

    async def add_tokens(self, grant_id: str, tokens: int, now: float) -> None:
        self._window(grant_id, now)[2] += tokens


class RedisLimiter:
    """Counters in Redis, shared by every gateway replica (INCR on a per-window key)."""

    def __init__(self, client: Any, prefix: str = "clearance:limits") -> None:
        self._redis = client
        self._prefix = prefix

    def _keys(self, grant_id: str, now: float) -> tuple[str, str]:
        window = int(now // WINDOW)
        return (
            f"{self._prefix}:{grant_id}:{window}:requests",
            f"{self._prefix}:{grant_id}:{window}:tokens",
        )

    async def admit(
        self, grant_id: str, rpm: int | None, tpm: int | None, now: float
    ) -> float | None:
        requests_key, tokens_key = self._keys(grant_id, now)
        if tpm is not None:
            used = await self._redis.get(tokens_key)
            if used is not None and int(used) >= tpm:
                return _retry_after(now)
        pipe = self._redis.pipeline()
        pipe.incr(requests_key)
        pipe.expire(requests_key, int(WINDOW * 2))
        count, _ = await pipe.execute()
        if rpm is not None and int(count) > rpm:
            return _retry_after(now)
        return None

    async def add_tokens(self, grant_id: str, tokens: int, now: float) -> None:
        _, tokens_key = self._keys(grant_id, now)
        pipe = self._redis.pipeline()
        pipe.incrby(tokens_key, tokens)
        pipe.expire(tokens_key, int(WINDOW * 2))
        await pipe.execute()
