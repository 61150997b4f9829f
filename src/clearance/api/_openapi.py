"""Every error an operation can answer, in the OpenAPI description, in the one error shape.

FastAPI documents only 422, and in its own shape; the register answers every error as
`{"error": {...}}`. Here each operation gets the statuses it can answer: 400, 404 and 422 (any
request), 413 when it takes a body, 401 when it looks at a key, 403 and 409 when it needs one
(a role, a state of the case), 502 for the authority's evaluation runs (the model kept failing),
503 for the log's reads (no checkpoint yet).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, routing
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from clearance.api._errors import OPTIONAL_CHECKS, key_checks_of

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message", "field"],
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": ["string", "null"]},
            },
        }
    },
}

WHY = {
    400: "The request cannot be taken as it is.",
    401: "No API key, or one that is not valid (or was revoked).",
    403: "The key's principal may not do this.",
    404: "No such record.",
    409: "The record is not in a state that allows this.",
    413: "The body is over the size limit.",
    422: "The input does not follow its schema (or a limit on nesting or names).",
    502: "The evaluation did not finish: the model kept failing (retried a few times), or the "
    "gateway refused it.",
    503: "Not yet available (no signed checkpoint covers it).",
}


def _statuses(route: Any, method: str) -> set[int]:
    statuses = {400, 404, 422}
    if method in ("post", "put", "patch"):
        statuses.add(413)
    checks = key_checks_of(route.dependant)
    if checks:
        statuses.add(401)
        if any(check not in OPTIONAL_CHECKS for check in checks):
            statuses |= {403, 409}
    if route.path.startswith("/log/"):
        statuses.add(503)
    if route.path.endswith("/evaluations") and method == "post":
        statuses.add(502)
    return statuses


def document_errors(app: FastAPI) -> None:
    """Make `app.openapi()` list every error status of each operation, in the error shape."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        spec.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        for schema in ("HTTPValidationError", "ValidationError"):
            spec["components"]["schemas"].pop(schema, None)
        # the routes as FastAPI sees them, routers included (as get_openapi walks them)
        for route in routing.iter_route_contexts(app.routes):
            if not isinstance(route.original_route, APIRoute) or not getattr(
                route, "include_in_schema", True
            ):
                continue
            operations = spec["paths"].get(route.path_format, {})
            for method in getattr(route, "methods", None) or ():
                operation = operations.get(method.lower())
                if operation is None:
                    continue
                responses = operation.setdefault("responses", {})
                for status in sorted(_statuses(route, method.lower())):
                    responses[str(status)] = {
                        "description": WHY[status],
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    }
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
