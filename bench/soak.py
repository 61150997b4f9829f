"""Soak: a steady rate through three gateway replicas for ten minutes, and halts timed to all.

Everything runs on 127.0.0.1 as real processes: `clearance serve` (SQLite in a temporary
folder, or `--database-url`), the packaged fake upstream (`clearance fake-upstream`), a
redis-server of its own on a free port (for shared limits and snapshot pushes; `--no-redis`
leaves it out and the replicas poll), and `--replicas` (3) x `clearance gateway`. The load
goes round-robin over the replicas at `--rate` calls a second on keep-alive connections. Beside
it, every `--directive-every` seconds the authority halts a second model and each replica is
probed every 10 ms until it refuses (`model_halted`): the time to the last replica is that
directive's propagation; then it restores the model and waits until every replica serves it
again. Each replica's resident memory is sampled every 5 s; growth is measured from the sample
after `--warmup` seconds (allocator pools and caches fill first) to the last. At the end the
register's usage totals are compared with the calls that were answered (metering exact).

    python bench/soak.py --minutes 10 --json bench/_work/soak.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

WEIGHTS = "ab" * 32
STEADY = "soak-steady"
HALTED = "soak-halt"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


class Processes:
    """Started commands, stopped together; each one's output in a file of the work folder."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        out = (self.work / f"{name}.log").open("wb")
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        self.started.append(process)
        return process

    def stop(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.terminate()
        for process in self.started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


class Register:
    """The admin's calls to the register's API."""

    def __init__(self, url: str, admin_key: str) -> None:
        self.client = httpx.Client(base_url=f"{url}/api/v1", timeout=30)
        self.keys = {"admin": admin_key}

    def ok(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.request(
            method, path, headers={"Authorization": f"Bearer {self.keys[who]}"}, **kwargs
        )
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def set_up(self) -> None:
        authority = self.ok("admin", "GET", "/principals/me")["organization_id"]
        dev = self.ok(
            "admin",
            "POST",
            "/organizations",
            json={"name": "Soak Labs", "kind": "developer", "jurisdiction": "US"},
        )["id"]
        partner = self.ok(
            "admin",
            "POST",
            "/organizations",
            json={
                "name": "Soak Agency",
                "kind": "partner",
                "jurisdiction": "US",
                "sector": "government",
            },
        )["id"]
        for name, org, role in (
            ("dev", dev, "developer"),
            ("reviewer", authority, "reviewer"),
            ("partner", partner, "partner"),
        ):
            body = {"organization_id": org, "name": f"soak {name}", "roles": [role]}
            self.keys[name] = self.ok("admin", "POST", "/principals", json=body)["api_key"]
        for model in (STEADY, HALTED):
            self.approve(model)

    def approve(self, model: str) -> None:
        self.ok(
            "dev",
            "POST",
            "/models",
            json={"name": model, "version": "1.0", "weights_digest": WEIGHTS},
        )
        application = self.ok(
            "dev",
            "POST",
            "/applications",
            json={
                "model": model,
                "requested_tier": "public",
                "requested_jurisdictions": ["tier-1", "tier-2"],
            },
        )
        self.ok("reviewer", "POST", f"/applications/{application['id']}/assign", json={})
        self.ok(
            "reviewer",
            "POST",
            f"/applications/{application['id']}/decision",
            json={
                "outcome": "approved",
                "tier": "public",
                "jurisdictions": ["tier-1", "tier-2"],
                "reasons": [{"text": "Soak fixture.", "rules": ["evidence.missing"]}],
                "justification": "Soak benchmark: the evaluations are out of scope here.",
            },
        )

    def directive(self, action: str) -> None:
        body = {"action": action, "model": HALTED, "grounds": f"Soak: {action}."}
        if action == "halt":  # a halt takes effect at once only when urgent (heard after)
            body["urgent"] = True
        self.ok("admin", "POST", "/directives", json=body)

    def usage(self, model: str) -> int:
        items = self.ok("admin", "GET", "/usage")["items"]
        return sum(int(i["calls"]) for i in items if i["model"] == model)


async def steady_load(
    urls: list[str], key: str, rate: float, seconds: float, stats: dict[str, Any]
) -> None:
    import aiohttp

    body = json.dumps({"model": STEADY, "messages": [{"role": "user", "content": "soak"}]})
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    latencies: list[float] = stats["latencies_ms"]
    per_replica: list[dict[str, int]] = stats["per_replica"]

    async def call(session: aiohttp.ClientSession, index: int) -> None:
        start = time.perf_counter()
        try:
            async with session.post(urls[index], data=body, headers=headers) as response:
                await response.read()
                status = response.status
        except Exception as exc:
            stats["errors"] += 1
            stats["error_samples"].append(f"replica {index}: {type(exc).__name__}: {exc}"[:200])
            return
        latencies.append((time.perf_counter() - start) * 1000)
        per_replica[index][str(status)] = per_replica[index].get(str(status), 0) + 1
        if status != 200:
            stats["errors"] += 1

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        tasks: set[asyncio.Task[None]] = set()
        begin = time.monotonic()
        total = int(rate * seconds)
        for n in range(total):
            delay = begin + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                stats["behind_schedule"] += 1
            task = asyncio.create_task(call(session, n % len(urls)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        stats["sent"] = total


async def directives(
    register: Register,
    urls: list[str],
    key: str,
    every: float,
    until: float,
    stats: dict[str, Any],
) -> None:
    import aiohttp

    body = json.dumps({"model": HALTED, "messages": [{"role": "user", "content": "probe"}]})
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    async def probe_until(session: aiohttp.ClientSession, url: str, status: int) -> float:
        start = time.monotonic()
        while True:
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status == status:
                    return time.monotonic() - start
                if response.status not in (200, 403):
                    stats["probe_errors"] += 1
            if time.monotonic() - start > 30:
                raise RuntimeError(f"{url} never answered {status}")
            await asyncio.sleep(0.01)

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while time.monotonic() + every < until:
            started = time.monotonic()
            issued = time.monotonic()
            await asyncio.to_thread(register.directive, "halt")
            api = time.monotonic() - issued
            each = await asyncio.gather(*(probe_until(session, url, 403) for url in urls))
            # from the moment the act was sent (the API call included), and from its answer
            # (the act committed) to the last replica refusing
            stats["halt_to_all_s"].append(api + max(each))
            stats["after_commit_s"].append(max(each))
            stats["api_s"].append(api)
            await asyncio.to_thread(register.directive, "restore")
            await asyncio.gather(*(probe_until(session, url, 200) for url in urls))
            await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))


async def sample_memory(pids: dict[str, int], until: float, samples: dict[str, list]) -> None:  # type: ignore[type-arg]
    start = time.monotonic()
    while time.monotonic() < until:
        for name, pid in pids.items():
            with contextlib.suppress(OSError):
                samples[name].append((round(time.monotonic() - start, 1), rss_kib(pid)))
        await asyncio.sleep(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=60.0, help="Steady calls a second, in all.")
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="Workers per replica.")
    parser.add_argument("--directive-every", type=float, default=4.0)
    parser.add_argument("--warmup", type=float, default=60.0)
    parser.add_argument("--poll", type=float, default=0.5, help="The replicas' snapshot polls.")
    parser.add_argument("--no-redis", action="store_true")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="clearance-soak-"))
    procs = Processes(work)
    clearance = [sys.executable, "-m", "clearance"]
    result: dict[str, Any] = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "load_average": os.getloadavg(),
    }
    try:
        redis_url = None
        if not args.no_redis:
            binary = shutil.which("redis-server")
            if binary is None:
                raise SystemExit("redis-server is not installed (or pass --no-redis)")
            redis_port = free_port()
            procs.start(
                "redis", binary, "--port", str(redis_port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(work),
            )  # fmt: skip
            redis_url = f"redis://127.0.0.1:{redis_port}/0"
        data = work / "data"
        init = [*clearance, "init", "--data-dir", str(data), "--example-framework"]
        if args.database_url:
            init += ["--database-url", args.database_url]
        subprocess.run(init, check=True, capture_output=True)
        upstream_port = free_port()
        procs.start("upstream", *clearance, "fake-upstream", "--port", str(upstream_port))
        upstreams = work / "upstreams.json"
        upstreams.write_text(
            json.dumps({"*": {"base_url": f"http://127.0.0.1:{upstream_port}/v1"}})
        )
        register_port = free_port()
        serve = [*clearance, "serve", "--data-dir", str(data), "--port", str(register_port)]
        if redis_url:
            serve += ["--redis", redis_url]
        register_process = procs.start("register", *serve)
        register_url = f"http://127.0.0.1:{register_port}"
        wait_http(f"{register_url}/healthz")
        register = Register(register_url, (data / "admin.key").read_text().strip())
        register.set_up()

        replicas: list[subprocess.Popen[bytes]] = []
        urls = []
        for n in range(args.replicas):
            port = free_port()
            command = [
                *clearance, "gateway", "--register", register_url,
                "--vkey", str(data / "authority.vkey"),
                "--token-file", str(data / "gateway.token"),
                "--upstreams", str(upstreams), "--port", str(port),
                "--workers", str(args.workers), "--poll", str(args.poll),
                "--spool", str(work / f"spool-{n}"),
            ]  # fmt: skip
            if redis_url:
                command += ["--redis", redis_url, "--min-replicas", str(args.replicas)]
            replicas.append(procs.start(f"replica-{n}", *command))
            wait_http(f"http://127.0.0.1:{port}/healthz")
            urls.append(f"http://127.0.0.1:{port}/v1/chat/completions")
        key = register.keys["partner"]
        for url in urls:  # every replica has the models before the clock starts
            deadline = time.monotonic() + 30
            while (
                httpx.post(
                    url,
                    json={"model": STEADY, "messages": [{"role": "user", "content": "warm"}]},
                    headers={"Authorization": f"Bearer {key}"},
                ).status_code
                != 200
            ):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} never served the model")
                time.sleep(0.1)
        warm_calls = len(urls)

        # memory is sampled in the replica's serving process: the supervisor alone with one
        # worker, its worker children otherwise
        pids = {f"replica-{n}": _serving_pid(p.pid) for n, p in enumerate(replicas)}
        pids["register"] = register_process.pid
        seconds = args.minutes * 60
        stats: dict[str, Any] = {
            "latencies_ms": [],
            "per_replica": [{} for _ in urls],
            "errors": 0,
            "error_samples": [],
            "behind_schedule": 0,
            "sent": 0,
        }
        directive_stats: dict[str, Any] = {
            "halt_to_all_s": [],
            "after_commit_s": [],
            "api_s": [],
            "probe_errors": 0,
        }
        memory: dict[str, list[tuple[float, int]]] = {name: [] for name in pids}

        async def run() -> None:
            until = time.monotonic() + seconds
            await asyncio.gather(
                steady_load(urls, key, args.rate, seconds, stats),
                directives(register, urls, key, args.directive_every, until, directive_stats),
                sample_memory(pids, until + 1, memory),
            )

        print(f"soak: {args.minutes:g} min at {args.rate:g}/s over {len(urls)} replicas ...")
        asyncio.run(run())
        # the register's totals catch up with the journals (replicas report every 5 s)
        answered = sum(r.get("200", 0) for r in stats["per_replica"]) + warm_calls
        deadline = time.monotonic() + 30
        while (metered := register.usage(STEADY)) != answered and time.monotonic() < deadline:
            time.sleep(0.5)
        halts = directive_stats["halt_to_all_s"]
        growth = {}
        for name, series in memory.items():
            after = [kib for at, kib in series if at >= args.warmup] or [kib for _, kib in series]
            growth[name] = {
                "first_kib": series[0][1] if series else None,
                "baseline_kib": after[0] if after else None,
                "last_kib": after[-1] if after else None,
                "max_kib": max(after) if after else None,
                "growth_percent": round((after[-1] - after[0]) / after[0] * 100, 2)
                if after
                else None,
            }
        latencies = stats["latencies_ms"]
        result.update(
            {
                "steady": {
                    "sent": stats["sent"],
                    "answered_200": answered - warm_calls,
                    "errors": stats["errors"],
                    "error_samples": stats["error_samples"][:10],
                    "per_replica": stats["per_replica"],
                    "behind_schedule": stats["behind_schedule"],
                    "latency_ms": {
                        "p50": percentile(latencies, 0.5),
                        "p99": percentile(latencies, 0.99),
                        "max": max(latencies) if latencies else None,
                    },
                },
                "directives": {
                    "count": len(halts),
                    "halt_to_all_replicas_s": {
                        "p50": percentile(halts, 0.5),
                        "p99": percentile(halts, 0.99),
                        "max": max(halts) if halts else None,
                    },
                    "committed_to_all_replicas_s": {
                        "p50": percentile(directive_stats["after_commit_s"], 0.5),
                        "p99": percentile(directive_stats["after_commit_s"], 0.99),
                    },
                    "directive_api_call_s": {
                        "p50": percentile(directive_stats["api_s"], 0.5),
                        "p99": percentile(directive_stats["api_s"], 0.99),
                    },
                    "probe_errors": directive_stats["probe_errors"],
                },
                "memory": growth,
                "metering": {"answered": answered, "metered": metered},
                "load_average_after": os.getloadavg(),
            }
        )
    finally:
        procs.stop()
        shutil.rmtree(work, ignore_errors=True)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    steady = result["steady"]
    replicas_growth = [g["growth_percent"] for n, g in result["memory"].items() if n != "register"]
    print(
        f"errors {steady['errors']} of {steady['sent']}; halt to all replicas p50 "
        f"{result['directives']['halt_to_all_replicas_s']['p50']:.3f} s, p99 "
        f"{result['directives']['halt_to_all_replicas_s']['p99']:.3f} s over "
        f"{result['directives']['count']} directives; replica memory growth {replicas_growth} %; "
        f"metered {result['metering']['metered']} of {result['metering']['answered']} answered"
    )


def _serving_pid(pid: int) -> int:
    """The worker serving for a replica with one worker is the process itself."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                if int(re.split(r"\) ", stat, maxsplit=1)[1].split()[1]) == pid:
                    children.append(int(entry.name))
    return children[0] if len(children) == 1 else pid


if __name__ == "__main__":
    main()
