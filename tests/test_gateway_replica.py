"""A standalone replica following the register: directives reach it promptly; fails closed
on expiry."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import openai

from clearance.gateway import Follower, Gateway, GatewayServer, Upstream, Upstreams
from clearance.ledger import VerifierKey
from tests.gateway_fixtures import FakeUpstreamThread, Served, chat, start_deployment


def test_replica_follows_then_fails_closed_when_the_register_is_gone(tmp_path: Path) -> None:
    deployment = start_deployment(tmp_path, ttl=2.0, clock_offset=[0.0])
    upstream = FakeUpstreamThread()
    vkey = VerifierKey.parse((deployment.data / "authority.vkey").read_text().strip())
    gateway = Gateway(upstreams=Upstreams({"*": Upstream(upstream.url)}), trusted=[vkey])
    follower = Follower(gateway, deployment.served.url, deployment.token, interval=0.1)
    replica = Served(GatewayServer(gateway, [follower.run]))
    try:
        api = openai.OpenAI(
            base_url=f"{replica.url}/v1", api_key=deployment.key("partner"), max_retries=0
        )
        deadline = time.monotonic() + 5
        while gateway.snapshot is None and time.monotonic() < deadline:
            time.sleep(0.05)
        answer = api.chat.completions.create(
            model="atlas-public", messages=[{"role": "user", "content": "via replica"}]
        )
        assert answer.choices[0].message.content == "echo: via replica"

        # a directive reaches the replica promptly (how soon is bench/soak.py's measure)
        issued = time.monotonic()
        deployment.reg.ok(
            "admin",
            "POST",
            "/directives",
            json={"action": "halt", "model": "atlas-tier1", "grounds": "Incident.", "urgent": True},
        )
        while True:
            refused = httpx.post(
                f"{replica.url}/v1/chat/completions",
                json=chat("atlas-tier1"),
                headers={"Authorization": f"Bearer {deployment.key('partner')}"},
            )
            if refused.status_code == 403:
                break
            assert time.monotonic() - issued < 3.0
            time.sleep(0.02)
        assert refused.json()["error"]["code"] == "model_halted"

        # the register keeps the snapshot fresh past its 2 s validity
        time.sleep(2.5)
        assert api.models.list().data

        # the register stops: the replica serves from its last snapshot, then refuses
        deployment.served.stop()
        stopped = time.monotonic()
        assert api.chat.completions.create(
            model="atlas-public", messages=[{"role": "user", "content": "still here"}]
        ).choices
        while True:
            response = httpx.post(
                f"{replica.url}/v1/chat/completions",
                json=chat("atlas-public"),
                headers={"Authorization": f"Bearer {deployment.key('partner')}"},
            )
            if response.status_code == 503:
                break
            assert response.status_code == 200
            assert time.monotonic() - stopped < 3.0, "the snapshot never expired"
            time.sleep(0.1)
        assert response.json()["error"]["code"] == "snapshot_expired"
        health = httpx.get(f"{replica.url}/healthz")
        assert health.status_code == 503 and health.json()["serving"] is False
        models = httpx.get(
            f"{replica.url}/v1/models",
            headers={"Authorization": f"Bearer {deployment.key('partner')}"},
        )
        assert models.json()["error"]["code"] == "snapshot_expired"
    finally:
        replica.stop()
        upstream.stop()
        deployment.served.stop()
        deployment.reg.client.close()


def test_a_replica_refuses_a_snapshot_signed_by_another_key(tmp_path: Path) -> None:
    from clearance.gateway import SnapshotRefused
    from clearance.ledger import SigningKey

    deployment = start_deployment(tmp_path, clock_offset=[0.0])
    try:
        signed = httpx.get(
            f"{deployment.served.url}/api/v1/snapshot",
            headers={"Authorization": f"Bearer {deployment.token}"},
        ).content
        stranger = SigningKey.generate("someone.else/log").verifier
        gateway = Gateway(upstreams=Upstreams({}), trusted=[stranger])
        try:
            gateway.install(signed)
        except SnapshotRefused:
            pass
        else:
            raise AssertionError("a snapshot signed by an unknown key was installed")
        assert gateway.snapshot is None
    finally:
        deployment.served.stop()
        deployment.reg.client.close()


def test_the_gateway_on_both_databases(tmp_path: Path, database_url: str) -> None:
    """Snapshot compiled, a directive enforced promptly, usage totals written."""
    deployment = start_deployment(tmp_path, clock_offset=[0.0], database_url=database_url)
    auth = {"Authorization": f"Bearer {deployment.key('partner')}"}
    url = f"{deployment.v1}/chat/completions"
    try:
        assert httpx.post(url, json=chat("atlas-tier1"), headers=auth).status_code == 200
        assert httpx.post(url, json=chat("atlas-internal"), headers=auth).status_code == 403
        issued = time.monotonic()
        deployment.reg.ok(
            "admin",
            "POST",
            "/directives",
            json={"action": "halt", "model": "atlas-tier1", "grounds": "Incident.", "urgent": True},
        )
        served = 1
        while (refused := httpx.post(url, json=chat("atlas-tier1"), headers=auth)).is_success:
            served += 1
            assert time.monotonic() - issued < 3.0
            time.sleep(0.02)
        assert refused.json()["error"]["code"] == "model_halted"
        expected = {
            "atlas-tier1": (served, {"model_halted": 1}),
            "atlas-internal": (0, {"no_grant": 1}),
        }
        deadline = time.monotonic() + 10
        while True:
            items = deployment.reg.ok("admin", "GET", "/usage")["items"]
            found = {i["model"]: (i["calls"], i["refusals"]) for i in items}
            if found == expected:
                break
            assert time.monotonic() < deadline, f"usage totals {found}, expected {expected}"
            time.sleep(0.1)
    finally:
        deployment.served.stop()
        deployment.reg.client.close()
        deployment.app.state.snapshots.context.store.engine.dispose()
