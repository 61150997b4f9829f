"""Routes for evidence: upload, the bytes (withheld when confidential), the public summary, grants.

A confidential file's bytes go only to the authority's reviewers and administrators, the
organization that uploaded them, and principals a reviewer granted access; anyone else is told
there is no such file (404), exactly as for a digest never uploaded. Each read of confidential
bytes is an event naming the reader and the digest. The summary is public: the digest, the file
type, its tasks, its scores, and the values and intervals the assessor used for each application
that filed it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from clearance.api._auth import Caller, Ctx, MaybeCaller
from clearance.api._bodies import NewEvidenceGrant
from clearance.api._common import acted, new_id
from clearance.api._context import Context
from clearance.errors import InvalidInput, NotFound
from clearance.framework import (
    EvalRun,
    FindingsReport,
    SafeguardDeclaration,
    confidential_by_default,
    evidence_to_dict,
)
from clearance.register import (
    EvidenceGrant,
    Principal,
    grant_evidence_access,
    read_evidence,
    recognise_holder,
)
from clearance.register._duties import require_role
from clearance.register._values import FileName, bare_digest
from clearance.store import (
    add_evidence,
    evidence_bytes,
    evidence_summary,
    find_evidence,
    make_confidential,
    may_read,
)

router = APIRouter()


@router.post("/evidence", status_code=201, tags=["evidence"])
async def upload_evidence(
    request: Request,
    caller: Caller,
    ctx: Ctx,
    name: Annotated[
        FileName,
        Query(description="The file's name: one path component, no control characters."),
    ],
    confidential: bool | None = Query(
        None,
        description=(
            "Withhold the bytes from the public. Unset: the framework's default for the "
            "domains the evidence is about. Once confidential, a file stays confidential."
        ),
    ),
) -> dict[str, Any]:
    """Upload an evidence file (Inspect log, lm-eval results, findings, safeguards)."""
    require_role(caller, "developer", "admin", "reviewer")
    raw = await request.body()
    if not raw:
        raise InvalidInput("body: the evidence file is empty")
    # parsing (Inspect's reader, JSON) and storing the bytes: in a worker thread, off the
    # event loop, which goes on serving the gateway and every other request meanwhile
    return await run_in_threadpool(_store_upload, ctx, caller, raw, name, confidential)


def _store_upload(
    ctx: Context, caller: Principal, raw: bytes, name: str, confidential: bool | None
) -> dict[str, Any]:
    from clearance.evidence import SAFEGUARDS_SCHEMA, load_evidence_bytes, load_safeguards_bytes

    # from the bytes themselves: no file on the server, so no server path in any message
    parsed: EvalRun | FindingsReport | SafeguardDeclaration
    if _declares(raw, SAFEGUARDS_SCHEMA):
        parsed = load_safeguards_bytes(raw, name)
    else:
        parsed = load_evidence_bytes(raw, name)
    kind = "safeguards" if isinstance(parsed, SafeguardDeclaration) else parsed.kind
    now = ctx.clock()
    with ctx.store.transaction() as tx:
        wanted = confidential
        if wanted is None:
            try:
                _, framework = ctx.framework(tx)
            except NotFound:  # no framework published yet: nothing says otherwise
                wanted = False
            else:
                wanted = confidential_by_default(framework, parsed)
        stored = find_evidence(tx, parsed.digest)
        if stored is None:
            add_evidence(
                tx,
                sha256=parsed.digest,
                name=name,
                kind=kind,
                content=raw,
                parsed=evidence_to_dict(parsed),
                confidential=wanted,
                uploader=caller,
                now=now,
            )
            withheld = wanted
        else:
            if wanted and not stored.confidential:
                make_confidential(tx, parsed.digest)
            withheld = wanted or stored.confidential
            if withheld and not may_read(tx, caller, replace(stored, confidential=True)):
                tx.apply(
                    recognise_holder(
                        new_id=new_id("egr"), sha256=parsed.digest, uploader=caller, now=now
                    )
                )
    return {"sha256": parsed.digest, "name": name, "kind": kind, "confidential": withheld}


def attachment(name: str) -> str:
    """A `Content-Disposition` for a download named `name` (RFC 6266, with RFC 5987's `filename*`).

    The plain `filename` is an ASCII stand-in (letters, digits, `._- `; anything else becomes
    `_`); `filename*` carries the name itself, percent-encoded UTF-8. No character of the name
    can end the header or start another parameter.
    """
    plain = "".join(c if c.isascii() and (c.isalnum() or c in "._- ") else "_" for c in name)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def _declares(raw: bytes, schema: str) -> bool:
    """True when the bytes are a JSON object naming this clearance schema."""
    if not raw.lstrip().startswith(b"{"):
        return False
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    return isinstance(document, dict) and document.get("schema") == schema


@router.get("/evidence/{sha256}", tags=["evidence"])
def download_evidence(sha256: str, caller: MaybeCaller, ctx: Ctx) -> Response:
    """The evidence file's bytes, as uploaded; anyone can check them against the digest.

    Confidential bytes go only to those entitled to them (404 to anyone else); each such read
    is recorded as an event.
    """
    sha256 = bare_digest(sha256)
    with ctx.store.read() as tx:
        stored = find_evidence(tx, sha256)
        if stored is None or not may_read(tx, caller, stored):
            raise NotFound(f"no evidence with sha256 {sha256}")
        content = evidence_bytes(tx, sha256) or b""
    if stored.confidential and caller is not None:
        # recorded before a byte leaves: no record, no bytes
        with ctx.store.transaction() as tx:
            tx.apply(read_evidence(sha256=sha256, reader=caller, now=ctx.clock()))
    return Response(
        content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": attachment(stored.name),
            "Cache-Control": "private, no-store" if stored.confidential else "public, max-age=3600",
        },
    )


@router.get("/evidence/{sha256}/summary", tags=["evidence"])
def evidence_summary_route(sha256: str, ctx: Ctx) -> dict[str, Any]:
    """What anyone may know of an evidence file, confidential or not.

    The digest, the file type, its tasks and scores, the values and intervals the assessor used
    in each application that filed it, and whether its bytes are withheld.
    """
    with ctx.store.read() as tx:
        return evidence_summary(tx, bare_digest(sha256))


@router.post("/evidence/{sha256}/grants", status_code=201, tags=["evidence"])
def add_evidence_grant(
    sha256: str, body: NewEvidenceGrant, caller: Caller, ctx: Ctx
) -> dict[str, Any]:
    """A reviewer lets one more principal read confidential evidence."""
    sha256 = bare_digest(sha256)
    with ctx.store.transaction() as tx:
        stored = find_evidence(tx, sha256)
        if stored is None:
            raise NotFound(f"no evidence with sha256 {sha256}")
        change = grant_evidence_access(
            new_id=new_id("egr"),
            sha256=sha256,
            confidential=stored.confidential,
            grantee=tx.get(Principal, body.principal_id),
            reviewer=caller,
            reason=body.reason,
            now=ctx.clock(),
        )
        tx.apply(change)
    grant = change.records[0]
    assert isinstance(grant, EvidenceGrant)
    return acted(tx, grant)
