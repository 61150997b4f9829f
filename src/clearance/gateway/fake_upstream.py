"""A deterministic fake OpenAI-compatible model server, for the default set-up and for tests.

It is not a model: a chat completion echoes the last user message, embeddings are digests, and
token counts are word counts. `clearance fake-upstream --port P` runs it on its own, and
`clearance serve` starts it in-process for models with no upstream configured.

Test hooks, in the last user message: `__sleep:<seconds>__` delays the answer, `__reset__` drops
the connection, `__garbage__` answers with bytes that are not JSON, `__error__` answers 500 with
the upstream key in the message (a gateway must never pass it on).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from typing import Any

from aiohttp import web

FAKE_MODELS = ("fake-model",)
_SLEEP = re.compile(r"__sleep:([0-9.]+)__")


def _words(text: str) -> int:
    return len(text.split())


def _last_user_text(messages: Any) -> str:
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content", "")
            if isinstance(content, list):
                return " ".join(
                    str(part.get("text", "")) for part in content if isinstance(part, dict)
                )
            return str(content)
    return ""


def _prompt_words(messages: Any) -> int:
    if not isinstance(messages, list):
        return 0
    return sum(_words(str(m.get("content", ""))) for m in messages if isinstance(m, dict))


def make_app(api_key: str = "") -> web.Application:
    """The fake upstream's aiohttp app; with `api_key`, calls must present it."""

    async def hooks(request: web.Request, text: str) -> web.StreamResponse | None:
        if api_key and request.headers.get("Authorization") != f"Bearer {api_key}":
            return web.json_response(
                {"error": {"message": "bad upstream key", "type": "auth", "code": "bad_key"}},
                status=401,
            )
        sleep = _SLEEP.search(text)
        if sleep:
            await asyncio.sleep(float(sleep.group(1)))
        if "__reset__" in text:
            assert request.transport is not None
            request.transport.abort()
            raise asyncio.CancelledError
        if "__garbage__" in text:
            return web.Response(body=b"\x00not json at all", content_type="application/json")
        if "__error__" in text:
            return web.json_response(
                {"error": {"message": f"internal failure with key {api_key}", "code": "boom"}},
                status=500,
            )
        return None

    async def chat(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        text = _last_user_text(body.get("messages"))
        hooked = await hooks(request, text)
        if hooked is not None:
            return hooked
        reply = f"echo: {text}"
        prompt, completion = _prompt_words(body.get("messages")), _words(reply)
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        model = body.get("model", FAKE_MODELS[0])
        if not body.get("stream"):
            return web.json_response(
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": 0,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                }
            )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)

        async def event(choices: list[dict[str, Any]], **extra: Any) -> None:
            chunk = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": model,
                "choices": choices,
                **extra,
            }
            await response.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")

        await event([{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}])
        for n, word in enumerate(reply.split(" ")):
            piece = word if n == 0 else " " + word
            await event([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
        await event([{"index": 0, "delta": {}, "finish_reason": "stop"}])
        options = body.get("stream_options") or {}
        if options.get("include_usage"):
            await event([], usage=usage)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def embeddings(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        inputs = body.get("input", "")
        items = inputs if isinstance(inputs, list) else [inputs]
        hooked = await hooks(request, " ".join(map(str, items)))
        if hooked is not None:
            return hooked
        data = []
        for index, item in enumerate(items):
            digest = hashlib.sha256(str(item).encode()).digest()
            vector = [round(b / 255.0, 6) for b in digest[:8]]
            data.append({"object": "embedding", "index": index, "embedding": vector})
        tokens = sum(_words(str(i)) for i in items)
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": body.get("model", FAKE_MODELS[0]),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def responses(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        given = body.get("input", "")
        text = given if isinstance(given, str) else _last_user_text(given)
        hooked = await hooks(request, text)
        if hooked is not None:
            return hooked
        reply = f"echo: {text}"
        return web.json_response(
            {
                "id": "resp_fake",
                "object": "response",
                "created_at": 0,
                "status": "completed",
                "model": body.get("model", FAKE_MODELS[0]),
                "output": [
                    {
                        "id": "msg_fake",
                        "type": "message",
                        "role": "assistant",
                        "status": "completed",
                        "content": [{"type": "output_text", "text": reply, "annotations": []}],
                    }
                ],
                "parallel_tool_calls": False,
                "tool_choice": "auto",
                "tools": [],
                "usage": {
                    "input_tokens": _words(text),
                    "output_tokens": _words(reply),
                    "total_tokens": _words(text) + _words(reply),
                    "input_tokens_details": {"cached_tokens": 0},
                    "output_tokens_details": {"reasoning_tokens": 0},
                },
            }
        )

    async def models(_: web.Request) -> web.StreamResponse:
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in FAKE_MODELS]
        return web.json_response({"object": "list", "data": data})

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/v1/embeddings", embeddings)
    app.router.add_post("/v1/responses", responses)
    app.router.add_get("/v1/models", models)
    return app


async def start(
    host: str = "127.0.0.1", port: int = 0, api_key: str = ""
) -> tuple[web.AppRunner, str]:
    """Start the fake upstream in the running loop; returns its runner and base URL (…/v1)."""
    runner = web.AppRunner(make_app(api_key), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    assert server is not None
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, f"http://{host}:{bound}/v1"


def run(host: str = "127.0.0.1", port: int = 8090, api_key: str = "") -> None:
    """Run the fake upstream until interrupted."""
    web.run_app(make_app(api_key), host=host, port=port, access_log=None, print=None)
