"""A register with something on every page: models, clocks, decisions, directives, reports."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml

from clearance.examples import example_path
from clearance.server import build_app, init_data_dir
from tests.register_fixtures import FakeClock, Register

WEIGHTS = "ab" * 32
OTHER_WEIGHTS = "cd" * 32


def framework_v11() -> str:
    """The example framework, version 1.1.0: lower CBRN and AI R&D thresholds."""
    data = yaml.safe_load(example_path().read_text())
    data["version"] = "1.1.0"
    data["changelog"] = [*data["changelog"], "1.1.0: lower CBRN and AI R&D High thresholds."]
    for metric in data["metrics"]:
        if metric["id"] == "cbrn-protocol-troubleshooting":
            metric["thresholds"]["cbrn-high"] = 0.3
        if metric["id"] == "ai-rd-ml-engineering":
            metric["thresholds"]["ai-rd-high"] = 0.15
    return yaml.safe_dump(data, sort_keys=False)


@dataclass
class Populated:
    """Ids of what `populate` made."""

    decision: dict[str, Any]
    departure: dict[str, Any]
    directive: dict[str, Any]
    pending: dict[str, Any]
    overdue: dict[str, Any]
    old_framework: str
    new_framework: str


def _model(reg: Register, who: str, name: str, version: str, weights: str = WEIGHTS) -> None:
    body = {"name": name, "version": version, "weights_digest": weights}
    reg.ok(who, "POST", "/models", json=body)


def _findings(reg: Register) -> str:
    findings = example_path("evidence") / "red-team-findings.json"
    upload = reg.ok("dev", "POST", "/evidence?name=findings.json", content=findings.read_bytes())
    return str(upload["sha256"])


def populate(reg: Register) -> Populated:
    """Fill the register through its API, as its users would."""
    old_framework = reg.ok(None, "GET", "/frameworks")["items"][0]["sha256"]
    # filed first, so that by the end its deadline has passed without a decision
    _model(reg, "rival", "rival-1", "1.0", OTHER_WEIGHTS)
    overdue = reg.ok(
        "rival",
        "POST",
        "/applications",
        json={
            "model": "rival-1",
            "requested_tier": "internal",
            "requested_jurisdictions": ["tier-1"],
        },
    )
    reg.clock.advance(days=95)

    _model(reg, "dev", "atlas-2", "2.0")
    digests = []
    for path in sorted(example_path("evidence").iterdir()):
        upload = reg.ok("dev", "POST", f"/evidence?name={path.name}", content=path.read_bytes())
        digests.append(upload["sha256"])
    declaration = example_path("safeguards.json").read_bytes()
    safeguards = reg.ok("dev", "POST", "/evidence?name=safeguards.json", content=declaration)
    application = reg.ok(
        "dev",
        "POST",
        "/applications",
        json={
            "model": "atlas-2",
            "requested_tier": "public_safeguarded",
            "requested_jurisdictions": ["tier-1", "tier-2"],
            "evidence": digests,
            "safeguards": safeguards["sha256"],
        },
    )
    ctf = next(
        t["evidence"]
        for d in application["assessment"]["domains"]
        for t in d["tests"]
        if t["metric"] == "cyber-ctf-professional"
    )
    reg.ok("reviewer", "POST", f"/applications/{application['id']}/assign", json={})
    decision = reg.ok(
        "reviewer",
        "POST",
        f"/applications/{application['id']}/decision",
        json={
            "outcome": "approved_with_conditions",
            "tier": "public_safeguarded",
            "jurisdictions": ["tier-1"],
            "conditions": [
                *application["assessment"]["conditions"],  # the framework requires them
                "Report misuse incidents to the register within 72 hours.",
            ],
            "reasons": [
                {
                    "text": "Professional CTF results cannot rule out the High cyber level.",
                    "rules": ["cyber-high", "stat.cannot_rule_out"],
                    "evidence": [ctf],
                }
            ],
        },
    )

    # a second version of the same weights, decided against the assessor's prescription
    _model(reg, "dev", "atlas-2-mini", "2.0-mini")
    findings = _findings(reg)
    small = reg.ok(
        "dev",
        "POST",
        "/applications",
        json={
            "model": "atlas-2-mini",
            "requested_tier": "public",
            "requested_jurisdictions": ["tier-1"],
            "evidence": [findings],
        },
    )
    reg.ok("reviewer", "POST", f"/applications/{small['id']}/assign", json={})
    departure = reg.ok(
        "reviewer",
        "POST",
        f"/applications/{small['id']}/decision",
        json={
            "outcome": "approved_with_conditions",
            "tier": "approved_partners",
            "jurisdictions": ["tier-1"],
            "conditions": ["Report usage monthly."],
            "reasons": [
                {
                    "text": "Evaluations are missing; partners only until they are filed.",
                    "rules": ["evidence.missing"],
                    "evidence": [findings],
                }
            ],
            "justification": "Named partners under monitoring pose an acceptable risk.",
        },
    )
    reg.ok(
        "dev",
        "POST",
        f"/decisions/{departure['id']}/appeals",
        json={"grounds": "The evaluations were filed late but exist."},
    )
    halt = reg.ok(
        "admin",
        "POST",
        "/directives",
        json={
            "action": "halt",
            "model": "atlas-2-mini",
            "grounds": "Appeal pending.",
            "urgent": True,
        },
    )
    reg.ok(
        "dev",
        "POST",
        f"/hearings/{halt['hearing_id']}/submissions",
        json={"text": "The appeal concerns the tier, not safety."},
    )
    reg.clock.advance(days=1)
    directive = reg.ok(
        "admin",
        "POST",
        "/directives",
        json={
            "action": "restore",
            "model": "atlas-2-mini",
            "grounds": "Restored to named partners while the appeal is heard.",
            "organizations": ["Agency One", "Quiet Partner"],
        },
    )

    # pending, with the clock stopped by a question
    _model(reg, "rival", "rival-2", "2.0", OTHER_WEIGHTS[:-2] + "ef")
    pending = reg.ok(
        "rival",
        "POST",
        "/applications",
        json={
            "model": "rival-2",
            "requested_tier": "public",
            "requested_jurisdictions": ["tier-1"],
        },
    )
    reg.ok("reviewer", "POST", f"/applications/{pending['id']}/assign", json={})
    reg.ok(
        "reviewer",
        "POST",
        f"/applications/{pending['id']}/information-requests",
        json={"question": "Send the cyber range results."},
    )
    reg.ok(
        "reporter",
        "POST",
        "/reports",
        json={
            "model": "atlas-2",
            "title": "Jailbreak persistence study",
            "summary": "Narrow jailbreaks reproduce after the patch.",
            "conflict_of_interest": "We sell red-teaming services to a competitor of Atlas Labs.",
        },
    )
    published = reg.ok(
        "admin",
        "POST",
        "/frameworks",
        content=framework_v11().encode(),
        headers={"Content-Type": "application/yaml"},
    )
    return Populated(
        decision=decision,
        departure=departure,
        directive=directive,
        pending=pending,
        overdue=overdue,
        old_framework=old_framework,
        new_framework=published["sha256"],
    )


def cast(reg: Register) -> None:
    """The organizations and principals of `tests.register_fixtures.register`."""
    reg.ids["Release Authority"] = reg.ok("admin", "GET", "/principals/me")["organization_id"]
    reg.add_org("Atlas Labs", "developer")
    reg.add_org("Rival AI", "developer")
    reg.add_org("Agency One", "partner", sector="government")
    reg.add_org("Quiet Partner", "partner", "GB", name_public=False)
    reg.add_org("Watchdog", "reporter")
    reg.add_principal("dev", "Atlas Labs", "developer")
    reg.add_principal("rival", "Rival AI", "developer")
    reg.add_principal("reviewer", "Release Authority", "reviewer", expertise=["cyber", "cbrn"])
    reg.add_principal("panelist", "Release Authority", "appeal_panel")
    reg.add_principal("partner", "Agency One", "partner")
    reg.add_principal("reporter", "Watchdog", "reporter")


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free port in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextmanager
def served_register(folder: Path) -> Iterator[tuple[Register, Populated, str]]:
    """A populated register on SQLite, served on a real port: (register, ids, base URL)."""
    clock = FakeClock()
    data, admin_key = init_data_dir(folder, origin="test.example/log", now=clock())
    store = data.open_store()
    app = build_app(store, clock=clock, clock_interval=None)
    try:
        with serving(app) as base, httpx.Client(base_url=base, timeout=60) as client:
            reg = Register(client, clock, data, keys={"admin": admin_key})  # type: ignore[arg-type]
            cast(reg)
            yield reg, populate(reg), base
    finally:
        store.engine.dispose()
