"""The snapshot's version lives in the database: the same content keeps its version, new content
takes the next one, across a restart and between a server's workers; replicas follow."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from clearance.api import Context
from clearance.gateway import Follower, Gateway, Upstreams, snapshot_etag
from clearance.gateway._follow import PUSH_LIMIT
from clearance.register import Organization, create_organization
from clearance.server import build_app
from clearance.server._gateway import (
    GatewaySettings,
    SnapshotPublisher,
    compile_snapshot,
    gateway_first,
)
from tests.gateway_fixtures import Deployment, start_deployment
from tests.register_fixtures import FakeClock, Register

HALT = {"action": "halt", "model": "atlas-tier1", "grounds": "Incident.", "urgent": True}


def test_the_same_content_keeps_its_version_and_new_content_takes_the_next(
    register: Register,
) -> None:
    reg = register
    workers = [Context(reg.data_dir.open_store(), reg.clock) for _ in range(2)]

    def compiled(worker: Context) -> tuple[int, str]:
        snapshot = compile_snapshot(worker.store, worker, ttl=300)
        return snapshot.version, snapshot.digest

    try:
        # two workers compile the first snapshot at once: one version between them
        with ThreadPoolExecutor(2) as pool:
            first = set(pool.map(compiled, workers * 2))
        assert len(first) == 1
        (version, digest) = first.pop()
        assert {compiled(w) for w in workers} == {(version, digest)}

        # new content (with an event): a higher version, which the other worker agrees on
        reg.add_org("Third Labs", "developer")
        second = compiled(workers[1])
        assert second[1] != digest and second[0] > version
        assert compiled(workers[0]) == second

        # new content without an event: a rotated key's grace period ends
        reg.ok("dev", "POST", "/principals/me/keys", json={"grace_seconds": 60})
        rotated = compiled(workers[0])
        assert rotated[0] > second[0]
        reg.clock.advance(seconds=61)
        ended = compiled(workers[1])
        assert ended[1] != rotated[1] and ended[0] == rotated[0] + 1
        assert compiled(workers[0]) == ended

        # a worker started afresh (a restarted register) signs what the others did
        restarted = Context(reg.data_dir.open_store(), reg.clock)
        workers.append(restarted)
        assert compiled(restarted) == ended
    finally:
        for worker in workers:
            worker.store.engine.dispose()


def test_a_restarted_registers_halt_reaches_a_replica(tmp_path: Path, database_url: str) -> None:
    """Versions that grew without events (keys that ended) are not signed again by a new
    process over the same database: its snapshots, a halt included, are newer to a replica."""
    clock = FakeClock(dt.datetime.now(dt.UTC))
    dep = start_deployment(
        tmp_path, clock_offset=[0.0], register_clock=clock, database_url=database_url
    )
    reg, publisher = dep.reg, dep.app.state.snapshots
    replica = Gateway(upstreams=Upstreams({}), trusted=dep.app.state.gateway.trusted)
    restarted: TestClient | None = None
    app: Any = None
    try:
        for i, who in enumerate(("far", "partner", "embargoed", "dev")):
            reg.ok(who, "POST", "/principals/me/keys", json={"grace_seconds": 60 * (i + 1)})
        publisher.refresh()
        replica.install(publisher.envelope)
        for _ in range(4):  # each old key ends in turn: new content, no event
            clock.advance(seconds=61)
            assert publisher.refresh()
            replica.install(publisher.envelope)
        before = replica.snapshot
        assert before is not None
        dep.served.stop()
        dep.app.state.snapshots.context.store.engine.dispose()

        # the register restarts: a new app over the same database, then halts a model
        settings = GatewaySettings(
            signing_key=lambda: reg.data_dir.signing_key, token=dep.token, fake_upstream=False
        )
        app = build_app(
            reg.data_dir.open_store(), clock=clock, clock_interval=None, gateway=settings
        )
        restarted = TestClient(gateway_first(app))
        restarted.__enter__()
        admin = {"Authorization": f"Bearer {reg.keys['admin']}"}
        assert restarted.post("/api/v1/directives", json=HALT, headers=admin).status_code < 300
        app.state.snapshots.refresh()
        fetched = restarted.get(
            "/api/v1/snapshot", headers={"Authorization": f"Bearer {dep.token}"}
        )
        assert fetched.status_code == 200
        assert replica.install(fetched.content)
        after = replica.snapshot
        assert after is not None and after.version > before.version
        assert after.models["atlas-tier1"].status == "halted"
    finally:
        if restarted is not None:
            restarted.__exit__(None, None, None)
            app.state.snapshots.context.store.engine.dispose()
        else:
            dep.served.stop()
        dep.reg.client.close()


def test_snapshots_signed_in_the_same_instant_are_each_announced(register: Register) -> None:
    """With a clock that does not move, a new snapshot has the same `issued_at` as the last:
    it is still one more to push to the replicas."""
    context = Context(register.data_dir.open_store(), register.clock)
    publisher = SnapshotPublisher(context, lambda: register.data_dir.signing_key)
    try:
        assert publisher.refresh()
        first = publisher.snapshot
        register.add_org("Third Labs", "developer")
        assert publisher.refresh()
        second = publisher.snapshot
        assert first is not None and second is not None
        assert second.issued_at == first.issued_at and second.version > first.version
        signed = asyncio.run(asyncio.wait_for(publisher.published(1), 2.0))
        assert signed == 2
    finally:
        context.store.engine.dispose()


def test_a_change_committed_between_start_up_and_the_publishers_loop_is_published_at_once(
    register: Register,
) -> None:
    """The server compiles once at start-up, then runs the loop: a change committed in between
    (its hook finds no loop to wake) is compiled on the loop's first turn, not 5 s later."""
    context = Context(register.data_dir.open_store(), register.clock)
    publisher = SnapshotPublisher(context, lambda: register.data_dir.signing_key)
    context.store.committed.append(publisher.changed)

    async def first_turn() -> int:
        loop = asyncio.create_task(publisher.run(periodic=30.0))
        try:
            return await asyncio.wait_for(publisher.published(1), 2.0)
        finally:
            loop.cancel()

    try:
        assert publisher.refresh()
        before = publisher.snapshot
        org = Organization(
            id="org_late", name="Late Labs", kind="developer", jurisdiction="US",
            created_at=register.clock(),
        )  # fmt: skip
        with context.store.transaction() as tx:
            tx.apply(create_organization(org, None))
        assert asyncio.run(first_turn()) == 2
        assert publisher.snapshot is not None and before is not None
        assert publisher.snapshot.version > before.version
    finally:
        context.store.engine.dispose()


