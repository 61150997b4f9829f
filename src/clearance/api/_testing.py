"""Routes for the authority's own testing: the developer's testing access, the authority's evidence.

The authority's testing grant is issued with the filing (`POST /applications`); here the developer
names the model's pre-release upstream, and a reviewer files the logs of the authority's own
evaluation runs, after which the assessment is recomputed over both sides' evidence.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request

from clearance.api._auth import Caller, Ctx
from clearance.api._bodies import AuthorityEvidence, NewEvaluation, TestingAccess
from clearance.api._context import Context
from clearance.errors import Conflict, InvalidInput
from clearance.examples import example_path
from clearance.framework import (
    EvalRun,
    FindingsReport,
    SafeguardDeclaration,
    assess,
    assessment_to_dict,
    evidence_from_dict,
    evidence_to_dict,
)
from clearance.register import (
    Application,
    EvidenceRef,
    Grant,
    ModelConfig,
    Principal,
    add_authority_evidence,
    may_file_authority_evidence,
    provide_testing_access,
)
from clearance.register._duties import require_role
from clearance.store import Transaction, add_evidence, find_evidence, link_application, may_read

router = APIRouter()


@router.post("/applications/{application_id}/testing-access", tags=["applications"])
def testing_access(
    application_id: str, body: TestingAccess, caller: Caller, ctx: Ctx
) -> dict[str, Any]:
    """The developer names the pre-release upstream of the authority's testing access; a clock
    that waited for it runs again."""
    with ctx.store.transaction() as tx:
        application = tx.get(Application, application_id)
        _, framework = ctx.framework(tx, application.framework_digest)
        if application.testing_grant_id is None:
            raise Conflict(
                f"application {application_id} gives the authority no testing access "
                "(its framework asks for none)"
            )
        change = provide_testing_access(
            application=application,
            grant=tx.get(Grant, application.testing_grant_id),
            principal=caller,
            upstream=body.pre_release_upstream,
            framework=framework,
            now=ctx.clock(),
        )
        tx.apply(change)
    return change.records[0].model_dump(mode="json")


def _parsed(tx: Transaction, digest: str) -> EvalRun | FindingsReport | SafeguardDeclaration:
    stored = find_evidence(tx, digest)
    if stored is None:
        raise InvalidInput(f"evidence: {digest[:16]}... is not uploaded")
    return evidence_from_dict(stored.parsed)


@router.post("/applications/{application_id}/authority-evidence", tags=["applications"])
def authority_evidence(
    application_id: str, body: AuthorityEvidence, caller: Caller, ctx: Ctx
) -> dict[str, Any]:
    """A reviewer files the authority's own evaluation logs; the assessment is recomputed over
    the developer's evidence and the authority's together, and discrepancies are kept."""
    with ctx.store.transaction() as tx:
        return file_authority_evidence(tx, ctx, caller, application_id, body.evidence)


def file_authority_evidence(
    tx: Transaction, ctx: Context, caller: Principal, application_id: str, digests: list[str]
) -> dict[str, Any]:
    """File uploaded logs as the authority's evidence on an application (one transaction)."""
    application = tx.get(Application, application_id)
    _, framework = ctx.framework(tx, application.framework_digest)
    mine: list[EvalRun | FindingsReport] = []
    for digest in sorted(set(digests)):
        stored = find_evidence(tx, digest)
        if stored is None or not may_read(tx, caller, stored):
            raise InvalidInput(f"evidence: {digest[:16]}... is not uploaded")
        item = evidence_from_dict(stored.parsed)
        if isinstance(item, SafeguardDeclaration):
            raise InvalidInput("evidence: the authority files evaluation runs or findings")
        mine.append(item)
    earlier = [_parsed(tx, e.sha256) for e in application.authority_evidence]
    authority_items = [i for i in (*earlier, *mine) if isinstance(i, EvalRun | FindingsReport)]
    developer_items = [
        i
        for i in (_parsed(tx, e.sha256) for e in application.evidence)
        if isinstance(i, EvalRun | FindingsReport)
    ]
    declaration = (
        _parsed(tx, application.safeguards_declaration)
        if application.safeguards_declaration
        else None
    )
    safeguards = declaration if isinstance(declaration, SafeguardDeclaration) else None
    combined = assessment_to_dict(
        assess(framework, [*developer_items, *authority_items], safeguards)
    )
    authority_only = assessment_to_dict(assess(framework, authority_items, safeguards))
    change = add_authority_evidence(
        application=application,
        reviewer=caller,
        evidence=tuple(EvidenceRef(sha256=i.digest, name=i.name, kind=i.kind) for i in mine),
        combined=combined,
        authority_only=authority_only,
        now=ctx.clock(),
    )
    tx.apply(change)
    known = {e.sha256 for e in application.authority_evidence}
    link_application(tx, application.id, [i.digest for i in mine if i.digest not in known])
    return change.records[0].model_dump(mode="json")


