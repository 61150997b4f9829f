"""Web benchmark: the home page of a register with 1,000 models, rendered server-side.

Builds a register on SQLite through the REST API (1,000 models, 300 applications of which 150
are decided, 20 halt directives; every act signed into the log), then times, side by side:

- reference: the same template rendered from data already read (Jinja2 alone);
- data: the home page's queries alone (`home_data`);
- in-process: GET / through the ASGI app (Starlette's TestClient, no socket);
- http: GET / on a real uvicorn server over a socket (httpx client);
- json: GET /api/v1/models?limit=500, the JSON list endpoint, for comparison (half the models:
  500 is its largest page).

Usage: python bench/web.py [--models 1000] [--reads 200] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi.testclient import TestClient

from clearance.server import build_app, init_data_dir
from clearance.web import render
from clearance.web._home import home_data

START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
TARGET_MS = 100.0


def build(client: TestClient, admin: str, models: int) -> None:
    """Fill the register through the API, as its users would."""

    def ok(key: str, method: str, path: str, **kwargs: Any) -> Any:
        response = client.request(
            method, f"/api/v1{path}", headers={"Authorization": f"Bearer {key}"}, **kwargs
        )
        assert response.status_code < 300, response.text
        return response.json()

    authority = ok(admin, "GET", "/principals/me")["organization_id"]
    org = ok(admin, "POST", "/organizations", json={"name": "Bench Labs", "kind": "developer",
             "jurisdiction": "US"})["id"]  # fmt: skip
    dev = ok(admin, "POST", "/principals", json={"organization_id": org, "name": "dev",
             "roles": ["developer"]})["api_key"]  # fmt: skip
    reviewer = ok(admin, "POST", "/principals", json={"organization_id": authority,
                  "name": "reviewer", "roles": ["reviewer"]})["api_key"]  # fmt: skip
    for index in range(models):
        ok(dev, "POST", "/models", json={"name": f"bench-model-{index:05d}", "version": "1",
           "weights_digest": f"{index:064x}"})  # fmt: skip
    for index in range(min(300, models)):
        app = ok(
            dev,
            "POST",
            "/applications",
            json={
                "model": f"bench-model-{index:05d}",
                "requested_tier": "approved_partners",
                "requested_jurisdictions": ["tier-1"],
            },
        )
        if index % 2 == 0:
            ok(reviewer, "POST", f"/applications/{app['id']}/assign", json={})
            ok(reviewer, "POST", f"/applications/{app['id']}/decision", json={
                "outcome": "approved_with_conditions", "tier": "approved_partners",
                "jurisdictions": ["tier-1"], "conditions": ["Report usage monthly."],
                "reasons": [{"text": "Partners only until evaluations are filed.",
                             "rules": ["evidence.missing"]}],
                "justification": "Named partners under monitoring pose an acceptable risk.",
            })  # fmt: skip
    for index in range(300, min(320, models)):
        ok(admin, "POST", "/directives", json={"action": "halt",
           "model": f"bench-model-{index:05d}", "grounds": "Benchmark halt.",
           "urgent": True})  # fmt: skip


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve the app with uvicorn on a free port in a thread; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


def timings(function: Any, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data_dir, admin = init_data_dir(Path(folder) / "data", now=START)
        store = data_dir.open_store()
        app = build_app(store, clock=lambda: START, clock_interval=None)
        began = time.perf_counter()
        with TestClient(app) as client:
            build(client, admin, args.models)
            print(f"build took {time.perf_counter() - began:.1f} s")
            with store.read() as tx:
                data = home_data(tx, START)
            page = client.get("/")
            assert page.status_code == 200 and page.text.count("/models/bench-model-") >= (
                args.models
            )

            def reference() -> None:
                render("home.html", signed_in=None, path="/", **data)

            def query() -> None:
                with store.read() as tx:
                    home_data(tx, START)

            def in_process() -> None:
                assert client.get("/").status_code == 200

            with serving(app) as base, httpx.Client(base_url=base) as http:

                def over_http() -> None:
                    assert http.get("/").status_code == 200

                def json_list() -> None:
                    assert http.get("/api/v1/models?limit=500").status_code == 200

                cases = {
                    "reference_template": reference,
                    "data_queries": query,
                    "in_process_get": in_process,
                    "http_get": over_http,
                    "http_json_list_500": json_list,
                }
                for warm in cases.values():
                    timings(warm, 10)
                results: dict[str, Any] = {
                    "models": len(data["models"]),
                    "pending": len(data["pending"]),
                    "directives": len(data["directives"]),
                    "page_bytes": len(page.content),
                }
                for name, case in cases.items():
                    results[name] = summary(timings(case, args.reads))
        base_ms = results["reference_template"]["median_ms"]
        results["ratios_to_reference"] = {
            name: round(results[name]["median_ms"] / base_ms, 2) for name in cases
        }
        results["target_ms"] = TARGET_MS
        results["meets_target"] = results["http_get"]["median_ms"] < TARGET_MS
        store.engine.dispose()
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
