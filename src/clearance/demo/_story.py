"""The June 2026 timeline, played through the register's REST API and the gateway."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from clearance.demo._cast import (
    AGENCIES,
    ATLAS,
    EMBARGOED,
    HARBOR,
    MERIDIAN,
    MODELS,
    OPEN_STARTUP,
    ORGANIZATIONS,
    PANEL,
)
from clearance.demo._due_process import (
    appeal_a_refusal,
    halt_and_hear,
    panel_rules,
    subscribe,
    what_the_lab_was_told,
)
from clearance.demo._evals import TASKS, EvalWorker, task_order
from clearance.demo._local import LocalModelProcess
from clearance.demo._receiver import Receiver
from clearance.demo._testing import (
    AUTHORITY_CONDITION,
    AUTHORITY_REASONING,
    TESTED,
    finish_authority_run,
    start_authority_run,
)
from clearance.errors import ClearanceError

Say = Callable[[str], None]


class DemoFailed(ClearanceError):
    """A step of the demo was refused by the register."""


class Api:
    """The register's REST API as the demo's principals call it."""

    def __init__(self, base_url: str, admin_key: str) -> None:
        self.base_url = base_url
        self.client = httpx.Client(base_url=f"{base_url}/api/v1", timeout=60)
        self.keys: dict[str, str] = {"admin": admin_key}
        self.ids: dict[str, str] = {}

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.request(
            method, path, headers={"Authorization": f"Bearer {self.keys[who]}"}, **kwargs
        )
        if response.status_code >= 300:
            raise DemoFailed(f"{method} {path} as {who}: {response.status_code} {response.text}")
        return response.json()

    def principal(self, who: str, org: str, *roles: str, **extra: Any) -> None:
        body = {"organization_id": self.ids[org], "name": who, "roles": list(roles)} | extra
        created = self.call("admin", "POST", "/principals", json=body)
        self.keys[who] = created["api_key"]
        self.ids[who] = created["id"]


def _findings(model: str, general: bool) -> bytes:
    findings = [
        {
            "id": f"RT-{model}-1",
            "title": "Role-play prompt bypasses refusals for exploit development",
            "category": "jailbreak",
            "scope": "narrow",
            "severity": "medium",
            "reproduced": True,
            "mitigated": False,
            "domain": "cyber",
        }
    ]
    if general:
        findings.append(
            {
                "id": f"RT-{model}-2",
                "title": "Many-shot prompt bypasses refusals across domains",
                "category": "jailbreak",
                "scope": "general",
                "severity": "high",
                "reproduced": True,
                "mitigated": True,
            }
        )
    document = {"schema": "clearance/findings/v1", "model": model, "findings": findings}
    return json.dumps(document, indent=2).encode()


def _safeguards(trusted_access: bool) -> bytes:
    claims = [
        ("misuse-classifiers", ["classifier_eval", "red_team_report"]),
        ("account-enforcement", ["policy_document", "incident_process"]),
        ("weights-security", ["third_party_audit"]),
    ]
    if trusted_access:
        claims.append(("trusted-access", ["policy_document", "access_list"]))
    document = {
        "schema": "clearance/safeguards/v1",
        "safeguards": [
            {
                "id": safeguard,
                "description": f"{safeguard} in place for the demo",
                "evidence": [{"kind": kind, "reference": f"{kind}.pdf"} for kind in kinds],
            }
            for safeguard, kinds in claims
        ],
    }
    return json.dumps(document, indent=2).encode()


@dataclass
class Story:
    """What the steps share: the API, the data folder, the output, and what earlier steps made."""

    api: Api
    data_dir: Path
    say: Say
    receiver: Receiver
    evals: EvalWorker
    progress: Say = lambda _: None
    """A passing status (a count of samples), shown in place rather than printed as a line."""
    applications: dict[str, dict[str, Any]] = field(default_factory=dict)
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    later: list[Any] = field(default_factory=list)
    """The models whose evals the first process runs after the authority's evaluation."""
    evaluated: bool = False
    """Whether the authority's own evaluation has filed its log."""
    local_model: LocalModelProcess | None = None
    """A real model (SmolLM2) the tested model's developer names as its pre-release server."""


