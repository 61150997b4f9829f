"""The gateway through real sockets: the openai client, every refusal code, bad input, metering."""

from __future__ import annotations

import time
from typing import Any

import httpx
import openai
import pytest

from tests.gateway_fixtures import Deployment, chat


def client(deployment: Deployment, who: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=deployment.v1, api_key=deployment.key(who), max_retries=0)


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return dict(body["error"])


def test_openai_client_works_unchanged(deployment: Deployment) -> None:
    with client(deployment, "partner") as api:
        answer = api.chat.completions.create(
            model="atlas-public", messages=[{"role": "user", "content": "hello gateway"}]
        )
        assert answer.choices[0].message.content == "echo: hello gateway"
        assert answer.usage is not None and answer.usage.prompt_tokens == 2
        pieces = [
            chunk.choices[0].delta.content or ""
            for chunk in api.chat.completions.create(
                model="atlas-public",
                messages=[{"role": "user", "content": "stream this please"}],
                stream=True,
            )
            if chunk.choices
        ]
        assert "".join(pieces) == "echo: stream this please"
        vectors = api.embeddings.create(model="atlas-public", input=["a", "b"])
        assert len(vectors.data) == 2 and len(vectors.data[0].embedding) == 8
        response = api.responses.create(model="atlas-public", input="hi there")
        assert response.output_text == "echo: hi there"
        # /v1/models lists exactly what this caller may use now
        assert sorted(m.id for m in api.models.list()) == ["atlas-public", "atlas-tier1"]
    with client(deployment, "dev") as api:
        assert sorted(m.id for m in api.models.list()) == [
            "atlas-internal",
            "atlas-partners",
            "atlas-public",
            "atlas-tier1",
        ]