def test_a_pushed_snapshot_sets_the_etag_the_next_poll_sends(
    clocked_deployment: Deployment,
) -> None:
    """A replica that installed a pushed snapshot asks with its ETag: 304, no download."""
    dep = clocked_deployment
    publisher = dep.app.state.snapshots
    gateway = Gateway(upstreams=Upstreams({}), trusted=dep.app.state.gateway.trusted)
    follower = Follower(gateway, dep.served.url, dep.token)
    dep.reg.ok("admin", "POST", "/directives", json=HALT)
    publisher.refresh()
    follower._pushed(publisher.envelope)
    assert gateway.snapshot is not None
    assert follower._etag == snapshot_etag(gateway.snapshot)
    with contextlib.closing(httpx.Client(base_url=dep.served.url)) as client:
        polled = client.get(
            "/api/v1/snapshot",
            headers={"Authorization": f"Bearer {dep.token}", "If-None-Match": follower._etag},
        )
    assert polled.status_code == 304


def test_a_replica_parses_nothing_larger_than_a_push_from_the_channel(
    clocked_deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    """Anyone who can publish on the channel could send a huge body: it is taken as a nudge to
    fetch, never parsed (a forged snapshot within the limit is parsed, and refused)."""
    dep = clocked_deployment
    gateway = Gateway(upstreams=Upstreams({}), trusted=dep.app.state.gateway.trusted)
    follower = Follower(gateway, dep.served.url, dep.token)
    with caplog.at_level(logging.WARNING, logger="clearance.gateway"):
        follower._pushed(b'{"payload": "' + b"x" * PUSH_LIMIT + b'"}')
        assert follower._wake.is_set() and caplog.records == []
        follower._wake.clear()
        follower._pushed(b'{"payload": "not a snapshot"}')
    assert follower._wake.is_set() and gateway.snapshot is None
    assert [r.getMessage().startswith("a pushed ") for r in caplog.records] == [True]
