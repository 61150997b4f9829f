"""Several workers on one port: each follows the snapshot; limits and metering stay exact."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.gateway_fixtures import FakeUpstreamThread, chat, start_deployment
from tests.process_fixtures import (
    Command,
    Load,
    free_port,
    gateway_command,
    started_url,
    usage_of,
    wait_http,
)
from tests.test_gateway_proxy import grant_access


def wait_minute_start(margin: float = 8.0) -> None:
    """Keep a burst inside one rate-limit window: start it well before the minute turns."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.2)


# the grants these tests issue are scoped to this use case (a call must declare it)
HEADERS = {"X-Clearance-Use-Case": "research"}


def burst(url: str, key: str, model: str, count: int, threads: int = 8) -> dict[int, int]:
    """`count` calls on fresh connections (spread over the workers); statuses counted."""
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    todo = list(range(count))

    def call() -> None:
        while True:
            with lock:
                if not todo:
                    return
                todo.pop()
            response = httpx.post(
                url,
                json=chat(model),
                headers=HEADERS | {"Authorization": f"Bearer {key}"},
                timeout=30,
            )
            with lock:
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    running = [threading.Thread(target=call) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    return statuses


def wait_usage(deployment, model: str, calls: int, refusals: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 20
    while (found := usage_of(deployment, model)) != (calls, refusals):
        assert time.monotonic() < deadline, f"usage {found}, expected {(calls, refusals)}"
        time.sleep(0.2)


@pytest.mark.slow
def test_gateway_workers_share_limits_meter_once_and_survive_a_killed_worker(
    tmp_path: Path,
) -> None:
    deployment = start_deployment(tmp_path, clock_offset=[0.0])
    upstream = FakeUpstreamThread()
    command = gateway_command(
        deployment, tmp_path, upstream.url, "--workers", "2", "--spool", str(tmp_path / "spool")
    )
    try:
        url = started_url(command)
        assert len(command.workers()) == 2
        grant_access(deployment, "partner", "atlas-partners", limits={"requests_per_minute": 12})
        calls = f"{url}/v1/chat/completions"
        key = deployment.key("partner")
        # every worker has the grant before the burst
        deadline = time.monotonic() + 10
        warm = 0
        while True:
            answered = burst(calls, key, "atlas-public", 8).get(200, 0)
            warm += answered
            if answered == 8:
                break
            assert time.monotonic() < deadline
        wait_minute_start(margin=20)
        first = burst(calls, key, "atlas-partners", 30)
        # one count for both workers: 12 admitted, not 12 per worker
        assert first == {200: 12, 429: 18}, first

        # a directive reaches both workers (fresh connections land on either) promptly
        issued = time.monotonic()
        deployment.reg.ok(
            "admin",
            "POST",
            "/directives",
            json={"action": "halt", "model": "atlas-tier1", "grounds": "Incident.", "urgent": True},
        )
        while burst(calls, key, "atlas-tier1", 8) != {403: 8}:
            assert time.monotonic() - issued < 3.0, "a worker kept the old snapshot"

        # one worker SIGKILLed under load: the other goes on, the supervisor starts it again,
        # and every completed call is metered exactly once (the killed worker's journal is
        # claimed and reported by another process)
        victim = command.workers()[0]
        with Load(calls, key, "atlas-public", threads=4) as load:
            time.sleep(0.5)
            os.kill(victim, signal.SIGKILL)
            time.sleep(1.5)
            assert load.served() > 0
        restarted = command.workers()
        assert len(restarted) == 2 and victim not in restarted
        served = warm + load.statuses.get(200, 0)
        assert set(load.statuses) == {200}, load.statuses
        assert load.errors <= 4, "more calls broke than were in flight on the killed worker"
        # a call in flight when its worker died may have been metered (the upstream answered)
        # without its answer reaching the caller: at most one per caller thread
        deadline = time.monotonic() + 20
        while (
            not served
            <= (metered := usage_of(deployment, "atlas-public")[0])
            <= (served + load.errors)
        ):
            assert time.monotonic() < deadline, (metered, served, load.errors)
            time.sleep(0.2)
        time.sleep(1.0)
        assert usage_of(deployment, "atlas-public")[0] == metered, "counted twice"
        wait_usage(deployment, "atlas-partners", 12, {"rate_limited": 18})
    finally:
        command.stop()
        upstream.stop()
        deployment.served.stop()
        deployment.reg.client.close()


@pytest.mark.slow
def test_serve_workers_each_follow_the_register_and_meter_once(tmp_path: Path) -> None:
    from clearance.server import open_data_dir
    from tests.gateway_fixtures import approve
    from tests.register_fixtures import FakeClock, Register

    data = tmp_path / "data"
    init = Command("init", "--data-dir", str(data), "--example-framework")
    assert init.process.wait(timeout=60) == 0, init.output
    init.stop()
    port = free_port()
    server = Command("serve", "--data-dir", str(data), "--port", str(port), "--workers", "2")
    base = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=base, timeout=30)
    try:
        wait_http(f"{base}/healthz")
        assert len(server.workers()) == 2
        reg = Register(
            client,  # type: ignore[arg-type]
            FakeClock(),
            open_data_dir(data),
            keys={"admin": (data / "admin.key").read_text().strip()},
        )
        reg.ids["Release Authority"] = reg.ok("admin", "GET", "/principals/me")["organization_id"]
        reg.add_org("Atlas Labs", "developer")
        reg.add_org("Agency One", "partner", sector="government")
        reg.add_principal("dev", "Atlas Labs", "developer")
        reg.add_principal("reviewer", "Release Authority", "reviewer")
        reg.add_principal("partner", "Agency One", "partner")
        approve(reg, "atlas-public", "public", ("tier-1", "tier-2"))
        calls = f"{base}/v1/chat/completions"
        key = reg.keys["partner"]
        # the acts went through one worker or the other; both gateways learn them
        deadline = time.monotonic() + 5
        served = 0
        while (statuses := burst(calls, key, "atlas-public", 8)) != {200: 8}:
            served += statuses.get(200, 0)
            assert time.monotonic() < deadline, statuses
        served += 8
        issued = time.monotonic()
        reg.ok(
            "admin",
            "POST",
            "/directives",
            json={
                "action": "halt",
                "model": "atlas-public",
                "grounds": "Incident.",
                "urgent": True,
            },
        )
        while (statuses := burst(calls, key, "atlas-public", 8)) != {403: 8}:
            served += statuses.get(200, 0)
            assert time.monotonic() - issued < 3.0, "a worker kept the old snapshot"
        deadline = time.monotonic() + 20
        while (found := sum(
            i["calls"] for i in reg.ok("admin", "GET", "/usage")["items"]
            if i["model"] == "atlas-public"
        )) != served:  # fmt: skip
            assert time.monotonic() < deadline, (found, served)
            time.sleep(0.2)
        health = client.get("/healthz").json()
        assert health["database"] is True and health["gateway"]["serving"] is True
    finally:
        client.close()
        server.stop()