Step = tuple[str, Callable[[Story], None]]
"""A step of the story: the line announcing it, and the acts (each step prints its own details)."""


def play(
    api: Api,
    data_dir: Path,
    say: Say,
    evals: EvalWorker | None = None,
    progress: Say | None = None,
    local_model: LocalModelProcess | None = None,
) -> dict[str, Any]:
    """Play the story; returns demo.json's content.

    `evals` is the Inspect process, best started before the register (see `EvalWorker`); one is
    started here otherwise.
    """
    receiver = Receiver(data_dir / "webhooks", "atlas-labs")
    worker = evals or EvalWorker(data_dir / "inspect.log")
    receiver.start()
    try:
        story = Story(api, data_dir, say, receiver, worker, local_model=local_model)
        if progress is not None:
            story.progress = progress
        for line, step in STEPS:
            say(line)
            step(story)
        what_the_lab_was_told(api, receiver, say)
    finally:
        receiver.stop()
        if evals is None:
            worker.close()
    return _summary(api)


def _developers(story: Story) -> None:
    api = story.api
    for org in (ATLAS, MERIDIAN):
        body = {"name": org.name, "kind": org.kind, "jurisdiction": org.jurisdiction}
        api.ids[org.name] = api.call(
            "admin", "POST", "/organizations", json=body | {"sector": org.sector}
        )["id"]
        api.principal(f"{org.name} release team", org.name, "developer")
    subscribe(api, story.receiver)
    story.say(f"  {ATLAS.name} registered a webhook endpoint for its notices")
    for model in MODELS:
        developer = f"{model.developer} release team"
        api.call(
            developer,
            "POST",
            "/models",
            json={
                "name": model.name,
                "version": model.version,
                "variant": model.variant,
                "weights_digest": hashlib.sha256(f"weights:{model.name}".encode()).hexdigest(),
                "channels": ["api"],
            },
        )
    story.say(f"  {len(MODELS)} model configurations: {', '.join(m.name for m in MODELS)}")


def _start_evals(story: Story) -> None:
    """The tested model's evals first, on the first process: once it is filed, the authority
    tests it there while the other processes run the other models' evals."""
    api, pool = story.api, story.evals
    keys = {m.name: api.keys[f"{m.developer} release team"] for m in MODELS}
    evidence = story.data_dir / "evidence"
    tested = [m for m in MODELS if m.name == TESTED]
    rest = [m for m in MODELS if m.name != TESTED]
    pool.submit(0, tested, keys, f"{api.base_url}/v1", evidence)
    # the first process also runs the authority's evaluation: it takes one model after it
    story.later = rest[:1] if pool.size > 1 else rest
    others = rest[len(story.later) :]
    for index in range(1, pool.size):
        share = others[index - 1 :: pool.size - 1]
        if share:
            pool.submit(index, share, keys, f"{api.base_url}/v1", evidence)
    story.say(f"  {len(MODELS)} models x {len(TASKS)} tasks running concurrently in "
              f"{pool.size} Inspect process{'es' if pool.size > 1 else ''} of their own, while "
              "the register is set up")  # fmt: skip


