"""Limits on what a request may bring: body size for every endpoint, and JSON nesting.

One ASGI middleware sits in front of the whole register (the gateway under /v1 has its own
limit and error shape). A body over the limit is refused with 413 before a handler runs: at
once when Content-Length says so, else as soon as the bytes read pass it. A JSON body nested
deeper than the limit is refused with 422 naming the limit, before any parser recurses into it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool

from clearance.api._errors import error_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY = 1024 * 1024
DEFAULT_MAX_UPLOAD = 256 * 1024 * 1024
DEFAULT_JSON_DEPTH = 32

UPLOAD_PATHS = ("/api/v1/evidence",)
"""Endpoints whose body is a file (evidence): the upload limit instead of the body limit."""


@dataclass(frozen=True)
class InputLimits:
    """What a request to the register may bring (`clearance serve --max-body` and friends)."""

    max_body: int = DEFAULT_MAX_BODY
    """Bytes in any request body but an evidence file's (JSON bodies, framework YAML)."""
    max_upload: int = DEFAULT_MAX_UPLOAD
    """Bytes in an evidence file uploaded to POST /api/v1/evidence."""
    json_depth: int = DEFAULT_JSON_DEPTH
    """How deep a JSON request body may nest arrays and objects."""


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def json_too_deep(raw: bytes, limit: int) -> bool:
    """Whether JSON text nests arrays and objects deeper than `limit` (no parser recursion)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: the body-size limit on every REST endpoint, and the JSON depth limit."""

    def __init__(self, app: ASGIApp, limits: InputLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path == "/v1" or path.startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        limit = self.limits.max_upload if path in UPLOAD_PATHS else self.limits.max_body
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, 413, "too_large", f"the body is over the limit of {limit} bytes")
            return
        headers = dict(scope.get("headers") or [])
        is_json = b"json" in headers.get(b"content-type", b"")
        if is_json and path not in UPLOAD_PATHS:
            # read whole (it is bounded), look at its depth, and hand the bytes on
            try:
                raw = await _read(receive, limit)
            except _TooLarge:
                await _refuse(
                    send, 413, "too_large", f"the body is over the limit of {limit} bytes"
                )
                return
            if await run_in_threadpool(json_too_deep, raw, self.limits.json_depth):
                await _refuse(
                    send,
                    422,
                    "invalid_input",
                    f"body: JSON nested deeper than {self.limits.json_depth} levels (the limit)",
                    "body",
                )
                return
            await self.app(scope, _replay(raw, receive), send)
            return
        await self.app(scope, _counting(receive, limit), send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _read(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(raw: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()

    return replay


def _counting(receive: Receive, limit: int) -> Receive:
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                from fastapi import HTTPException

                # FastAPI turns any other error while reading the body into a 400
                raise HTTPException(413, f"the body is over the limit of {limit} bytes")
        return message

    return counted


async def _refuse(
    send: Send, status: int, code: str, message: str, field: str | None = None
) -> None:
    body = json.dumps(error_body(status, code, message, field)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