def test_streaming_usage_is_metered_but_not_shown_unless_asked(deployment: Deployment) -> None:
    response = deployment.gateway_call(
        "partner", "/chat/completions", chat("atlas-public", "one two three", stream=True)
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    assert '"usage"' not in response.text and response.text.endswith("data: [DONE]\n\n")
    asked = deployment.gateway_call(
        "partner",
        "/chat/completions",
        chat("atlas-public", "one two", stream=True, stream_options={"include_usage": True}),
    )
    assert '"usage"' in asked.text
    meter = deployment.app.state.gateway.meter
    partner_org = deployment.reg.ids["Agency One"]
    row = meter.usage[("atlas-public", partner_org, "-")]
    assert row[:3] == [2, 0, 3 + 2]


@pytest.mark.parametrize(
    ("who", "model", "status", "code"),
    [
        (None, "atlas-public", 401, "invalid_api_key"),
        ("partner", "no-such-model", 404, "model_not_found"),
        ("partner", "atlas-partners", 403, "no_grant"),
        ("partner", "atlas-internal", 403, "no_grant"),
        ("far", "atlas-tier1", 403, "jurisdiction_not_permitted"),
        ("embargoed", "atlas-public", 403, "jurisdiction_not_permitted"),
    ],
)
def test_refusals_carry_a_stable_code(
    deployment: Deployment, who: str | None, model: str, status: int, code: str
) -> None:
    response = deployment.gateway_call(who, "/chat/completions", chat(model))
    assert response.status_code == status
    assert error_of(response)["code"] == code


def test_a_wrong_key_is_refused(deployment: Deployment) -> None:
    key = deployment.key("partner")
    for bad in (key[:-2] + "xx", "clr_0000000000000000_nope", "sk-anything", "clr"):
        response = httpx.post(
            f"{deployment.v1}/chat/completions",
            json=chat("atlas-public"),
            headers={"Authorization": f"Bearer {bad}"},
        )
        assert response.status_code == 401
        assert error_of(response)["code"] == "invalid_api_key"


def test_a_halt_through_the_api_is_enforced_by_the_gateway(deployment: Deployment) -> None:
    # how soon is a benchmark's question (bench/soak.py); here: it takes effect, well before
    # the snapshot's next periodic refresh (5 s), on a busy machine too
    assert deployment.gateway_call("partner", "/chat/completions", chat("atlas-public")).is_success
    issued = time.monotonic()
    deployment.reg.ok(
        "admin",
        "POST",
        "/directives",
        json={
            "action": "halt",
            "model": "atlas-public",
            "grounds": "Serious incident.",
            "urgent": True,
        },
    )
    while True:
        response = deployment.gateway_call("partner", "/chat/completions", chat("atlas-public"))
        if response.status_code == 403:
            break
        assert time.monotonic() - issued < 3.0, "the halt did not take effect"
        time.sleep(0.02)
    assert error_of(response)["code"] == "model_halted"
    # the developer too: a halt stops everyone
    halted = deployment.gateway_call("dev", "/chat/completions", chat("atlas-public"))
    assert error_of(halted)["code"] == "model_halted"
    # restricted to a named organization: it receives a grant in the same act
    deployment.reg.ok(
        "admin",
        "POST",
        "/directives",
        json={
            "action": "restore",
            "model": "atlas-public",
            "grounds": "Hearing held; partners only.",
            "organizations": ["Agency One"],
        },
    )
    deployment.wait_for_snapshot_with(lambda s: s.models["atlas-public"].status == "restricted")
    assert deployment.gateway_call("partner", "/chat/completions", chat("atlas-public")).is_success
    far = deployment.gateway_call("far", "/chat/completions", chat("atlas-public"))
    assert error_of(far)["code"] == "no_grant"


def grant_access(deployment: Deployment, who: str, model: str, **decision: Any) -> dict[str, Any]:
    reg = deployment.reg
    request = reg.ok(who, "POST", "/access-requests", json={"model": model, "use_case": "research"})
    body = {"granted": True, "reasons": "Vetted partner."} | decision
    granted = reg.ok("reviewer", "POST", f"/access-requests/{request['id']}/decision", json=body)
    grant = granted["grant"]
    deployment.wait_for_snapshot_with(
        lambda s: any(g.id == grant["id"] for gs in s.grants.values() for g in gs)
    )
    return dict(grant)


def test_a_grant_opens_a_partner_model_until_it_expires(deployment: Deployment) -> None:
    expires = time.time() + 120
    import datetime as dt

    grant_access(
        deployment,
        "partner",
        "atlas-partners",
        expires_at=dt.datetime.fromtimestamp(expires, dt.UTC).isoformat(),
    )
    assert deployment.gateway_call(
        "partner", "/chat/completions", chat("atlas-partners"), use_case="research"
    ).is_success
    # past the expiry, before the register's clock has marked it: grant_expired
    deployment.app.state.clock_offset[0] = 121
    response = deployment.gateway_call(
        "partner", "/chat/completions", chat("atlas-partners"), use_case="research"
    )
    assert response.status_code == 403
    assert error_of(response)["code"] == "grant_expired"


def test_rate_limits_per_grant(deployment: Deployment) -> None:
    grant_access(deployment, "partner", "atlas-partners", limits={"requests_per_minute": 2})
    # keep the test inside one minute window
    offset = deployment.app.state.clock_offset
    now = time.time()
    offset[0] = (now // 60 + 1) * 60 + 1 - now
    for _ in range(2):
        assert deployment.gateway_call(
            "partner", "/chat/completions", chat("atlas-partners"), use_case="research"
        ).is_success
    limited = deployment.gateway_call(
        "partner", "/chat/completions", chat("atlas-partners"), use_case="research"
    )
    assert limited.status_code == 429
    assert error_of(limited)["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60


def test_token_limits_per_grant(deployment: Deployment) -> None:
    grant_access(deployment, "partner", "atlas-partners", limits={"tokens_per_minute": 10})
    offset = deployment.app.state.clock_offset
    now = time.time()
    offset[0] = (now // 60 + 1) * 60 + 1 - now
    words = "one two three four five six"
    assert deployment.gateway_call(
        "partner", "/chat/completions", chat("atlas-partners", words), use_case="research"
    ).is_success
    limited = deployment.gateway_call(
        "partner", "/chat/completions", chat("atlas-partners"), use_case="research"
    )
    assert limited.status_code == 429 and "retry-after" in limited.headers


def test_bad_input_gets_an_openai_shaped_error(deployment: Deployment) -> None:
    auth = {"Authorization": f"Bearer {deployment.key('partner')}"}
    url = f"{deployment.v1}/chat/completions"
    malformed = httpx.post(url, content=b"{not json", headers=auth)
    assert (malformed.status_code, error_of(malformed)["code"]) == (400, "invalid_json")
    missing = httpx.post(url, json={"messages": []}, headers=auth)
    assert (missing.status_code, error_of(missing)["code"]) == (400, "missing_model")
    assert error_of(missing)["param"] == "model"
    huge = httpx.post(url, json=chat("atlas-public", "x" * 70_000), headers=auth)
    assert (huge.status_code, error_of(huge)["code"]) == (413, "body_too_large")
    unknown = httpx.get(f"{deployment.v1}/nothing-here", headers=auth)
    assert unknown.status_code == 404 and "error" in unknown.json()


def test_upstream_failures_are_reported_and_metered(deployment: Deployment) -> None:
    gateway = deployment.app.state.gateway
    gateway.timeout = 0.5
    cases = [
        ("__garbage__", 502, "upstream_invalid_response"),
        ("__reset__", 502, "upstream_unavailable"),
        ("__error__", 502, "upstream_error"),
        ("__sleep:2__", 504, "upstream_timeout"),
    ]
    for text, status, code in cases:
        response = deployment.gateway_call(
            "partner", "/chat/completions", chat("atlas-tier1", text)
        )
        assert (response.status_code, error_of(response)["code"]) == (status, code), text
        assert "Traceback" not in response.text
    row = gateway.meter.usage[("atlas-tier1", deployment.reg.ids["Agency One"], "-")]
    assert row[:2] == [4, 4]


def test_upstream_keys_never_reach_callers(deployment: Deployment, tmp_path: Any) -> None:
    import asyncio

    from clearance.gateway import Upstream, Upstreams, fake_upstream

    secret = "sk-upstream-very-secret-0123"
    gateway = deployment.app.state.gateway
    started: dict[str, Any] = {}

    async def begin() -> None:
        started["runner"], started["url"] = await fake_upstream.start(api_key=secret)

    loop = asyncio.new_event_loop()
    import threading

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(begin(), loop).result(10)
    try:
        gateway.set_upstreams(Upstreams({"*": Upstream(started["url"], secret)}))
        ok = deployment.gateway_call("partner", "/chat/completions", chat("atlas-public", secret))
        assert ok.status_code == 200 and secret not in ok.text
        failed = deployment.gateway_call(
            "partner", "/chat/completions", chat("atlas-public", "__error__")
        )
        assert failed.status_code == 502 and secret not in failed.text
    finally:
        asyncio.run_coroutine_threadsafe(started["runner"].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_metrics_and_usage_totals(deployment: Deployment) -> None:
    assert deployment.gateway_call("partner", "/chat/completions", chat("atlas-public")).is_success
    deployment.gateway_call("partner", "/chat/completions", chat("atlas-internal"))
    metrics = httpx.get(f"{deployment.served.url}/metrics").text
    assert "clearance_gateway_calls_total" in metrics
    assert 'clearance_gateway_refusals_total{code="no_grant",model="atlas-internal"' in metrics
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        items = deployment.reg.ok("admin", "GET", "/usage")["items"]
        if items:
            break
        time.sleep(0.1)
    by_model = {i["model"]: i for i in items}
    assert by_model["atlas-public"]["calls"] == 1
    assert by_model["atlas-public"]["prompt_tokens"] == 2
    assert by_model["atlas-internal"]["refusals"] == {"no_grant": 1}
    # an organization sees its own totals only; the public sees none
    assert all(
        i["organization_id"] == deployment.reg.ids["Atlas Labs"]
        for i in deployment.reg.ok("dev", "GET", "/usage")["items"]
    )
    assert deployment.reg.call(None, "GET", "/usage").status_code == 401


def test_the_snapshot_endpoint_needs_the_gateway_token(deployment: Deployment) -> None:
    url = f"{deployment.served.url}/api/v1/snapshot"
    assert httpx.get(url).status_code == 401
    admin = {"Authorization": f"Bearer {deployment.key('admin')}"}
    assert httpx.get(url, headers=admin).status_code == 401
    signed = httpx.get(url, headers={"Authorization": f"Bearer {deployment.token}"})
    assert signed.status_code == 200 and signed.json()["payloadType"].endswith("snapshot+json")
