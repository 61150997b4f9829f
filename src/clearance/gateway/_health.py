"""What a gateway process reports about itself beyond its snapshot: degraded parts, and why.

A part is degraded when the gateway serves without it, more conservatively (Redis down: rate
limits fall back to a per-replica share; snapshot pushes fall back to polling). `/healthz` lists
them, and `/metrics` counts the failures and the decisions taken in the fallback.
"""

from __future__ import annotations

import time


class Health:
    """Degraded parts of one gateway process, and counters for Prometheus."""

    def __init__(self) -> None:
        self.degraded: dict[str, str] = {}
        self.since: dict[str, float] = {}
        self.redis_errors = 0
        self.fallback_admissions = 0

    def degrade(self, part: str, reason: str) -> bool:
        """Mark a part degraded; True when it was not already."""
        new = part not in self.degraded
        self.degraded[part] = reason
        if new:
            self.since[part] = time.time()
        return new

    def recover(self, part: str) -> bool:
        """Mark a part healthy again; True when it was degraded."""
        self.since.pop(part, None)
        return self.degraded.pop(part, None) is not None