OWN_URL = "own_url"
"""The app state's name for the address this server calls its own gateway at (see `own_url`)."""


def own_url(host: str, port: int) -> str:
    """The address a server bound to `host`:`port` calls itself at: the loopback address for a
    wildcard host (0.0.0.0, ::), the bound host otherwise."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _own_gateway(request: Request) -> str:
    """This server's own gateway (…/v1): at the address recorded when it was bound, else at the
    local address of the socket the request came in on; never at the request's Host or
    X-Forwarded headers, which the caller writes (the caller's key is sent there)."""
    recorded = getattr(request.app.state, OWN_URL, None)
    if recorded:
        return f"{recorded}/v1"
    server = request.scope.get("server")
    if not server or server[1] is None:
        raise Conflict("this server does not know its own address; run `clearance evaluate`")
    return f"{own_url(str(server[0]), int(server[1]))}/v1"


@router.post("/applications/{application_id}/evaluations", tags=["applications"])
def evaluation(
    application_id: str, body: NewEvaluation, request: Request, caller: Caller, ctx: Ctx
) -> dict[str, Any]:
    """A reviewer runs one of the framework's own tasks against the model under review, here,
    through this server's gateway under the authority's testing grant; the log is kept as
    confidential evidence and filed as the authority's (the answer is the application).

    Only tasks the framework names run, with bytes matching its SHA-256s: a request never makes
    the server run code of its own choosing. The application must be open and the caller free
    to file the authority's evidence on it before anything runs; a model that keeps failing
    (each call is retried a few times, with a timeout) is answered 502.
    """
    from clearance.evaluation import framework_task, run_task
    from clearance.evidence import load_evidence_bytes

    require_role(caller, "reviewer")
    if getattr(request.app.state, "gateway", None) is None:
        raise Conflict("this server runs no gateway; run `clearance evaluate` against one")
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    with ctx.store.read() as tx:
        application = tx.get(Application, application_id)
        may_file_authority_evidence(application, caller)
        model = tx.get(ModelConfig, application.model_id)
        _, framework = ctx.framework(tx, application.framework_digest)
    if body.task not in {task.id for task in framework.tasks}:
        raise InvalidInput(
            f"task: {body.task!r} is not a task of the application's framework "
            f"({', '.join(t.id for t in framework.tasks) or 'it names none'})"
        )
    resolved = framework_task(body.task, framework, [example_path("")])
    with tempfile.TemporaryDirectory(prefix="clearance-evaluation-") as scratch:
        log = run_task(
            resolved.path,
            task_name=resolved.framework_task,
            model=model.name,
            gateway_url=_own_gateway(request),
            api_key=token,
            log_dir=Path(scratch),
            epochs=body.epochs,
            limit=body.limit,
            max_tokens=body.max_tokens,
            display="none",
        )
        raw = log.read_bytes()
    name = f"authority-{body.task}-{log.name}"
    parsed = load_evidence_bytes(raw, name)
    with ctx.store.transaction() as tx:
        if find_evidence(tx, parsed.digest) is None:
            add_evidence(
                tx,
                sha256=parsed.digest,
                name=name,
                kind=parsed.kind,
                content=raw,
                parsed=evidence_to_dict(parsed),
                confidential=True,
                uploader=caller,
                now=ctx.clock(),
            )
        return file_authority_evidence(tx, ctx, caller, application_id, [parsed.digest])
