"""One JSON error shape for every failure of the REST API, and no tracebacks."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from clearance.errors import ClearanceError

log = logging.getLogger("clearance.api")

LOGGED = "_clearance_logged"
"""Set on an exception the error handler has logged (with its traceback) and answered 500."""


def error_body(status: int, code: str, message: str, field: str | None = None) -> dict[str, Any]:
    """The error shape: {"error": {"status", "code", "message", "field"}}."""
    return {"error": {"status": status, "code": code, "message": message, "field": field}}


def error_response(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    """An error as a JSON response."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        error_body(status, code, message, field), status_code=status, headers=headers
    )


KeyCheck = Callable[[Request], None]
_KEY_CHECKS: dict[Callable[..., Any], KeyCheck] = {}


OPTIONAL_CHECKS: set[KeyCheck] = set()
"""Checks of a key the caller may leave out (public reads that show more to some callers)."""


def authenticates(dependency: Callable[..., Any], check: KeyCheck, required: bool = True) -> None:
    """Declare `dependency` (a route's `Depends`) as one that needs a key, checked by `check`.

    A request that fails validation on a route with such a dependency is answered 401 when
    `check` refuses its key: who is calling is settled before what was sent is looked at.
    """
    _KEY_CHECKS[dependency] = check
    if not required:
        OPTIONAL_CHECKS.add(check)


def _key_checks(request: Request) -> list[KeyCheck]:
    return key_checks_of(getattr(request.scope.get("route"), "dependant", None))


def key_checks_of(dependant: Any) -> list[KeyCheck]:
    """The key checks among a route's dependencies (recursively)."""
    found: list[KeyCheck] = []
    pending = [dependant]
    while pending:
        dependant = pending.pop()
        if dependant is None:
            continue
        check = _KEY_CHECKS.get(dependant.call) if dependant.call is not None else None
        if check is not None:
            found.append(check)
        pending.extend(dependant.dependencies)
    return found


def install_error_handlers(app: FastAPI) -> None:
    """Route every exception to the one error shape."""

    @app.exception_handler(ClearanceError)
    async def _clearance(_: Request, exc: ClearanceError) -> JSONResponse:
        field = None
        if exc.http_status == 422 and ":" in exc.message:
            field = exc.message.split(":", 1)[0].strip() or None
        return error_response(exc.http_status, exc.code, exc.message, field)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        for check in _key_checks(request):
            try:
                await run_in_threadpool(check, request)
            except ClearanceError as refused:
                return error_response(refused.http_status, refused.code, refused.message)
        first = exc.errors()[0]
        location = [str(part) for part in first.get("loc", ()) if part != "body"]
        field = ".".join(location) or None
        message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
        if first.get("type") == "string_pattern_mismatch":
            from clearance.register._values import PATTERN_RULES

            message = PATTERN_RULES.get(str(first.get("ctx", {}).get("pattern")), message)
        text = f"{field}: {message}" if field else message
        return error_response(422, "invalid_input", text, field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}
        return error_response(
            exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        with contextlib.suppress(AttributeError, TypeError):  # an exception without a __dict__
            setattr(exc, LOGGED, True)
        return error_response(
            500, "internal_error", "the register failed to answer; this was logged"
        )
