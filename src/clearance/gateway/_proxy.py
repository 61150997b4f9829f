"""The gateway: an OpenAI-compatible ASGI app that decides every call, then forwards or refuses.

Kept off FastAPI on purpose: the hot path is a dict look-up for the key, a cached decision, a
counter, and one request upstream on a pooled keep-alive connection (`_client`), carrying the
caller's body bytes unchanged. Streams are passed through event by event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from clearance.gateway._client import UpstreamPool
from clearance.gateway._errors import error_json
from clearance.gateway._health import Health
from clearance.gateway._limits import Limiter, LocalLimiter
from clearance.gateway._metering import NO_GRANT, Meter
from clearance.gateway._upstreams import Upstream, Upstreams
from clearance.ledger import VerifierKey, verify_envelope
from clearance.policy import (
    PAYLOAD_TYPE,
    Decider,
    GrantEntry,
    KeyEntry,
    Snapshot,
    Verdict,
    parse_snapshot,
)

log = logging.getLogger("clearance.gateway")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

FORWARDED = {"/chat/completions", "/embeddings", "/responses"}
ENDPOINTS = "POST /v1/chat/completions, /v1/embeddings, /v1/responses and GET /v1/models"
OPENAI_PATHS = ("/chat/completions", "/completions", "/embeddings", "/responses", "/models")


def misdirected(path: str, method: str) -> str | None:
    """For a register serving the gateway at /v1: why a call looks meant for it, or None.

    `/v1` alone is the base URL itself; an OpenAI path at the root, or POSTed under another
    prefix (`/api/v1/chat/completions`), is a client given the wrong base URL.
    """
    if path in ("/v1", "/v1/"):
        return (
            "/v1 is the gateway's base URL, not an endpoint: give it to your client as its "
            f"base_url; the gateway serves {ENDPOINTS}"
        )
    for endpoint in OPENAI_PATHS:
        if path == endpoint or (
            method == "POST" and endpoint != "/models" and path.endswith(endpoint)
        ):
            return (
                f"no such endpoint: {path}; the gateway's base URL ends in /v1 (for example "
                f"base_url='http://HOST:PORT/v1'), so this call goes to /v1{endpoint}"
            )
    return None


JSON_HEADERS = [(b"content-type", b"application/json")]
SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
REDACTED = b"[redacted]"
DEFAULT_MAX_BODY = 4 * 1024 * 1024


class SnapshotRefused(Exception):
    """A snapshot that does not verify, is malformed, or would roll the gateway back."""


class Gateway:
    """The OpenAI-compatible proxy; `install` swaps in a new signed snapshot."""

    def __init__(
        self,
        *,
        upstreams: Upstreams,
        trusted: Sequence[VerifierKey],
        decider: Decider | None = None,
        limiter: Limiter | None = None,
        meter: Meter | None = None,
        clock: Callable[[], float] = time.time,
        max_body: int = DEFAULT_MAX_BODY,
        timeout: float = 60.0,
        connections: int = 256,
        health: Health | None = None,
    ) -> None:
        self.upstreams = upstreams
        self.trusted = tuple(trusted)
        self.decider = decider or Decider()
        self.limiter: Limiter = limiter or LocalLimiter()
        self.meter = meter or Meter()
        self.health: Health = health or getattr(self.limiter, "health", None) or Health()
        self.clock = clock
        self.max_body = max_body
        self.timeout = timeout
        self.connections = connections
        self._pool = UpstreamPool(idle_per_host=connections)
        self._secrets = [s.encode() for s in upstreams.secrets()]

    def set_upstreams(self, upstreams: Upstreams) -> None:
        """Route models to these upstreams from now on."""
        self.upstreams = upstreams
        self._secrets = [s.encode() for s in upstreams.secrets()]

    # -- snapshots -------------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot | None:
        """The snapshot in force, if any."""
        return self.decider.snapshot

    def install(self, signed: bytes) -> bool:
        """Verify a signed snapshot and swap it in; False when it is the one already in force.

        Refuses (SnapshotRefused) a bad signature, a malformed payload, or an older version: a
        replay of an old snapshot must not roll the gateway back.
        """
        try:
            envelope, _ = verify_envelope(signed, self.trusted, payload_type=PAYLOAD_TYPE)
            snapshot = parse_snapshot(json.loads(envelope.payload))
        except Exception as exc:
            raise SnapshotRefused(f"the snapshot was refused: {exc}") from None
        current = self.decider.snapshot
        if current is not None:
            if snapshot.version < current.version or (
                snapshot.version == current.version and snapshot.digest != current.digest
            ):
                raise SnapshotRefused(
                    f"the snapshot version {snapshot.version} is older than the one in force "
                    f"({current.version})"
                )
            if snapshot.version == current.version and snapshot.issued_at <= current.issued_at:
                return False
        self.decider.swap(snapshot)
        self.meter.snapshot_version = snapshot.version
        self.meter.snapshot_expires_at = snapshot.expires_at
        return True

    # -- lifecycle -------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the upstream connections."""
        self._pool.close()

    # -- ASGI ------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await _lifespan(self, receive, send)
            return
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if path.startswith("/v1/"):
            path = path[3:]
        elif path == "/v1":
            path = "/"
        method = scope["method"]
        if path in FORWARDED:
            if method != "POST":
                return await _reply(send, 405, "method_not_allowed", f"{path} takes POST")
            return await self._forward(scope, receive, send, path)
        if path == "/models" and method == "GET":
            return await self._models(scope, send)
        if path == "/":
            message = f"/v1 is the gateway's base URL, not an endpoint; it serves {ENDPOINTS}"
        else:
            message = f"no such endpoint: /v1{path}; the gateway serves {ENDPOINTS}"
        await _reply(send, 404, "unknown_url", message)

    def _caller(self, scope: Scope, now: float) -> tuple[KeyEntry | None, Verdict | None, str, int]:
        """(the key's entry, refusal, use case, content length) from the request head."""
        token = ""
        use_case = ""
        length = -1
        for name, value in scope["headers"]:
            if name == b"authorization":
                token = value.decode("latin-1")
            elif name == b"content-length":
                length = int(value) if value.isdigit() else -1
            elif name == b"x-clearance-use-case":
                use_case = value.decode("latin-1").strip()
        snapshot = self.decider.snapshot
        if snapshot is None or now >= snapshot.expires_at:
            return None, self.decider.decide_uncached("", "", "", now), use_case, length
        scheme, _, key = token.partition(" ")
        entry = self.decider.authenticate(key.strip()) if scheme.lower() == "bearer" else None
        if entry is None or (entry.expires_at is not None and now >= entry.expires_at):
            refusal = Verdict(False, "invalid_api_key", "the API key is not valid")
            return None, refusal, use_case, length
        return entry, None, use_case, length

    def _route(self, model: str, grant: GrantEntry | None) -> Upstream | None:
        """Where a call goes: a testing grant's pre-release server (the authority's tests); the
        upstreams file's route for the model; the server its developer named in the register;
        the file's default."""
        snapshot = self.decider.snapshot
        entry = snapshot.models.get(model) if snapshot is not None else None
        if grant is not None and grant.testing and grant.upstream and entry is not None:
            return self.upstreams.for_url(grant.upstream, entry.organization_id)
        named = self.upstreams.named(model)
        if named is not None:
            return named
        if entry is not None and entry.upstream:
            return self.upstreams.for_url(entry.upstream, entry.organization_id)
        return self.upstreams.for_model(model)

    async def _models(self, scope: Scope, send: Send) -> None:
        now = self.clock()
        key, refusal, use_case, _ = self._caller(scope, now)
        if refusal is not None or key is None:
            assert refusal is not None
            return await _reply(send, refusal.http_status, refusal.code, refusal.message)
        org = key.organization_id
        snapshot = self.decider.snapshot
        assert snapshot is not None
        data = []
        for name in sorted(snapshot.models):
            verdict = self.decider.decide(org, name, use_case, now, key.channel, tester=key.tester)
            # a model whose grant wants a declared use case is listed: it is callable with one
            callable_ = verdict.allowed or verdict.code == "use_case_required"
            if callable_ and self._route(name, None) is not None:
                owner = snapshot.models[name].organization_id
                data.append({"id": name, "object": "model", "created": 0, "owned_by": owner})
        body = json.dumps({"object": "list", "data": data}).encode()
        await _send(send, 200, JSON_HEADERS, body)

    async def _forward(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        now = self.clock()
        key, refusal, use_case, length = self._caller(scope, now)
        if refusal is not None or key is None:
            assert refusal is not None
            self.meter.refusal(refusal.code, "-", "-")
            return await _reply(send, refusal.http_status, refusal.code, refusal.message)
        org = key.organization_id
        if length > self.max_body:
            return await self._too_large(send, org)
        chunks = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return await self._too_large(send, org)
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        try:
            request = json.loads(body)
        except ValueError:
            self.meter.refusal("invalid_json", "-", org)
            return await _reply(send, 400, "invalid_json", "the request body is not valid JSON")
        except RecursionError:
            self.meter.refusal("invalid_json", "-", org)
            return await _reply(
                send, 400, "invalid_json", "the request body's JSON is nested too deeply"
            )
        model = request.get("model") if isinstance(request, dict) else None
        if not isinstance(model, str) or not model:
            self.meter.refusal("missing_model", "-", org)
            return await _reply(
                send, 400, "missing_model", "the request needs a 'model' (a string)", "model"
            )
        verdict = self.decider.decide(org, model, use_case, now, key.channel, tester=key.tester)
        if not verdict.allowed:
            self.meter.refusal(verdict.code, model, org)
            return await _reply(send, verdict.http_status, verdict.code, verdict.message, "model")
        grant = verdict.grant
        grant_id = NO_GRANT if grant is None else grant.id
        if grant is not None and (grant.requests_per_minute or grant.tokens_per_minute):
            wait = await self.limiter.admit(
                grant.id, grant.requests_per_minute, grant.tokens_per_minute, now
            )
            if wait is not None:
                self.meter.refusal("rate_limited", model, org)
                return await _reply(
                    send,
                    429,
                    "rate_limited",
                    f"your organization's grant for {model!r} allows "
                    f"{grant.requests_per_minute or 'unlimited'} requests and "
                    f"{grant.tokens_per_minute or 'unlimited'} tokens a minute; retry in "
                    f"{int(wait)} s",
                    extra=[(b"retry-after", str(int(wait)).encode())],
                )
        upstream = self._route(model, grant)
        if upstream is None:
            self.meter.refusal("upstream_not_configured", model, org)
            return await _reply(
                send, 502, "upstream_not_configured", f"no upstream serves the model {model!r}"
            )
        url = upstream.base_url + path
        if request.get("stream") is True:
            await self._stream(
                send, url, upstream.api_key, body, request, path, (model, org, grant_id)
            )
        else:
            await self._once(send, url, upstream.api_key, body, (model, org, grant_id))
        return None

    async def _too_large(self, send: Send, org: str) -> None:
        self.meter.refusal("body_too_large", "-", org)
        await _reply(
            send,
            413,
            "body_too_large",
            f"the request body is larger than this gateway accepts ({self.max_body} bytes)",
        )

    async def _once(
        self, send: Send, url: str, api_key: str, body: bytes, who: tuple[str, str, str]
    ) -> None:
        # the caller's body bytes go upstream as they came: parsed once for the decision,
        # never serialized again
        try:
            status, data = await self._pool.post(url, api_key, body, self.timeout)
        except Exception as exc:
            self.meter.failure(*who)
            return await self._upstream_failed(send, exc, who[0])
        data = self._scrub(data)
        if status >= 500:
            self.meter.failure(*who)
            return await _reply(
                send, 502, "upstream_error", f"the upstream for {who[0]!r} failed ({status})"
            )
        try:
            parsed = json.loads(data)
            if not isinstance(parsed, dict):
                raise ValueError("not an object")
        except ValueError:
            self.meter.failure(*who)
            return await _reply(
                send,
                502,
                "upstream_invalid_response",
                f"the upstream for {who[0]!r} answered with something other than JSON",
            )
        prompt, completion = _usage(parsed)
        self.meter.call(*who, prompt, completion)
        await self._count_tokens(who[2], prompt + completion)
        await _send(send, status, JSON_HEADERS, data)

    async def _stream(
        self,
        send: Send,
        url: str,
        api_key: str,
        body: bytes,
        request: dict[str, Any],
        path: str,
        who: tuple[str, str, str],
    ) -> None:
        strip_usage = False
        if path == "/chat/completions":
            options = request.get("stream_options")
            if not (isinstance(options, dict) and options.get("include_usage")):
                # usage is what metering counts: ask for it, and keep it from a caller who
                # did not
                body = json.dumps({**request, "stream_options": {"include_usage": True}}).encode()
                strip_usage = True
        try:
            response = await self._pool.stream(url, api_key, body, self.timeout)
        except Exception as exc:
            self.meter.failure(*who)
            return await self._upstream_failed(send, exc, who[0])
        prompt = completion = 0
        started = False
        try:
            if response.status != 200:
                data = self._scrub(await response.read_all(self.timeout))
                self.meter.failure(*who)
                if response.status >= 500:
                    return await _reply(
                        send, 502, "upstream_error", f"the upstream for {who[0]!r} failed"
                    )
                return await _send(send, response.status, JSON_HEADERS, data)
            await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
            started = True
            pending = b""
            while chunk := await response.read(self.timeout):
                pending += chunk
                if b"\n\n" not in pending:
                    continue
                complete, _, pending = pending.rpartition(b"\n\n")
                out = []
                for event in complete.split(b"\n\n"):
                    if b'"usage"' in event:
                        found, usage_only = _event_usage(event)
                        if found is not None:
                            prompt, completion = found
                            if strip_usage and usage_only:
                                continue
                    out.append(event)
                if out:
                    text = self._scrub(b"\n\n".join(out) + b"\n\n")
                    await send({"type": "http.response.body", "body": text, "more_body": True})
            if pending.strip():
                await send({"type": "http.response.body", "body": pending, "more_body": True})
        except Exception as exc:
            self.meter.failure(*who)
            if not started:
                return await self._upstream_failed(send, exc, who[0])
            error = error_json(502, "upstream_unavailable", "the upstream stream broke off")
            await send({"type": "http.response.body", "body": b"data: " + error + b"\n\n"})
            return None
        finally:
            response.release()
        self.meter.call(*who, prompt, completion)
        await self._count_tokens(who[2], prompt + completion)
        await send({"type": "http.response.body", "body": b""})

    async def _count_tokens(self, grant_id: str, tokens: int) -> None:
        if grant_id == NO_GRANT or not tokens:
            return
        try:
            await self.limiter.add_tokens(grant_id, tokens, self.clock())
        except Exception:
            log.exception("could not count tokens toward the limits of %s", grant_id)

    async def _upstream_failed(self, send: Send, exc: Exception, model: str) -> None:
        if isinstance(exc, asyncio.TimeoutError):
            return await _reply(
                send, 504, "upstream_timeout", f"the upstream for {model!r} did not answer in time"
            )
        log.warning("upstream for %s failed: %s", model, type(exc).__name__)
        await _reply(
            send, 502, "upstream_unavailable", f"the upstream for {model!r} could not be reached"
        )

    def _scrub(self, data: bytes) -> bytes:
        for secret in self._secrets:
            if secret in data:
                data = data.replace(secret, REDACTED)
        return data


def _usage(body: dict[str, Any]) -> tuple[int, int]:
    usage = body.get("usage")
    if not isinstance(usage, dict):
        response = body.get("response")
        usage = response.get("usage") if isinstance(response, dict) else None
    if not isinstance(usage, dict):
        return 0, 0
    prompt = usage.get("prompt_tokens", usage.get("input_tokens", 0))
    completion = usage.get("completion_tokens", usage.get("output_tokens", 0))
    return (
        prompt if isinstance(prompt, int) else 0,
        completion if isinstance(completion, int) else 0,
    )


def _event_usage(event: bytes) -> tuple[tuple[int, int] | None, bool]:
    """(prompt, completion) from an SSE event carrying usage, and whether it carries only that."""
    for line in event.split(b"\n"):
        if not line.startswith(b"data:"):
            continue
        try:
            parsed = json.loads(line[5:])
        except ValueError:
            return None, False
        if not isinstance(parsed, dict):
            return None, False
        usage = _usage(parsed)
        if usage == (0, 0) and not isinstance(parsed.get("usage"), dict):
            return None, False
        return usage, parsed.get("choices") == []
    return None, False


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _reply(
    send: Send,
    status: int,
    code: str,
    message: str,
    param: str | None = None,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = JSON_HEADERS + (extra or [])
    if status == 401:
        headers = [*headers, (b"www-authenticate", b"Bearer")]
    await _send(send, status, headers, error_json(status, code, message, param))


async def _lifespan(gateway: Gateway, receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await gateway.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
