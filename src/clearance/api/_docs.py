"""docs/api.md from the OpenAPI description, so the REST API's reference cannot go stale."""

from __future__ import annotations

from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")


def openapi_markdown(spec: dict[str, Any]) -> str:
    """A Markdown reference of every endpoint: method, path, summary, parameters, body."""
    lines = [
        "# REST API reference",
        "",
        "Generated from the OpenAPI description (`/openapi.json`) by",
        "`python scripts/make_api_docs.py`; a test fails when it is out of date.",
        "",
        "Reads are public; writes need `Authorization: Bearer <API key>`. Every error has one",
        'shape: `{"error": {"status", "code", "message", "field"}}`. Lists are paginated with',
        "`limit` and the `next` cursor of the previous page (`after`).",
        "",
        "The one-process server adds the transparency log under `/log` (C2SP tlog-tiles; see",
        "the README) and the gateway under `/v1` with `/api/v1/snapshot` and `/api/v1/usage`",
        "(see [gateway.md](gateway.md)).",
    ]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, operations in spec["paths"].items():
        for method in METHODS:
            if method in operations:
                operation = operations[method]
                tag = (operation.get("tags") or ["other"])[0]
                by_tag.setdefault(tag, []).append((method.upper(), path, operation))
    for tag in sorted(by_tag):
        lines += ["", f"## {tag}"]
        for method, path, operation in by_tag[tag]:
            lines += ["", f"### `{method} {path}`", ""]
            summary = (operation.get("description") or operation.get("summary") or "").strip()
            lines.append(summary.splitlines()[0] if summary else "(no description)")
            parameters = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
            if parameters:
                lines += ["", "Query: " + ", ".join(f"`{p['name']}`" for p in parameters)]
            body = operation.get("requestBody", {}).get("content", {})
            schema = body.get("application/json", {}).get("schema", {})
            reference = schema.get("$ref", "")
            if reference:
                name = reference.rsplit("/", 1)[-1]
                fields = spec["components"]["schemas"][name].get("properties", {})
                lines += ["", f"Body ({name}): " + ", ".join(f"`{f}`" for f in fields)]
    return "\n".join(lines) + "\n"