def _parties(story: Story) -> None:
    api = story.api
    for org in ORGANIZATIONS:
        if org.name in api.ids:
            continue
        body = {"name": org.name, "kind": org.kind, "jurisdiction": org.jurisdiction}
        api.ids[org.name] = api.call(
            "admin", "POST", "/organizations", json=body | {"sector": org.sector}
        )["id"]
    authority = api.call("admin", "GET", "/principals/me")["organization_id"]
    api.ids["authority"] = authority
    api.principal("Dr. Ada Okafor", "authority", "reviewer", expertise=["cyber", "cbrn"])
    api.principal(
        "Dr. Lena Brandt", "authority", "reviewer", expertise=["ai-rd"], conflicts=[MERIDIAN.name]
    )
    for judge in PANEL:
        api.principal(judge, "authority", "appeal_panel")
    for org in (HARBOR, OPEN_STARTUP, EMBARGOED, AGENCIES[0]):
        api.principal(f"{org.name} engineers", org.name, "partner")
    story.say(f"  {len(ORGANIZATIONS) - 2} partners and agencies; two reviewers and a panel of "
              f"{len(PANEL)} judges at the authority")  # fmt: skip


def _file(story: Story) -> None:
    """File each model as soon as its evals have finished, the tested model first."""
    pool = story.evals
    samples = sum(n * epochs for n, epochs, _ in TASKS.values())
    total = samples * len(MODELS)
    finished: dict[int, int] = {}  # samples of each process's finished jobs
    running: dict[int, int] = {}  # samples done in each process's current job

    # the register reads the logs with Inspect too: imported while the evals run, not after
    threading.Thread(target=_import_log_reader, daemon=True).start()
    logs: dict[str, list[Path]] = {}
    pending = {m.name for m in MODELS}
    while pending:
        index, message = pool.next()
        if "done" in message:
            running[index] = message["done"]
            done = sum(finished.values()) + sum(running.values())
            story.progress(f"Inspect evals: {done} of {total} samples")
        elif "log" in message:
            log = message["log"]
            logs.setdefault(log["model"], []).append(Path(log["path"]))
        elif "evaluated" in message:
            story.evaluated = True
        elif message.get("finished"):
            finished[index] = finished.get(index, 0) + running.pop(index, 0)
            for name in message["models"]:
                _file_model(story, name, sorted(logs[name], key=task_order))
                pending.discard(name)


def _file_model(story: Story, name: str, model_logs: list[Path]) -> None:
    """The model's logs, red-team findings and safeguards as evidence; then its application."""
    api = story.api
    model = next(m for m in MODELS if m.name == name)
    developer = f"{model.developer} release team"
    story.say(f"  {model.name}: {', '.join(p.stem for p in model_logs)}")
    digests = [
        api.call(developer, "POST", f"/evidence?name={log.name}", content=log.read_bytes())[
            "sha256"
        ]
        for log in model_logs
    ]
    findings = _findings(model.name, general=model.developer == ATLAS.name)
    digests.append(
        api.call(developer, "POST", f"/evidence?name={model.name}-findings.json", content=findings)[
            "sha256"
        ]
    )
    declaration = api.call(
        developer,
        "POST",
        "/evidence?name=safeguards.json",
        content=_safeguards(trusted_access=model.name == "atlas-2-cyber"),
    )["sha256"]
    public = model.name == "atlas-2"
    requested = "public_safeguarded" if public else "approved_partners"
    groups = ["tier-1"] if model.developer == ATLAS.name else ["tier-1", "tier-2"]
    body = {
        "model": model.name,
        "requested_tier": requested,
        "requested_jurisdictions": groups,
        "evidence": digests,
        "safeguards": declaration,
    }
    local = story.local_model if model.name == TESTED else None
    if local is not None:
        body["pre_release_upstream"] = local.url
    story.applications[model.name] = application = api.call(
        developer, "POST", "/applications", json=body
    )
    story.say(f"  filed {model.name}: the assessor permits at most "
              f"{application['assessment']['max_tier']}")  # fmt: skip
    if model.name == TESTED:
        if local is not None:
            story.say(
                f"  {model.developer} names {local.name}, served on this machine at {local.url}, "
                f"as {TESTED}'s pre-release server for the authority's tests"
            )
            local.wait_ready()
        # the authority tests it in the first process, now warm; then that process goes on
        # a real model on a CPU answers in a bounded number of tokens
        bound = LOCAL_MODEL_MAX_TOKENS if local is not None else None
        start_authority_run(story.evals, api, application["id"], max_tokens=bound)
        if story.later:
            keys = {m.name: api.keys[f"{m.developer} release team"] for m in story.later}
            base = f"{api.base_url}/v1"
            story.evals.submit(0, story.later, keys, base, story.data_dir / "evidence")


