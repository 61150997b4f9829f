"""The REST API under /api/v1: public reads without a key, writes with one, one error shape."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

from clearance import __version__
from clearance.api._context import Clock, Context, publish_framework, system_clock
from clearance.api._errors import error_body, install_error_handlers
from clearance.api._limits import BodyLimit, InputLimits
from clearance.api._openapi import document_errors

API_PREFIX = "/api/v1"

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(
    context: Context, lifespan: Lifespan | None = None, limits: InputLimits | None = None
) -> FastAPI:
    """The register's ASGI app with the REST API mounted under /api/v1.

    Every request body is bounded by `limits` (the defaults unless given).
    """
    from clearance.api._cases import router as cases
    from clearance.api._evidence import router as evidence
    from clearance.api._keys import router as keys
    from clearance.api._obligations import router as obligations
    from clearance.api._orders import router as orders
    from clearance.api._parties import router as parties
    from clearance.api._proceedings import router as proceedings
    from clearance.api._testing import router as testing
    from clearance.api._webhooks import router as webhooks

    app = FastAPI(
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
