"""The REST API under /api/v1: public reads without a key, writes with one, one error shape.

The package's names are imported when first used (PEP 562), so that what only needs the
request bodies (`clearance.api._bodies`, shared with `clearance.client`) does not pay for FastAPI
and the store.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from clearance.api._context import Clock, Context, publish_framework, system_clock
    from clearance.api._errors import error_body
    from clearance.api._limits import InputLimits

API_PREFIX = "/api/v1"

Lifespan = Callable[["FastAPI"], AbstractAsyncContextManager[None]]

_LAZY = {
    "Clock": "clearance.api._context",
    "Context": "clearance.api._context",
    "publish_framework": "clearance.api._context",
    "system_clock": "clearance.api._context",
    "error_body": "clearance.api._errors",
    "InputLimits": "clearance.api._limits",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def create_app(
    context: Context, lifespan: Lifespan | None = None, limits: InputLimits | None = None
) -> FastAPI:
    """The register's ASGI app with the REST API mounted under /api/v1.

    Every request body is bounded by `limits` (the defaults unless given).
    """
    from fastapi import FastAPI

    from clearance import __version__
    from clearance.api._cases import router as cases
    from clearance.api._errors import LOGGED, install_error_handlers
    from clearance.api._evidence import router as evidence
    from clearance.api._keys import router as keys
    from clearance.api._limits import BodyLimit, InputLimits
    from clearance.api._obligations import router as obligations
    from clearance.api._openapi import document_errors
    from clearance.api._orders import router as orders
    from clearance.api._parties import router as parties
    from clearance.api._proceedings import router as proceedings
    from clearance.api._testing import router as testing
    from clearance.api._webhooks import router as webhooks

    class Register(FastAPI):
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            try:
                await super().__call__(scope, receive, send)
            except Exception as exc:
                # Starlette re-raises what its error handler answered, for the server to log;
                # the handler has logged it with the request, so the traceback is logged once
                if not getattr(exc, LOGGED, False):
                    raise

    app = Register(
        title="clearance register",
        version=__version__,
        description=(
            "Release applications, decisions with reasons, appeals, directives, access grants "
            "and risk reports for frontier AI models. Reads are public; writes need an API key."
        ),
        openapi_url="/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.context = context
    app.state.limits = limits or InputLimits()
    app.add_middleware(BodyLimit, limits=app.state.limits)
    install_error_handlers(app)
    routers = (parties, keys, evidence, cases, testing, obligations, orders, proceedings)
    for router in (*routers, webhooks):
        app.include_router(router, prefix=API_PREFIX)
    document_errors(app)
    return app


__all__ = [
    "API_PREFIX",
    "Clock",
    "Context",
    "InputLimits",
    "create_app",
    "error_body",
    "publish_framework",
    "system_clock",
]