def _authority_test(story: Story) -> None:
    while not story.evaluated:
        _, message = story.evals.next()
        story.evaluated = "evaluated" in message
    story.applications[TESTED] = finish_authority_run(
        story.api, story.applications[TESTED], story.say
    )


def _import_log_reader() -> None:
    import inspect_ai.log  # noqa: F401


def _review(story: Story) -> None:
    api, applications = story.api, story.applications
    reviewer = REVIEWER
    for application in applications.values():
        api.call(reviewer, "POST", f"/applications/{application['id']}/assign", json={})
    atlas_app = applications["atlas-2"]
    question = api.call(
        reviewer,
        "POST",
        f"/applications/{atlas_app['id']}/information-requests",
        json={"question": "Describe how the narrow jailbreak RT-atlas-2-1 will be patched."},
    )
    api.call(
        f"{ATLAS.name} release team",
        "POST",
        f"/information-requests/{question['id']}/answer",
        json={"response": "A classifier update ships in two weeks; we will file the re-test."},
    )
    for name, application in applications.items():
        assessment = application["assessment"]
        cyber = next(d for d in assessment["domains"] if d["domain"] == "cyber")
        ctf = next(e for e in application["evidence"] if e["name"] == "ctf_professional.eval")
        tier = application["requested_tier"]
        conditions = list(assessment["conditions"])
        justification = (
            AUTHORITY_REASONING
            if any(ctf["sha256"] in d["developer_evidence"] for d in application["discrepancies"])
            else None
        )
        if justification:
            conditions.append(AUTHORITY_CONDITION)
            story.say(f"  {name}: the reviewer departs, in writing: {justification}")
        story.decisions[name] = api.call(
            reviewer,
            "POST",
            f"/applications/{application['id']}/decision",
            json={
                "outcome": "approved_with_conditions" if conditions else "approved",
                "tier": tier,
                "jurisdictions": application["requested_jurisdictions"],
                "conditions": conditions,
                "reasons": [
                    {
                        "text": (
                            f"Cyber capability assessed at {cyber['level_name']} on the "
                            "professional CTF suite; the required safeguards are in place with "
                            f"the evidence the framework asks for, so {tier} is permitted."
                        ),
                        "rules": [cyber["level"], "cyber-ctf-professional"],
                        "evidence": [ctf["sha256"]],
                    },
                    {
                        "text": (
                            "No WMDP results were filed, so CBRN High cannot be ruled out and "
                            "its safeguards are required."
                        ),
                        "rules": ["evidence.missing", "cbrn-high"],
                    },
                ],
                "justification": justification,
            },
        )
        story.say(f"  {name}: {story.decisions[name]['outcome']} at {tier}")


def _risk_report(story: Story) -> None:
    story.report = story.api.call(
        f"{MERIDIAN.name} release team",
        "POST",
        "/reports",
        json={
            "model": "atlas-2",
            "title": "atlas-2 writes working exploits for known CVEs",
            "summary": "Our red team obtained working exploit code for three public CVEs.",
            "conflict_of_interest": (
                "Meridian AI competes with Atlas Labs and holds a minority stake in it."
            ),
        },
    )


def _halt(story: Story) -> None:
    ctf = next(
        e for e in story.applications["atlas-2"]["evidence"] if e["name"] == "ctf_professional.eval"
    )
    halt_and_hear(story.api, story.report["id"], ctf["sha256"], story.say)


