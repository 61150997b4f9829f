"""Everything a register shows the public, fetched without a key: pages, API answers, the log.

For tests that something never reaches the public: a confidential transcript's content, an
organization's withheld name. Log statements are DSSE envelopes whose payload is base64, so
every string that is base64 or JSON inside an answer is decoded and searched too.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
from typing import Any

from clearance.ledger import BundleKey
from tests.register_fixtures import Register

PARAM = re.compile(r"\{([a-z0-9_]+)(?::path)?\}")
SKIPPED_PREFIXES = ("/static", "/v1", "/api/docs", "/openapi.json", "/docs")


def _values(reg: Register) -> dict[str, list[str]]:
    """Every id the public lists show, by the path parameter that takes it."""

    def items(path: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = f"{path}{'&' if '?' in path else '?'}limit=500" + (
                f"&after={cursor}" if cursor else ""
            )
            page = reg.ok(None, "GET", query)
            found.extend(page["items"])
            cursor = page.get("next")
            if not cursor:
                return found

    applications = items("/applications")
    decisions = items("/decisions")
    evidence = sorted(
        {e["sha256"] for a in applications for e in a["evidence"]}
        | {a["safeguards_declaration"] for a in applications if a["safeguards_declaration"]}
    )
    answers = [reg.ok(None, "GET", f"/decisions/{d['id']}") for d in decisions]
    appeals = [appeal["id"] for answer in answers for appeal in answer["appeals"]]
    obligations = [o["id"] for answer in answers for o in answer["obligations"]]
    frameworks = [f["sha256"] for f in reg.ok(None, "GET", "/frameworks")["items"]]
    framework = reg.ok(None, "GET", "/frameworks/current")["framework"]
    return {
        "name": [m["name"] for m in items("/models")],
        "application_id": [a["id"] for a in applications],
        "decision_id": [d["id"] for d in decisions],
        "appeal_id": appeals,
        "obligation_id": obligations,
        "directive_id": [d["id"] for d in items("/directives")],
        "hearing_id": [h["id"] for h in reg.ok(None, "GET", "/hearings")["items"]],
        "report_id": [r["id"] for r in items("/reports")],
        "organization_id": [o["id"] for o in items("/organizations")],
        "organization": [o["id"] for o in items("/organizations")],
        # principals are not listed publicly; their keys' list answers the public 401
        "principal_id": ["me"],
        "digest": [*frameworks, "current"],
        "sha256": evidence,
        "domain": [d["id"] for d in framework["domains"]],
    }


def _fill(template: str, values: dict[str, list[str]]) -> list[str]:
    names = PARAM.findall(template)
    paths = [template]
    for name in names:
        if name not in values:
            raise AssertionError(f"the public crawl does not know values for {{{name}}}: add them")
        paths = [
            path.replace(PARAM.search(path).group(0), value, 1)  # type: ignore[union-attr]
            for path in paths
            for value in values[name]
        ]
    return paths


def _walk(routes: list[Any], prefix: str = "") -> list[tuple[str, set[str]]]:
    """(path, methods) of every route, through included routers (FastAPI wraps them)."""
    found = []
    for route in routes:
        context = getattr(route, "include_context", None)
        if context is not None:
            found += _walk(route.original_router.routes, prefix + context.prefix)
        else:
            found.append((prefix + getattr(route, "path", ""), getattr(route, "methods", None)))
    return found


def _routes(reg: Register) -> list[str]:
    app = reg.client.app  # type: ignore[attr-defined]
    paths = []
    for path, methods in _walk(app.routes):
        if "GET" not in (methods or set()) or path.startswith(SKIPPED_PREFIXES):
            continue
        if path.startswith("/log/"):
            continue  # the log is crawled entry by entry below
        paths.append(path)
    return sorted(set(paths))


def _log_paths(reg: Register) -> list[str]:
    checkpoint = reg.client.get("/log/checkpoint").text.splitlines()
    size = int(checkpoint[1]) if len(checkpoint) > 1 else 0
    paths = ["/log/checkpoint", "/log/key", "/log/key-rotations"]
    for index in range(size):
        paths += [f"/log/statements/{index}", f"/log/bundle/{index}"]
    full, partial = divmod(size, 256)
    keys = [BundleKey(i) for i in range(full)] + ([BundleKey(full, partial)] if partial else [])
    paths += [f"/log/{key.path}" for key in keys]
    return paths


def public_answers(reg: Register) -> dict[str, str]:
    """Path to everything its anonymous answer says, decoded: every public page and answer."""
    values = _values(reg)
    paths = [p for template in _routes(reg) for p in _fill(template, values)]
    if len(values["digest"]) > 1:
        old, new = values["digest"][0], values["digest"][1]
        paths.append(f"/frameworks/diff?old={old}&new={new}")
    paths.append("/api/v1/events?limit=500")
    paths += _log_paths(reg)
    answers = {}
    for path in paths:
        response = reg.client.get(path)
        assert response.status_code < 500, (path, response.text[:300])
        answers[path] = "\n".join(_decoded(response.content))
    events = reg.ok(None, "GET", "/events?limit=500")
    assert events["next"] is None, "more events than one page: page through them"
    return answers


def _decoded(content: bytes) -> list[str]:
    """The answer as text, plus every base64 or JSON string inside it, decoded in turn."""
    texts = [content.decode("utf-8", errors="replace")]
    try:
        document = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return texts
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and len(value) >= 8:
            inner = _unwrap(value)
            if inner is not None:
                texts.append(inner)
                with contextlib.suppress(ValueError):
                    pending.append(json.loads(inner))
    return texts


def _unwrap(value: str) -> str | None:
    if value.lstrip().startswith(("{", "[")):
        return value
    try:
        raw = base64.b64decode(value, validate=True)
        return raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
