"""The OpenAI-compatible server in front of the local model (aiohttp; one generation at a time)."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from clearance.errors import ClearanceError
from clearance.local_model._model import LocalModel, load_model


def _error(status: int, message: str, code: str) -> web.Response:
    body = {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    }
    return web.json_response(body, status=status)


def make_app(model: LocalModel, api_key: str = "") -> web.Application:
    """The server's aiohttp app; with `api_key`, calls must present it as a bearer token."""
    lock = asyncio.Lock()  # llama.cpp runs one generation at a time; the work runs in a thread

    def refused(request: web.Request) -> web.Response | None:
        if api_key and request.headers.get("Authorization") != f"Bearer {api_key}":
            return _error(401, "wrong or missing API key", "invalid_api_key")
        return None

    async def chat(request: web.Request) -> web.StreamResponse:
        bad = refused(request)
        if bad is not None:
            return bad
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "the body is not JSON", "invalid_json")
        if not isinstance(body, dict):
            return _error(400, "the body is not a JSON object", "invalid_json")
        try:
            if not body.get("stream"):
                async with lock:
                    answer = await asyncio.to_thread(model.complete, body)
                return web.json_response(answer)
            async with lock:
                chunks = model.stream(body)
                first = await asyncio.to_thread(next, chunks, None)
                response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
                await response.prepare(request)
                try:
                    chunk = first
                    while chunk is not None:
                        await response.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                        chunk = await asyncio.to_thread(next, chunks, None)
                finally:
                    chunks.close()
                await response.write(b"data: [DONE]\n\n")
                await response.write_eof()
                return response
        except (ClearanceError, ValueError, TypeError) as exc:
            return _error(400, str(exc), "invalid_request")

    async def models(request: web.Request) -> web.StreamResponse:
        bad = refused(request)
        if bad is not None:
            return bad
        data = [{"id": model.name, "object": "model", "created": 0, "owned_by": "clearance"}]
        return web.json_response({"object": "list", "data": data})

    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/v1/models", models)
    return app


async def start(
    host: str = "127.0.0.1", port: int = 0, api_key: str = "", model: LocalModel | None = None
) -> tuple[web.AppRunner, str]:
    """Start the server in the running loop (loading the model unless given one); returns its
    runner and base URL (…/v1)."""
    if model is None:
        model = await asyncio.to_thread(load_model)
    runner = web.AppRunner(make_app(model, api_key), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    assert server is not None
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, f"http://{host}:{bound}/v1"


def run(host: str = "127.0.0.1", port: int = 8090, api_key: str = "") -> None:
    """Load the model and serve it until interrupted."""
    model = load_model()
    web.run_app(make_app(model, api_key), host=host, port=port, access_log=None, print=None)
