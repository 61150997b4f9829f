"""Scale-out with Redis: rate-limit counters shared by replicas, snapshot changes pushed."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from clearance.gateway import (
    CHANNEL,
    Follower,
    Gateway,
    GatewayServer,
    RedisLimiter,
    Upstream,
    Upstreams,
)
from clearance.ledger import VerifierKey
from tests.gateway_fixtures import (
    Deployment,
    FakeUpstreamThread,
    Served,
    chat,
    start_deployment,
)
from tests.register_fixtures import service_missing

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_url() -> Iterator[str]:
    """Redis at 127.0.0.1:6379: a failure in CI when it is missing, a visible skip elsewhere."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_missing("Redis", exc)
    finally:
        client.close()
    yield REDIS_URL


@contextlib.contextmanager
def following_replica(
    tmp_path: Path, redis_url: str, token: str | None = None
) -> Iterator[tuple[Deployment, Gateway, Served, dict[str, str], Any]]:
    """A deployment that pushes through Redis and a replica's gateway following it (polling
    every 60 s) with `token`, the deployment's own unless given: the deployment, the gateway,
    the replica, the partner's Authorization header and a Redis client to probe with; all
    stopped and closed on the way out."""
    import redis

    deployment = start_deployment(tmp_path, clock_offset=[0.0], redis_url=redis_url)
    upstream = FakeUpstreamThread()
    vkey = VerifierKey.parse((deployment.data / "authority.vkey").read_text().strip())
    gateway = Gateway(upstreams=Upstreams({"*": Upstream(upstream.url)}), trusted=[vkey])
    follower = Follower(
        gateway,
        deployment.served.url,
        token or deployment.token,
        interval=60.0,
        redis_url=redis_url,
    )
    replica = Served(GatewayServer(gateway, [follower.run]))
    auth = {"Authorization": f"Bearer {deployment.key('partner')}"}
    probe = redis.Redis.from_url(redis_url)
    try:
        yield deployment, gateway, replica, auth, probe
    finally:
        probe.close()
        replica.stop()
        upstream.stop()
        deployment.served.stop()
        deployment.reg.client.close()


def test_rate_limits_are_shared_by_two_replicas(redis_url: str) -> None:
    import redis.asyncio as aioredis

    prefix = f"clearance:test:{secrets.token_hex(6)}"
    now = 1_900_000_000.0

    async def scenario() -> list[float | None]:
        first = aioredis.from_url(redis_url)
        second = aioredis.from_url(redis_url)
        try:
            one, two = RedisLimiter(first, prefix), RedisLimiter(second, prefix)
            seen = [
                await one.admit("g1", 3, None, now),
                await two.admit("g1", 3, None, now + 1),
                await one.admit("g1", 3, None, now + 2),
                await two.admit("g1", 3, None, now + 3),  # the fourth, on either replica
                await one.admit("g2", 3, None, now + 3),  # another grant counts apart
            ]
            # tokens counted on one replica close the grant on the other
            await one.add_tokens("g3", 500, now)
            seen.append(await two.admit("g3", None, 400, now + 1))
            # a new minute opens the window again
            seen.append(await two.admit("g1", 3, None, now + 60))
            return seen
        finally:
            await first.aclose()
            await second.aclose()

    seen = asyncio.run(scenario())
    assert seen[:3] == [None, None, None]
    assert seen[3] is not None and 1 <= seen[3] <= 60
    assert seen[4] is None
    assert seen[5] is not None
    assert seen[6] is None


