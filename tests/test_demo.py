"""The demo's story is a test: replayed on a fresh register, every claim of demo.json checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from clearance.demo import DEMO_FILE, free_port, prepare, run_story, serving


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    assert prepare(data_dir)
    lines: list[str] = []
    with serving(data_dir, "127.0.0.1", free_port()) as base_url:
        summary = run_story(data_dir, base_url, lines.append)
        yield data_dir, base_url, summary, lines


def test_demo_json_has_the_promised_shape(demo: Any) -> None:
    data_dir, base_url, summary, _ = demo
    written = json.loads((data_dir / DEMO_FILE).read_text())
    assert written == summary
    assert written["base_url"] == f"{base_url}/v1"
    assert written["admin_api_key"].startswith("clr_")
    for organization in written["organizations"]:
        assert set(organization) == {"name", "api_key", "may_call", "may_not_call", "use_cases"}


def test_every_may_call_is_served_and_every_may_not_call_refused(demo: Any) -> None:
    _, _, summary, _ = demo
    for organization in summary["organizations"]:
        with openai.OpenAI(base_url=summary["base_url"], api_key=organization["api_key"]) as c:
            check(c, organization)


def check(client: openai.OpenAI, organization: dict[str, Any]) -> None:
    """Each model the organization may call answers; each other is refused with its code."""
    listed = {model.id for model in client.models.list()}
    for model in organization["may_call"]:
        use_case = organization["use_cases"].get(model)
        headers = {"X-Clearance-Use-Case": use_case} if use_case else None
        answer = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "hello"}], extra_headers=headers
        )
        assert answer.choices[0].message.content, (organization["name"], model)
        assert model in listed, (organization["name"], model)
        if use_case:  # a grant scoped to a use case serves no call that declares none
            with pytest.raises(openai.APIStatusError) as undeclared:
                client.chat.completions.create(
                    model=model, messages=[{"role": "user", "content": "hello"}]
                )
            assert undeclared.value.status_code == 403
    for model, code in organization["may_not_call"].items():
        with pytest.raises(openai.APIStatusError) as refused:
            client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": "hello"}]
            )
        body = refused.value.body
        assert isinstance(body, dict)
        got = body.get("code") or body.get("error", {}).get("code")
        assert got == code, (organization["name"], model, body)
        assert model not in listed


def test_the_story_is_in_the_register(demo: Any) -> None:
    _, base_url, _, lines = demo
    with httpx.Client(base_url=f"{base_url}/api/v1") as api:
        check_register(api, lines)


def check_register(api: httpx.Client, lines: list[str]) -> None:
    """The acts of the story, as the public reads them."""
    atlas = api.get("/models/atlas-2/status").json()
    assert atlas["status"] == "restricted"
    assert len(atlas["restricted_to"]["organizations"]) > 100
    assert api.get("/models/atlas-2/grants").json()["active"] > 100
    directives = api.get("/directives?model=atlas-2").json()["items"]
    assert sorted(d["action"] for d in directives) == ["halt", "restrict"]
    halt = next(d for d in directives if d["action"] == "halt")
    assert (halt["urgent"], halt["state"]) == (True, "superseded")
    # the lab was heard after the urgent halt; the outcome answers its submission
    hearing = api.get(f"/hearings/{halt['hearing_id']}").json()
    assert (hearing["state"], hearing["outcome"]) == ("closed", "modify")
    submission = hearing["submissions"][0]
    assert submission["evidence"] and submission["text"]
    assert submission["id"] in hearing["reasons"][0]["answers"]
    restriction = next(d for d in directives if d["action"] == "restrict")
    assert restriction["id"] == hearing["result_id"] and restriction["state"] == "active"
    assert restriction["limits"]["requests_per_minute"] == 600
    reports = api.get("/reports?model=atlas-2").json()["items"]
    assert "competes with Atlas Labs" in reports[0]["conflict_of_interest"]
    decisions = api.get("/decisions?limit=50").json()["items"]
    assert len(decisions) == 5
    assert all(len(d["reasons"]) == 2 for d in decisions)
    meridian = api.get("/models/meridian-2/status").json()
    assert (meridian["status"], meridian["tier"]) == ("approved", "approved_partners")
    events = api.get("/events?limit=500").json()["items"]
    kinds = {e["kind"] for e in events}
    assert {"information.requested", "appeal.ruled", "access.refused", "report.filed"} <= kinds
    assert {"hearing.opened", "hearing.submission", "hearing.closed", "appeal.vote"} <= kinds
    # the partner's refusal was appealed and decided by a panel of three, 2 to 1
    refusal = next(
        e["data"]
        for e in events
        if e["kind"] == "appeal.ruled" and e["data"]["act"] == "access_refusal"
    )
    assert refusal["ruling"] == "upheld"
    assert sorted(v["vote"] for v in refusal["votes"]) == ["overturned", "upheld", "upheld"]
    assert api.get("/evidence/" + decisions[0]["reasons"][0]["evidence"][0]).status_code == 200
    assert any("Inspect" in line for line in lines)


def test_the_evidence_came_from_real_inspect_runs_through_the_gateway(demo: Any) -> None:
    data_dir, _, _, _ = demo
    from clearance.demo._evals import TASKS
    from clearance.evidence import load_evidence

    run = load_evidence(Path(data_dir) / "evidence" / "atlas-2-cyber" / "ctf_professional.eval")
    assert run.kind == "eval"
    assert run.model == "openai-api/clearance/atlas-2-cyber"
    samples, epochs, _ = TASKS["ctf_professional"]
    assert (run.epochs, run.samples) == (epochs, samples) == (1, 20)


def test_the_register_asks_for_the_effort_the_evals_spent(demo: Any) -> None:
    """The demo's framework, as published, lowers the example's minimums to what the demo ran."""
    from clearance.demo._evals import TASKS

    _, base_url, _, _ = demo
    with httpx.Client(base_url=f"{base_url}/api/v1") as api:
        (published,) = api.get("/frameworks").json()["items"]
        assert (published["id"], published["version"]) == ("frontier-example", "1.0.0-demo")
        framework = api.get(f"/frameworks/{published['sha256']}").json()
    text = json.dumps(framework)
    assert "solved in one attempt" in text and "any of 5 attempts" not in text
    from clearance.demo import framework_text
    from clearance.framework import parse_framework

    for metric in parse_framework(framework_text()).metrics:
        if metric.source.kind == "inspect" and metric.source.task in TASKS:
            samples, epochs, _ = TASKS[metric.source.task]
            assert (metric.elicitation.min_samples, metric.elicitation.min_epochs) == (
                samples,
                epochs,
            )


def test_the_demo_on_a_busy_port_is_one_error_line_and_makes_nothing(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "clearance", "demo", "--data-dir", str(tmp_path / "d"),
             "--port", str(port), "--exit"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: address already in use; is another server "
        "there? choose another --port"
    ]
    assert not (tmp_path / "d").exists()


def test_the_demo_with_the_local_model_but_without_its_extra_says_how_and_makes_nothing(
    tmp_path: Path,
) -> None:
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("llama_cpp") is not None:
        pytest.skip("the local-model extra is installed here (tests/test_local_model.py runs it)")
    result = subprocess.run(
        [sys.executable, "-m", "clearance", "demo", "--local-model", "--data-dir",
         str(tmp_path / "d"), "--port", "0", "--exit"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: the local model needs the local-model extra")
    assert "--no-binary llama-cpp-python 'clearance[local-model]'" in line
    assert not (tmp_path / "d").exists()


def test_a_finished_demo_is_served_again(demo: Any) -> None:
    data_dir, _, _, _ = demo
    assert prepare(data_dir) is False


def test_an_unrelated_folder_is_refused(tmp_path: Path) -> None:
    from clearance.errors import InvalidInput

    (tmp_path / "something.txt").write_text("mine")
    with pytest.raises(InvalidInput):
        prepare(tmp_path)


def test_the_lab_was_told_by_signed_webhooks(demo: Any) -> None:
    import datetime as dt

    from standardwebhooks import Webhook

    data_dir, _, _, lines = demo
    folder = Path(data_dir) / "webhooks"
    webhook = Webhook((folder / "atlas-labs.secret").read_text().strip())
    received = [json.loads(line) for line in (folder / "atlas-labs.jsonl").read_text().splitlines()]
    told = []
    for delivery in received:
        headers, body = delivery["headers"], delivery["body"]
        # signed as the independent implementation signs (its verify() also checks the age)
        at = dt.datetime.fromtimestamp(int(headers["webhook-timestamp"]), dt.UTC)
        expected = webhook.sign(headers["webhook-id"], at, body)
        assert expected in headers["webhook-signature"].split(" ")
        told.append(json.loads(body))
    types = {notice["type"] for notice in told}
    assert {"application.filed", "decision.made", "directive.issued", "hearing.opened"} <= types
    halt = next(
        n
        for n in told
        if n["type"] == "directive.issued" and n["data"]["records"][0]["action"] == "halt"
    )
    assert halt["data"]["model"]["name"] == "atlas-2"
    assert len({d["headers"]["webhook-id"] for d in received}) == len(received)  # none twice
    assert any("What Atlas Labs was told" in line for line in lines)
    assert any("directive.issued" in line for line in lines)


def test_the_authority_tested_one_model_itself(demo: Any) -> None:
    _, base_url, _, lines = demo
    assert any(line.startswith("  DISCREPANCY cyber-ctf-professional") for line in lines)
    assert any("the reviewer departs, in writing" in line for line in lines)
    with httpx.Client(base_url=f"{base_url}/api/v1") as api:
        tested = api.get("/applications?model=meridian-2").json()["items"][0]
        (filed,) = tested["authority_evidence"]
        assert api.get(f"/evidence/{filed['sha256']}").status_code == 404  # confidential
        assert tested["discrepancies"]
        decision = api.get(f"/decisions/{tested['decision_id']}").json()
        assert (
            decision["departure"] is True
            and "authority's own CTF run" in (decision["justification"])
        )
        others = api.get("/applications?model=meridian-3").json()["items"][0]
        assert others["authority_evidence"] == [] and others["discrepancies"] == []


def test_an_inspect_process_that_dies_is_one_clear_error(tmp_path: Path) -> None:
    import os
    import signal

    from clearance.demo._evals import EvalsFailed, EvalWorker

    worker = EvalWorker(tmp_path / "inspect.log", processes=2)
    try:
        assert worker.size == 2
        if len(worker.processes) == 1:  # Linux: one process, and the copy it forks
            os.killpg(worker.processes[0].pid, signal.SIGKILL)
        else:
            for process in worker.processes:
                process.kill()
        with pytest.raises(EvalsFailed, match=r"Inspect process [12] of 2 ended early \(its "):
            worker.next(timeout=60)
    finally:
        worker.close()