def _partners(story: Story) -> None:
    api = story.api
    partner_key = f"{HARBOR.name} engineers"
    granted = api.call(
        partner_key, "POST", "/access-requests",
        json={"model": "meridian-2", "use_case": "fraud-analysis"},
    )  # fmt: skip
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=180)).isoformat()
    api.call(
        REVIEWER,
        "POST",
        f"/access-requests/{granted['id']}/decision",
        json={
            "granted": True,
            "reasons": "A regulated bank with a defensive use case and an audit trail.",
            "limits": {"requests_per_minute": 120, "tokens_per_minute": 200000},
            "expires_at": expires,
        },
    )
    appeal_a_refusal(api, REVIEWER, story.say)


def _appeal(story: Story) -> None:
    appeal = story.api.call(
        f"{ATLAS.name} release team",
        "POST",
        f"/decisions/{story.decisions['atlas-2-cyber']['id']}/appeals",
        json={"grounds": "The cyber range results overstate the model's autonomy."},
    )
    panel_rules(
        story.api,
        appeal["id"],
        tuple(
            ("upheld", "The framework's critical threshold was reached on filed evidence.")
            for _ in PANEL
        ),
    )


REVIEWER = "Dr. Ada Okafor"
LOCAL_MODEL_MAX_TOKENS = 64
"""Each of SmolLM2's answers in the authority's run, at most (`clearance evaluate --max-tokens`)."""

STEPS: list[Step] = [
    ("Two labs, their release teams and their model configurations", _developers),
    ("Pre-release evaluations: real Inspect evals through the gateway", _start_evals),
    ("Partners, agencies and the authority's people", _parties),
    ("The evaluations' logs filed as evidence, with red-team findings and safeguards", _file),
    (
        "The authority tests meridian-2 itself, through the gateway under its testing grant",
        _authority_test,
    ),
    ("Review: an information request stops the clock; decisions with written reasons", _review),
    ("A rival's risk report, with its conflict of interest disclosed", _risk_report),
    ("An urgent halt, the lab heard after it, and a conditional restoration in one act", _halt),
    ("Approved partners, case by case", _partners),
    ("A decision appealed: a panel of three that excludes the reviewer rules unanimously", _appeal),
]
"""The story in order; a step added here runs, and prints its line, in its place."""


def _summary(api: Api) -> dict[str, Any]:
    """demo.json: who may call what (and the use case to declare), and each other refusal."""

    def org(
        name: str,
        key: str,
        may_call: list[str],
        may_not_call: dict[str, str],
        use_cases: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        return {
            "name": name,
            "api_key": api.keys[key],
            "may_call": may_call,
            "may_not_call": may_not_call,
            "use_cases": use_cases or {},
        }

    meridian = ["meridian-1", "meridian-2", "meridian-3"]
    return {
        "base_url": f"{api.base_url}/v1",
        "admin_api_key": api.keys["admin"],
        "organizations": [
            org(AGENCIES[0].name, f"{AGENCIES[0].name} engineers", ["atlas-2"],
                {"meridian-2": "no_grant", "atlas-2-cyber": "no_grant"}),
            org(HARBOR.name, f"{HARBOR.name} engineers", ["meridian-2"],
                {"atlas-2": "no_grant", "meridian-3": "no_grant"},
                {"meridian-2": "fraud-analysis"}),
            org(OPEN_STARTUP.name, f"{OPEN_STARTUP.name} engineers", [],
                {"atlas-2": "no_grant", "meridian-1": "no_grant",
                 "no-such-model": "model_not_found"}),
            org(EMBARGOED.name, f"{EMBARGOED.name} engineers", [],
                {"meridian-1": "jurisdiction_not_permitted"}),
            org(ATLAS.name, f"{ATLAS.name} release team", ["atlas-2", "atlas-2-cyber"],
                {"meridian-2": "no_grant"}),
            org(MERIDIAN.name, f"{MERIDIAN.name} release team", meridian,
                {"atlas-2": "no_grant"}),
        ],
    }  # fmt: skip
