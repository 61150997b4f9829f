"""Webhook notices: signed by the Standard Webhooks spec, retried, never lost, never doubled.

Signatures are checked with the `standardwebhooks` package, an implementation of the spec that
is not ours. Receivers are real HTTP servers on loopback.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook

from clearance.api import Context
from clearance.server._notices import deliver, http_client
from clearance.store import Store, retry_delay
from tests.register_fixtures import Register
from tests.test_register_lifecycle import file_application


@dataclass
class Receiver:
    """A loopback webhook receiver: answers the queued statuses (then 204), keeps what came."""

    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            found.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(found.statuses.pop(0) if found.statuses else 204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield found
    server.shutdown()
    server.server_close()


def context(reg: Register) -> Context:
    ctx: Context = reg.client.app.state.context  # type: ignore[attr-defined]
    return ctx


def run_worker(reg: Register, store: Store | None = None) -> int:
    ctx = context(reg)
    with http_client() as client:
        return deliver(store or ctx.store, ctx, client)


def subscribe(reg: Register, url: str, who: str = "dev") -> dict[str, Any]:
    org = reg.ids["Atlas Labs"]
    return dict(reg.ok(who, "POST", f"/organizations/{org}/webhooks", json={"url": url}))


def halt(reg: Register) -> dict[str, Any]:
    body = {"action": "halt", "model": "atlas-2", "grounds": "Incident.", "urgent": True}
    return dict(reg.ok("admin", "POST", "/directives", json=body))


def messages(reg: Register) -> list[dict[str, Any]]:
    org = reg.ids["Atlas Labs"]
    return list(reg.ok("dev", "GET", f"/organizations/{org}/webhooks/messages")["items"])


def test_a_halt_is_told_signed_and_retried_until_2xx(
    register: Register, receiver: Receiver
) -> None:
    reg = register
    file_application(reg)
    endpoint = subscribe(reg, receiver.url)
    assert endpoint["secret"].startswith("whsec_") and endpoint["url"] == receiver.url
    listed = reg.ok("dev", "GET", f"/organizations/{reg.ids['Atlas Labs']}/webhooks")["items"]
    assert [e["id"] for e in listed] == [endpoint["id"]] and "secret" not in listed[0]
    directive = halt(reg)
    receiver.statuses = [500, 500]  # the halt and its hearing: both fail once
    run_worker(reg)
    halted = next(m for m in messages(reg) if m["type"] == "directive.issued")
    assert halted["state"] == "pending" and [a["status"] for a in halted["attempts"]] == [500]
    sent = len(receiver.received)
    assert run_worker(reg) == 0 and len(receiver.received) == sent  # not due before its backoff
    reg.clock.advance(seconds=retry_delay(1).total_seconds())
    run_worker(reg)
    halted = next(m for m in messages(reg) if m["id"] == halted["id"])
    assert halted["state"] == "delivered"
    assert [a["status"] for a in halted["attempts"]] == [500, 204]

    # every notice verifies with an independent implementation of the spec
    webhook = Webhook(endpoint["secret"])
    told = [webhook.verify(body, headers) for headers, body in receiver.received]
    issued = [n for n in told if n["type"] == "directive.issued"]
    assert len(issued) == 2  # the 500, then the retry: the same message, the same webhook-id
    assert len(told) == 4
    assert {h["webhook-id"] for h, b in receiver.received if b"directive.issued" in b} == {
        halted["id"]
    }
    body = issued[0]
    assert body["timestamp"] == "2026-06-01T09:00:00Z"
    assert body["data"]["subject"] == directive["id"]
    assert body["data"]["model"]["name"] == "atlas-2"
    assert body["data"]["records"][0]["action"] == "halt"
    assert {"hearing.opened", "directive.issued"} <= {n["type"] for n in told}
    forged = dict(receiver.received[0][0], **{"webhook-signature": "v1,AAAA"})
    with pytest.raises(Exception, match="signature"):
        webhook.verify(receiver.received[0][1], forged)
    # never a secret in a notice
    for _, raw in receiver.received:
        assert endpoint["secret"].encode() not in raw and b"api_key" not in raw
    # a delivered notice is not sent again, nor redelivered on request
    before = len(receiver.received)
    assert run_worker(reg) == 0 and len(receiver.received) == before
    again = reg.call(
        "dev",
        "POST",
        f"/organizations/{reg.ids['Atlas Labs']}/webhooks/messages/{halted['id']}/redeliver",
    )
    assert again.status_code == 409 and "not sent twice" in again.json()["error"]["message"]


def test_nothing_is_lost_or_doubled_across_a_restart(
    register: Register, receiver: Receiver
) -> None:
    reg = register
    file_application(reg)
    subscribe(reg, receiver.url)
    halt(reg)
    assert receiver.received == []  # written with the act, not sent yet: now the server stops
    reg.client.app.state.context.store.engine.dispose()  # type: ignore[attr-defined]
    restarted = reg.data_dir.open_store()
    assert run_worker(reg, restarted) >= 2  # directive.issued, hearing.opened
    told = len(receiver.received)
    again = reg.data_dir.open_store()
    assert run_worker(reg, again) == 0 and len(receiver.received) == told
    restarted.engine.dispose()
    again.engine.dispose()


def test_an_unreachable_receiver_is_logged_and_redelivered_on_request(
    register: Register, receiver: Receiver
) -> None:
    reg = register
    file_application(reg)
    dead = receiver.url.rsplit(":", 1)[0] + ":9/hooks"  # the discard port: nobody listens
    subscribe(reg, dead)
    halt(reg)
    run_worker(reg)
    failed = messages(reg)[0]
    assert failed["state"] == "pending" and failed["attempts"][0]["status"] is None
    assert failed["attempts"][0]["error"]
    org = reg.ids["Atlas Labs"]
    reg.ok("dev", "POST", f"/organizations/{org}/webhooks/messages/{failed['id']}/redeliver")
    assert next(m for m in messages(reg) if m["id"] == failed["id"])["next_attempt_at"].startswith(
        "2026-06-01T09:00:00"
    )


def test_others_are_not_told(register: Register, receiver: Receiver) -> None:
    reg = register
    file_application(reg)
    rival = reg.ids["Rival AI"]
    reg.ok("rival", "POST", f"/organizations/{rival}/webhooks", json={"url": receiver.url})
    halt(reg)
    assert run_worker(reg) == 0 and receiver.received == []
    forbidden = reg.call("rival", "GET", f"/organizations/{reg.ids['Atlas Labs']}/webhooks")
    assert forbidden.status_code == 403


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://127.0.0.1/hooks", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("http:///nohost", "no host"),
        ("http://testserver/api/v1/events", "this register itself"),
        ("not a url", "http or https"),
    ],
)
def test_bad_webhook_urls_are_refused(register: Register, url: str, why: str) -> None:
    reg = register
    response = reg.call(
        "dev", "POST", f"/organizations/{reg.ids['Atlas Labs']}/webhooks", json={"url": url}
    )
    assert response.status_code == 422, response.text
    assert why in response.json()["error"]["message"]
    assert response.json()["error"]["field"] == "url"
