"""The enforcement gateway: an OpenAI-compatible proxy that decides every call.

API key to organization, Cedar over the signed snapshot of the register, rate limits per grant,
then forward to the model's upstream, or refuse in OpenAI's error shape with a stable code.
Metering counts calls, tokens and refusals; it never keeps content.
"""

from clearance.gateway._app import GatewayServer, metrics_registry
from clearance.gateway._errors import error_json
from clearance.gateway._follow import (
    CHANNEL,
    SNAPSHOT_PATH,
    USAGE_PATH,
    Follower,
    snapshot_etag,
)
from clearance.gateway._health import Health
from clearance.gateway._limits import Limiter, LocalLimiter, RedisLimiter, redis_client
from clearance.gateway._metering import NO_GRANT, Meter, MeterCollector, UsageRow
from clearance.gateway._proxy import DEFAULT_MAX_BODY, Gateway, SnapshotRefused, misdirected
from clearance.gateway._serve import PerWorker, serve
from clearance.gateway._shared_limits import SharedLimiter
from clearance.gateway._spool import Spool
from clearance.gateway._upstreams import UPSTREAMS_FILE, Upstream, Upstreams
from clearance.gateway._workers import default_workers, run_workers

__all__ = [
    "CHANNEL",
    "DEFAULT_MAX_BODY",
    "NO_GRANT",
    "SNAPSHOT_PATH",
    "UPSTREAMS_FILE",
    "USAGE_PATH",
    "Follower",
    "Gateway",
    "GatewayServer",
    "Health",
    "Limiter",
    "LocalLimiter",
    "Meter",
    "MeterCollector",
    "PerWorker",
    "RedisLimiter",
    "SharedLimiter",
    "SnapshotRefused",
    "Spool",
    "Upstream",
    "Upstreams",
    "UsageRow",
    "default_workers",
    "error_json",
    "metrics_registry",
    "misdirected",
    "redis_client",
    "run_workers",
    "serve",
    "snapshot_etag",
]