def test_a_directive_is_pushed_to_a_replica_through_redis(tmp_path: Path, redis_url: str) -> None:
    # polls every 60 s: only the push can bring the directive this soon
    with following_replica(tmp_path, redis_url) as (deployment, gateway, replica, auth, probe):
        deadline = time.monotonic() + 10
        while gateway.snapshot is None or not dict(probe.pubsub_numsub(CHANNEL)).get(
            CHANNEL.encode()
        ):
            assert time.monotonic() < deadline, "the replica did not start following"
            time.sleep(0.05)
        url = f"{replica.url}/v1/chat/completions"
        assert httpx.post(url, json=chat("atlas-tier1"), headers=auth).status_code == 200

        issued = time.monotonic()
        deployment.reg.ok(
            "admin",
            "POST",
            "/directives",
            json={"action": "halt", "model": "atlas-tier1", "grounds": "Incident.", "urgent": True},
        )
        while True:
            refused = httpx.post(url, json=chat("atlas-tier1"), headers=auth)
            if refused.status_code == 403:
                break
            # the replica polls every 60 s: only the push brings it this soon (how soon is
            # bench/soak.py's question)
            assert time.monotonic() - issued < 3.0, "the push did not arrive"
            time.sleep(0.02)
        assert refused.json()["error"]["code"] == "model_halted"


def test_without_redis_each_replica_takes_its_share_of_the_limit(redis_url: str) -> None:
    """Replicas seen alive in Redis divide each limit once Redis is gone: never unlimited."""
    import redis.asyncio as aioredis

    from clearance.gateway import redis_client

    prefix = f"clearance:test:{secrets.token_hex(6)}"
    now = 1_900_000_000.0

    async def scenario() -> tuple[int, list[float | None], dict[str, str]]:
        clients = [aioredis.from_url(redis_url) for _ in range(2)]
        try:
            one, two = (RedisLimiter(c, prefix) for c in clients)
            await one.announce(now)
            seen = await two.announce(now)
            # Redis goes away under `two`: 6 a minute shared by 2 replicas is 3 for it
            two._redis = redis_client("redis://127.0.0.1:1/0")
            answers = [await two.admit("g", 6, None, now + i / 10) for i in range(5)]
            await two._redis.aclose()
            return seen, answers, two.health.degraded
        finally:
            for client in clients:
                await client.aclose()

    seen, answers, degraded = asyncio.run(scenario())
    assert seen == 2
    assert answers[:3] == [None, None, None]
    assert all(a is not None for a in answers[3:])
    assert "redis" in degraded


def test_a_pushed_snapshot_is_installed_without_a_fetch_and_a_forged_one_is_refused(
    tmp_path: Path, redis_url: str
) -> None:
    """The register pushes the signed snapshot itself: a replica that cannot fetch (its token
    is wrong) still installs it, verified; one signed by another key changes nothing."""
    import datetime as dt

    from clearance.ledger import SigningKey, sign_envelope
    from clearance.policy import PAYLOAD_TYPE, build_snapshot

    with following_replica(tmp_path, redis_url, token="not-the-token") as (
        deployment,
        gateway,
        replica,
        auth,
        probe,
    ):
        deadline = time.monotonic() + 10
        while not dict(probe.pubsub_numsub(CHANNEL)).get(CHANNEL.encode()):
            assert time.monotonic() < deadline, "the replica did not subscribe"
            time.sleep(0.05)
        assert gateway.snapshot is None  # the fetch is refused: no snapshot but a pushed one
        url = f"{replica.url}/v1/chat/completions"
        deployment.reg.ok(
            "admin",
            "POST",
            "/directives",
            json={"action": "halt", "model": "atlas-tier1", "grounds": "Incident.", "urgent": True},
        )
        while gateway.snapshot is None:
            assert time.monotonic() < deadline, "no pushed snapshot was installed"
            time.sleep(0.02)
        refused = httpx.post(url, json=chat("atlas-tier1"), headers=auth)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "model_halted"

        installed = gateway.snapshot
        forged = build_snapshot(
            {**installed.content, "models": {}},  # nothing halted any more, were it believed
            version=installed.version + 100,
            issued_at=dt.datetime.fromtimestamp(installed.issued_at, dt.UTC),
            expires_at=dt.datetime.fromtimestamp(installed.expires_at, dt.UTC),
        )
        envelope = sign_envelope(
            forged.payload(), PAYLOAD_TYPE, SigningKey.generate("forger")
        ).to_json()
        probe.publish(CHANNEL, envelope)
        time.sleep(0.5)
        assert gateway.snapshot is installed
        assert httpx.post(url, json=chat("atlas-tier1"), headers=auth).status_code == 403
