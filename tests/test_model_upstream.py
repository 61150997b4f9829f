"""A model's own server, named by its developer in the register (`upstream_url`), is where the
gateway sends its calls, unless the gateway's upstreams file names the model; the key is the one
the file holds for the same URL (the register never holds upstream keys)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from sqlalchemy import select

from clearance.gateway import Upstream, Upstreams
from clearance.store import _tables as t
from tests.gateway_fixtures import Deployment, FakeUpstreamThread, approve, chat

SERVER_KEY = "sk-developer-server"


def test_a_model_is_served_by_the_server_its_developer_named(deployment: Deployment) -> None:
    gateway = deployment.app.state.gateway
    default = gateway.upstreams.for_model("*")
    assert default is not None  # the packaged fake upstream, which needs no key
    server = FakeUpstreamThread(api_key=SERVER_KEY)
    try:
        approve(deployment.reg, "atlas-own-server", "public", ("tier-1",), upstream_url=server.url)
        deployment.wait_for_snapshot_with(
            lambda s: (
                s.models.get("atlas-own-server") is not None
                and s.models["atlas-own-server"].tier is not None
            ),
            timeout=5,
        )
        # the model's JSON does not publish where it is served
        model = deployment.reg.ok(None, "GET", "/models/atlas-own-server")
        assert "upstream_url" not in model and server.url not in str(model)
        auth = {"Authorization": f"Bearer {deployment.key('partner')}"}
        url = f"{deployment.v1}/chat/completions"

        # its server wants a key the gateway does not have yet: the call reached it, not the
        # default upstream (which would have answered)
        refused = httpx.post(url, json=chat("atlas-own-server"), headers=auth)
        assert refused.status_code >= 400
        # the gateway's file holds the key for that URL, for another organization: still not
        # this developer's to use
        developer = deployment.reg.ids["Atlas Labs"]
        rival = Upstream(server.url, SERVER_KEY, deployment.reg.ids["Agency One"])
        gateway.set_upstreams(Upstreams({"*": default, "other-server": rival}))
        borrowed = httpx.post(url, json=chat("atlas-own-server"), headers=auth)
        assert borrowed.status_code >= 400
        # ... and for the developer's organization: served
        own = Upstream(server.url, SERVER_KEY, developer)
        gateway.set_upstreams(Upstreams({"*": default, "developer-server": own}))
        served = httpx.post(url, json=chat("atlas-own-server", "to the developer"), headers=auth)
        assert served.status_code == 200, served.text
        assert "to the developer" in served.json()["choices"][0]["message"]["content"]
        # where its server is stays off the public log as it does off the public pages
        store = deployment.app.state.context.store
        with store.read() as tx:
            envelopes = list(tx.connection.scalars(select(t.statements.c.envelope)))
        logged = b"".join(base64.b64decode(json.loads(e)["payload"]) for e in envelopes)
        assert b"atlas-own-server" in logged and server.url.encode() not in logged

        # the file naming the model wins over the register's URL (no key needed there)
        gateway.set_upstreams(Upstreams({"atlas-own-server": default}))
        assert httpx.post(url, json=chat("atlas-own-server"), headers=auth).status_code == 200

        # with no default, only models with a route are listed; the named server is one
        gateway.set_upstreams(Upstreams({}))
        listed = httpx.get(f"{deployment.v1}/models", headers=auth).json()["data"]
        assert [m["id"] for m in listed] == ["atlas-own-server"]
    finally:
        server.stop()


@pytest.mark.parametrize(
    "bad", ["ftp://example.org/v1", "http://user:secret@example.org/v1", "http://x/v1?key=1"]
)
def test_a_model_server_that_is_not_a_plain_base_url_is_refused(
    deployment: Deployment, bad: str
) -> None:
    refused = deployment.reg.call(
        "dev",
        "POST",
        "/models",
        json={
            "name": "atlas-bad",
            "version": "1",
            "weights_digest": "ab" * 32,
            "upstream_url": bad,
        },
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["message"].startswith("upstream_url: ")
