"""Register benchmark: a model's public status read with 10,000 applications and 100,000 events.

Builds a register on SQLite through the real domain acts and store (the events are the acts'
own events), then times, side by side in one run:

- reference: a bare sqlite3 SELECT of the same status row (the floor any API could reach);
- store: `Transaction.find_one(ModelStatus, name=...)` through SQLAlchemy;
- http: GET /api/v1/models/{name}/status on a real uvicorn server over a socket;
- list: GET /api/v1/applications?limit=50 (every list is paginated).

Usage: python bench/register.py [--applications 10000] [--events 100000] [--reads 2000]
       [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import socket
import sqlite3
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from clearance.examples import example_path
from clearance.framework import assess, assessment_to_dict, parse_framework
from clearance.register import (
    Change,
    Event,
    ModelConfig,
    Organization,
    Principal,
    assign_reviewer,
    create_organization,
    create_principal,
    file_application,
    register_model,
)
from clearance.server import build_app, init_data_dir
from clearance.store import Store

START = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def build(store: Store, applications: int, events: int) -> list[str]:
    """Fill the register; returns the model names."""
    framework = parse_framework(example_path().read_text())
    from clearance.framework import framework_digest

    digest = framework_digest(framework)
    assessment = assessment_to_dict(assess(framework, []))
    models: list[ModelConfig] = []
    with store.transaction() as tx:
        admin = tx.find(Principal)[0]
        dev_org = Organization(
            id="org_bench_dev", name="Bench Labs", kind="developer", jurisdiction="US",
            created_at=START,
        )  # fmt: skip
        tx.apply(create_organization(dev_org, admin))
        dev = Principal(
            id="pri_bench_dev", organization_id=dev_org.id, name="dev", roles=("developer",),
            created_at=START,
        )  # fmt: skip
        tx.add_principal(dev, "benchdev00000000", "0" * 64)
        tx.apply(create_principal(dev, dev_org, admin))
        reviewer = tx.find(Principal, organization_id=admin.organization_id)[0]
        reviewer = reviewer.model_copy(update={"roles": ("admin", "reviewer")})
        for index in range(applications // 10):
            model = ModelConfig(
                id=f"mdl_{index:06d}", organization_id=dev_org.id, name=f"bench-model-{index:05d}",
                version="1", weights_digest=f"{index:064x}", created_at=START,
            )  # fmt: skip
            tx.apply(register_model(model, dev, START))
            models.append(model)
    per_application = max(1, events // applications)
    written = 0
    batch: list[Change] = []
    for index in range(applications):
        model = models[index % len(models)]
        now = START + dt.timedelta(minutes=index)
        filed = file_application(
            new_id=f"app_{index:06d}", model=model, principal=dev, framework=framework,
            framework_digest=digest, requested_tier="public", requested_jurisdictions=("tier-1",),
            evidence=(), safeguards=(), assessment=assessment, self_assessment=None, now=now,
        )  # fmt: skip
        assigned = assign_reviewer(filed.records[0], reviewer, reviewer, now)  # type: ignore[arg-type]
        change = filed + assigned
        # pad with notes so the register holds `events` events in all
        extra = per_application - len(change.events)
        notes = tuple(
            Event(
                kind="information.answered",
                subject=f"app_{index:06d}",
                model_id=model.id,
                actor=dev.id,
                at=now,
                data={"note": n},
            )
            for n in range(max(0, extra))
        )
        batch.append(Change(change.records[-1:], change.events + notes))
        written += len(batch[-1].events)
        if len(batch) == 200:
            _flush(store, batch)
            batch = []
    _flush(store, batch)
    print(f"built {applications} applications, {written} events, {len(models)} models")
    return [m.name for m in models]


def _flush(store: Store, batch: list[Change]) -> None:
    with store.transaction() as tx:
        for change in batch:
            tx.apply(change)


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
        "median_ms": round(statistics.median(ordered), 4),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=2_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data_dir, _ = init_data_dir(Path(folder) / "data", now=START)
        store = data_dir.open_store()
        began = time.perf_counter()
        names = build(store, args.applications, args.events)
        print(f"build took {time.perf_counter() - began:.1f} s")
        with store.read() as tx:
            events = tx.connection.exec_driver_sql("select count(*) from events").scalar()
            apps = tx.connection.exec_driver_sql("select count(*) from applications").scalar()
        rng = random.Random(1)
        raw = sqlite3.connect(data_dir.database_url.removeprefix("sqlite:///"))

        def reference() -> None:
            raw.execute(
                "select body from model_status where name = ?", (rng.choice(names),)
            ).fetchone()

        def through_store() -> None:
            from clearance.register import ModelStatus

            with store.read() as tx:
                tx.find_one(ModelStatus, name=rng.choice(names))

        port = _free_port()
        app = build_app(store, clock_interval=None)
        server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}")

        def over_http() -> None:
            response = client.get(f"/api/v1/models/{rng.choice(names)}/status")
            assert response.status_code == 200

        def list_page() -> None:
            assert client.get("/api/v1/applications?limit=50").status_code == 200

        for warm in (reference, through_store, over_http, list_page):
            timings(warm, 50)
        results = {
            "applications": apps,
            "events": events,
            "reference_sqlite3": summary(timings(reference, args.reads)),
            "store": summary(timings(through_store, args.reads)),
            "http_status": summary(timings(over_http, args.reads)),
            "http_list_50": summary(timings(list_page, args.reads // 4)),
        }
        base = results["reference_sqlite3"]["median_ms"]
        results["ratios_to_reference"] = {
            key: round(results[key]["median_ms"] / base, 1)
            for key in ("store", "http_status", "http_list_50")
        }
        server.should_exit = True
        thread.join()
        client.close()
        raw.close()
        store.engine.dispose()
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    main()
