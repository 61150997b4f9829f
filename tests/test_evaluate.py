"""`clearance evaluate` end to end: the authority's own Inspect run through the gateway.

The example framework gives the authority testing access and ships its tasks; the run goes
through the real gateway to the packaged fake upstream (which echoes the prompt, so it "solves"
every shipped challenge), its log is filed as confidential authority evidence, the assessment is
recomputed over both sides' evidence, and the discrepancy with the lab's numbers is flagged.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import clearance.evaluation._run
from clearance.api._testing import own_url
from clearance.cli import app
from clearance.errors import InvalidInput
from clearance.evaluation import framework_task, resolve_task
from clearance.examples import example_path
from clearance.framework import parse_framework
from tests.gateway_fixtures import WEIGHTS, Deployment, chat


@pytest.fixture
def deployed(clocked_deployment: Deployment) -> Deployment:
    return clocked_deployment


def file_with_lab_evidence(deployed: Deployment, model: str, **extra: Any) -> dict[str, Any]:
    reg = deployed.reg
    reg.ok(
        "dev", "POST", "/models", json={"name": model, "version": "1", "weights_digest": WEIGHTS}
    )
    digests = [
        reg.ok("dev", "POST", f"/evidence?name={path.name}", content=path.read_bytes())["sha256"]
        for path in sorted(example_path("evidence").iterdir())
    ]
    declaration = reg.ok(
        "dev",
        "POST",
        "/evidence?name=safeguards.json",
        content=example_path("safeguards.json").read_bytes(),
    )["sha256"]
    body = {
        "model": model,
        "requested_tier": "public",
        "requested_jurisdictions": ["tier-1"],
        "evidence": digests,
        "safeguards": declaration,
    } | extra
    application: dict[str, Any] = reg.ok("dev", "POST", "/applications", json=body)
    return application


def evaluate(deployed: Deployment, who: str, *args: str) -> Any:
    env = {
        "CLEARANCE_URL": deployed.served.url,
        "CLEARANCE_API_KEY": deployed.key(who),
        "CLEARANCE_EVALUATE_DISPLAY": "none",
    }
    return CliRunner().invoke(app, ["evaluate", *args], env=env)


def test_the_authority_runs_its_own_eval_through_the_gateway_and_the_discrepancy_is_flagged(
    deployed: Deployment,
) -> None:
    reg = deployed.reg
    application = file_with_lab_evidence(deployed, "atlas-under-review")
    assert application["testing_grant_id"]
    # the lab's own run rules cyber-critical out
    lab = {
        (t["metric"], t["level"]): t["outcome"]
        for d in application["assessment"]["domains"]
        for t in d["tests"]
    }
    assert lab[("cyber-ctf-professional", "cyber-critical")] == "ruled_out"
    reg.ok("reviewer", "POST", f"/applications/{application['id']}/assign", json={})
    result = evaluate(
        deployed,
        "reviewer",
        application["id"],
        "--task",
        "ctf_professional",
        "--limit",
        "6",
        "--max-tokens",
        "48",
    )
    assert result.exit_code == 0, result.output
    assert "through the gateway" in result.output
    assert "DISCREPANCY cyber-ctf-professional at cyber-critical" in result.output
    stored = reg.ok("reviewer", "GET", f"/applications/{application['id']}")
    (filed,) = stored["authority_evidence"]
    # the log went through the gateway under the testing grant: Inspect saw the model's answers
    summary = reg.ok("reviewer", "GET", f"/evidence/{filed['sha256']}/summary")
    assert "ctf_professional" in str(summary)
    # the answers were bounded as asked: the run's generation settings say so
    raw = reg.call("reviewer", "GET", f"/evidence/{filed['sha256']}")
    assert raw.status_code == 200
    with zipfile.ZipFile(io.BytesIO(raw.content)) as log:
        header = json.loads(log.read("header.json"))
    assert header["plan"]["config"]["max_tokens"] == 48
    # confidential by default: the public cannot read the bytes
    assert reg.call(None, "GET", f"/evidence/{filed['sha256']}").status_code == 404
    found = {(d["metric"], d["level"]): d for d in stored["discrepancies"]}
    critical = found[("cyber-ctf-professional", "cyber-critical")]
    assert (critical["developer"], critical["authority"]) == ("ruled_out", "cannot_rule_out")
    assert critical["authority_evidence"] == [filed["sha256"]]
    # the assessment over both sides is at least as closed as the lab's alone
    assert stored["authority_assessment"]["max_tier"] != "public"
    # the reviewer's case page shows both sides, the discrepancy flagged
    reg.client.post("/signin", data={"api_key": reg.keys["reviewer"], "next": "/queue"})
    page = reg.client.get(f"/cases/{application['id']}")
    assert page.status_code == 200
    assert "Discrepancy</strong> cyber-ctf-professional at cyber-critical" in page.text
    assert "the authority&#39;s run" in page.text or "the authority's run" in page.text
    reg.client.cookies.clear()
    # relying on the contradicted lab run is a departure that needs a justification
    ctf_lab = critical["developer_evidence"][0]
    decision = {
        "outcome": "approved_with_conditions",
        "conditions": ["Report the cyber range results again in 90 days."],
        "tier": "approved_partners",
        "jurisdictions": ["tier-1"],
        "reasons": [
            {"text": "The lab's CTF run rules the critical level out.", "evidence": [ctf_lab]}
        ],
    }
    refused = reg.call(
        "reviewer", "POST", f"/applications/{application['id']}/decision", json=decision
    )
    assert refused.status_code == 422
    assert "contradicts" in refused.json()["error"]["message"]
    decided = reg.ok(
        "reviewer",
        "POST",
        f"/applications/{application['id']}/decision",
        json=decision
        | {"justification": "The authority's run used six samples; the lab's used forty."},
    )
    assert decided["departure"] is True


def test_a_partner_key_cannot_evaluate_a_model_under_review(deployed: Deployment) -> None:
    application = file_with_lab_evidence(deployed, "atlas-closed")
    result = evaluate(
        deployed, "partner", application["id"], "--task", "ctf_professional", "--limit", "2"
    )
    assert result.exit_code != 0
    message = str(result.exception)
    assert "the gateway answered 403" in message and "not approved" in message
    assert "\n" not in message


def test_a_framework_task_whose_bytes_differ_is_refused(tmp_path: Path) -> None:
    framework = parse_framework(example_path().read_text())
    (tmp_path / "tasks").mkdir()
    for name in ("ctf_professional.py", "ctf_professional.jsonl"):
        (tmp_path / "tasks" / name).write_bytes(example_path(f"tasks/{name}").read_bytes())
    assert resolve_task("ctf_professional", framework, [tmp_path]).framework_task
    with (tmp_path / "tasks" / "ctf_professional.jsonl").open("a") as extra:
        extra.write('{"id": "x", "input": "easy", "target": "easy"}\n')
    with pytest.raises(InvalidInput, match="SHA-256"):
        resolve_task("ctf_professional", framework, [tmp_path])
    with pytest.raises(InvalidInput, match="bio_protocols, ctf_professional"):
        resolve_task("no_such_task", framework, [tmp_path])


def test_the_example_frameworks_tasks_are_its_files() -> None:
    data = yaml.safe_load(example_path().read_text())
    for task in data["tasks"]:
        for item in (task, *task["datasets"]):
            digest = hashlib.sha256(example_path(item["file"]).read_bytes()).hexdigest()
            assert digest == item["sha256"], item["file"]


def test_a_reviewer_runs_the_frameworks_task_through_the_rest_api(deployed: Deployment) -> None:
    reg = deployed.reg
    application = file_with_lab_evidence(deployed, "atlas-rest")
    path = f"/applications/{application['id']}/evaluations"
    # only the framework's own tasks run on the server, and only for reviewers
    other = reg.call("reviewer", "POST", path, json={"task": "/tmp/anything.py"})
    assert other.status_code == 422 and "not a task of" in other.json()["error"]["message"]
    assert reg.call("dev", "POST", path, json={"task": "bio_protocols"}).status_code == 403
    ran = reg.ok(
        "reviewer",
        "POST",
        path,
        json={"task": "bio_protocols", "limit": 4, "epochs": 2, "max_tokens": 40},
        timeout=300,
    )
    (filed,) = ran["authority_evidence"]
    assert filed["name"].startswith("authority-bio_protocols-")
    assert reg.call(None, "GET", f"/evidence/{filed['sha256']}").status_code == 404
    found = {(d["metric"], d["level"]) for d in ran["discrepancies"]}
    assert ("cbrn-protocol-troubleshooting", "cbrn-high") in found
    # two epochs, still reduced as the framework's metric reads them: nothing refused
    assert ran["authority_assessment"]["refused_evidence"] == []
    summary = reg.ok("reviewer", "GET", f"/evidence/{filed['sha256']}/summary")
    assert '"epochs": 2' in json.dumps(summary) or "'epochs': 2" in str(summary)
    # the answers were bounded as asked: the run's generation settings say so
    raw = reg.call("reviewer", "GET", f"/evidence/{filed['sha256']}")
    with zipfile.ZipFile(io.BytesIO(raw.content)) as log:
        header = json.loads(log.read("header.json"))
    assert header["plan"]["config"]["max_tokens"] == 40


def test_a_framework_task_id_is_the_frameworks_file_whatever_the_working_folder_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    framework = parse_framework(example_path().read_text())
    # a file planted in the server's working folder under a task's id is not run
    (tmp_path / "bio_protocols").write_text("print('not the framework task')\n")
    (tmp_path / "mine.py").write_text("print('a task of my own')\n")
    monkeypatch.chdir(tmp_path)
    for resolve in (resolve_task, framework_task):
        resolved = resolve("bio_protocols", framework, [example_path("")])
        assert resolved.framework_task == "bio_protocols"
        assert resolved.path == example_path("tasks/bio_protocols.py")
    # a task file of the user's own is for the command line alone
    assert resolve_task("mine.py", framework, [example_path("")]).framework_task is None
    with pytest.raises(InvalidInput, match="not a task of framework"):
        framework_task("mine.py", framework, [example_path("")])


def test_the_server_calls_its_own_gateway_whatever_the_host_header_says(
    deployed: Deployment,
) -> None:
    seen: list[str] = []

    class Elsewhere(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(self.headers.get("authorization", ""))
            self.send_response(401)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    elsewhere = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
    threading.Thread(target=elsewhere.serve_forever, daemon=True).start()
    try:
        application = file_with_lab_evidence(deployed, "atlas-host")
        address = f"127.0.0.1:{elsewhere.server_port}"
        ran = deployed.reg.call(
            "reviewer",
            "POST",
            f"/applications/{application['id']}/evaluations",
            json={"task": "bio_protocols", "limit": 1, "max_tokens": 20},
            headers={"Host": address, "X-Forwarded-Host": address},
            timeout=300,
        )
    finally:
        elsewhere.shutdown()
        elsewhere.server_close()
    assert seen == [], "the reviewer's key went where the Host header pointed"
    assert ran.status_code == 200, ran.text
    assert len(ran.json()["authority_evidence"]) == 1


def test_the_server_calls_itself_at_a_loopback_address_when_bound_to_every_one() -> None:
    assert own_url("0.0.0.0", 8080) == "http://127.0.0.1:8080"
    assert own_url("::", 8080) == "http://[::1]:8080"
    assert own_url("10.0.0.5", 80) == "http://10.0.0.5:80"


def test_a_model_that_keeps_failing_ends_the_rest_evaluation_with_a_clear_error(
    deployed: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Inspect's default retries a failing server for ever; a bounded run ends (one retry here)
    monkeypatch.setattr(clearance.evaluation._run, "MAX_RETRIES", 1)
    application = file_with_lab_evidence(
        deployed, "atlas-failing", pre_release_upstream="http://127.0.0.1:9/v1"
    )
    deadline = time.monotonic() + 5
    while (
        deployed.gateway_call("reviewer", "/chat/completions", chat("atlas-failing")).status_code
        != 502
    ):
        assert time.monotonic() < deadline, "the gateway never sent the authority upstream"
        time.sleep(0.05)
    failed = deployed.reg.call(
        "reviewer",
        "POST",
        f"/applications/{application['id']}/evaluations",
        json={"task": "bio_protocols", "limit": 1},
        timeout=120,
    )
    assert failed.status_code == 502, failed.text
    error = failed.json()["error"]
    assert error["code"] == "evaluation_failed"
    assert "the gateway answered 502" in error["message"] and "\n" not in error["message"]
    assert (
        deployed.reg.ok("reviewer", "GET", f"/applications/{application['id']}")[
            "authority_evidence"
        ]
        == []
    )


def test_no_run_on_an_application_no_longer_open(deployed: Deployment) -> None:
    reg = deployed.reg
    application = file_with_lab_evidence(deployed, "atlas-withdrawing")
    reg.ok("dev", "POST", f"/applications/{application['id']}/withdraw")
    path = f"/applications/{application['id']}/evaluations"
    refused = reg.call("reviewer", "POST", path, json={"task": "bio_protocols", "limit": 1})
    assert refused.status_code == 409, refused.text
    assert "withdrawn" in refused.json()["error"]["message"]
    # the command line asks the register first, too
    result = evaluate(deployed, "reviewer", application["id"], "--task", "bio_protocols")
    assert result.exit_code != 0 and "withdrawn" in str(result.exception)
